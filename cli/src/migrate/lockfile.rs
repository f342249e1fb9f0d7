//! What adding leakcheck does to the lockfile's tokio: a lock below leakcheck's floor moves up
//! on the next build, and a test that breaks only then was broken by tokio's upgrade, which a
//! user would otherwise blame on leakcheck.

use std::path::Path;

/// The oldest tokio leakcheck builds with: its own `Cargo.toml` declares it (a test holds the
/// two together).
pub(crate) const TOKIO_FLOOR: &str = "1.51.0";

/// A note for the migration's output when `Cargo.lock` under `root` holds a tokio below
/// [`TOKIO_FLOOR`].
pub(super) fn tokio_below_floor(root: &Path) -> Option<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).ok()?;
    let locked = locked_version(&lock, "tokio")?;
    (version_key(&locked)? < version_key(TOKIO_FLOOR)?).then(|| {
        format!(
            "note: Cargo.lock holds tokio {locked}, below leakcheck's floor {TOKIO_FLOOR}: the next build moves it to the newest 1.x cargo finds ({TOKIO_FLOOR} at least). A test that breaks then may be broken by that upgrade: `cargo update -p tokio` alone, before the migration, tells.\n"
        )
    })
}

/// The version of the first package `name` in a lockfile.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let document: toml_edit::DocumentMut = lock.parse().ok()?;
    document
        .get("package")?
        .as_array_of_tables()?
        .iter()
        .find(|package| package.get("name").and_then(|item| item.as_str()) == Some(name))?
        .get("version")?
        .as_str()
        .map(str::to_owned)
}

/// `1.32.0` as numbers to compare; `None` for what is not a plain release.
fn version_key(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_tokio_in_the_lock_is_said_with_what_it_becomes() {
        let directory =
            std::env::temp_dir().join(format!("leakcheck-lockfile-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a scratch directory");
        let lock = |version: &str| {
            format!(
                "version = 4\n\n[[package]]\nname = \"bytes\"\nversion = \"1.5.0\"\n\n[[package]]\nname = \"tokio\"\nversion = \"{version}\"\n"
            )
        };
        std::fs::write(directory.join("Cargo.lock"), lock("1.32.0")).expect("a lockfile");
        let note = tokio_below_floor(&directory).expect("below the floor");
        assert!(
            note.starts_with(&format!(
                "note: Cargo.lock holds tokio 1.32.0, below leakcheck's floor {TOKIO_FLOOR}: the next build moves it"
            )),
            "{note}"
        );
        std::fs::write(directory.join("Cargo.lock"), lock(TOKIO_FLOOR)).expect("a lockfile");
        assert_eq!(tokio_below_floor(&directory), None);
        let _ = std::fs::remove_dir_all(&directory);
    }

    #[test]
    fn the_floor_is_the_one_leakcheck_declares() {
        let manifest = include_str!("../../../Cargo.toml");
        assert!(
            manifest.contains(&format!("tokio = {{ version = \"{TOKIO_FLOOR}\"")),
            "leakcheck's Cargo.toml declares another tokio floor than {TOKIO_FLOOR}"
        );
    }
}
