//! Source paths as a report prints them.
//!
//! tokio gives a dependency's spawn site as the whole path into cargo's cache, like
//! `/home/me/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/bb8-0.9.1/src/inner.rs`.
//! The part a reader needs starts at the crate's own directory: `bb8-0.9.1/src/inner.rs`.
//! The JSON report keeps the whole path, for tools.

use std::panic::Location;

/// Where cargo unpacks registry releases (`<index>/<crate>-<version>/`) and checks out git
/// dependencies (`<repo>-<hash>/<rev>/`).
const CACHE_DIRECTORIES: [(&str, usize); 2] = [("registry/src", 1), ("git/checkouts", 0)];

/// `path` from the directory of the dependency it belongs to, or `path` itself when it is not
/// in cargo's cache.
pub(crate) fn short(path: &str) -> &str {
    let components: Vec<(usize, &str)> = path
        .match_indices(['/', '\\'])
        .map(|(at, _)| at + 1)
        .zip(path.split(['/', '\\']).skip(1))
        .collect();
    for (marker, skipped) in CACHE_DIRECTORIES {
        let (first, second) = marker.split_once('/').unwrap_or((marker, ""));
        let found = components
            .windows(2)
            .rposition(|pair| pair[0].1 == first && pair[1].1 == second);
        // After the marker come `skipped` directories of cargo's own (the index's), then the
        // crate's directory.
        if let Some(&(start, _)) = found.and_then(|at| components.get(at + 2 + skipped)) {
            return &path[start..];
        }
    }
    path
}

/// `file:line:col` with the file shortened as [`short`] does.
pub(crate) fn location(at: &Location<'_>) -> String {
    format!("{}:{}:{}", short(at.file()), at.line(), at.column())
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn a_registry_release_starts_at_its_crate_directory() {
        assert_eq!(
            short(
                "/home/me/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/bb8-0.9.1/src/inner.rs:28:13"
            ),
            "bb8-0.9.1/src/inner.rs:28:13"
        );
        assert_eq!(
            short(
                r"C:\Users\me\.cargo\registry\src\index.crates.io-1949cf8c6b5b557f\bb8-0.9.1\src\inner.rs"
            ),
            r"bb8-0.9.1\src\inner.rs"
        );
    }

    #[test]
    fn a_git_checkout_starts_at_its_repository_directory() {
        assert_eq!(
            short("/home/me/.cargo/git/checkouts/bb8-5f2b1a0c9e8d7f6a/1a2b3c4/bb8/src/inner.rs"),
            "bb8-5f2b1a0c9e8d7f6a/1a2b3c4/bb8/src/inner.rs"
        );
    }

    #[test]
    fn other_paths_are_kept() {
        for path in [
            "src/feed.rs",
            "pool/src/inner.rs",
            "/work/vendor/bb8/src/inner.rs",
            "/home/me/registry/src",
        ] {
            assert_eq!(short(path), path);
        }
    }
}
