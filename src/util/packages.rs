//! Which package a source file belongs to, read from the nearest `Cargo.toml` above it.
//!
//! A crate's code can live anywhere: unpacked from a registry (`bb8-0.9.1/src/`), checked out
//! from git, in a member of the workspace under test (`pool/src/`), or in a path dependency.
//! Every one of them has its manifest above its sources, so the manifest, not the directory's
//! name, says which crate a spawn site is in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::util::sync::lock;

/// What each source file asked about so far belongs to: every leaked task of a suite asks for
/// its file, and a file's manifest does not change while the process runs.
static KNOWN: OnceLock<Mutex<HashMap<String, Option<Package>>>> = OnceLock::new();
/// The workspace root, worked out once: the process's environment does not change.
static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();

/// A package that owns a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Package {
    /// Its name, with `_` written `-`, as rules compare it.
    pub(crate) name: String,
}

/// The package that owns `file`, a path as the compiler recorded it: relative to the
/// workspace root for workspace members, absolute otherwise. `None` when the file is not on
/// this machine (a binary built elsewhere) or no manifest above it names a package.
pub(crate) fn owning(file: &str) -> Option<Package> {
    let known = KNOWN.get_or_init(Mutex::default);
    if let Some(package) = lock(known).get(file) {
        return package.clone();
    }
    let package = find(file);
    lock(known).insert(file.to_owned(), package.clone());
    package
}

fn find(file: &str) -> Option<Package> {
    let on_disk = locate(Path::new(file))?;
    let mut directory = on_disk.parent();
    while let Some(candidate) = directory {
        if let Some(name) = package_name(&candidate.join("Cargo.toml")) {
            return Some(Package { name });
        }
        directory = candidate.parent();
    }
    None
}

/// The file on disk: the compiler records the files of workspace members relative to the
/// workspace root, others absolute.
fn locate(file: &Path) -> Option<PathBuf> {
    if file.is_absolute() {
        return file.is_file().then(|| file.to_path_buf());
    }
    let on_disk = workspace_root()?.join(file);
    on_disk.is_file().then_some(on_disk)
}

/// The root of the workspace under test. Tests run in their package's directory; the
/// workspace root is the nearest directory from there up whose manifest has a `[workspace]`
/// table, or the package's own directory when none has.
fn workspace_root() -> Option<&'static PathBuf> {
    ROOT.get_or_init(|| {
        let package = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())?;
        let workspace = package.ancestors().find(|directory| {
            std::fs::read_to_string(directory.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
        });
        Some(workspace.unwrap_or(&package).to_path_buf())
    })
    .as_ref()
}

/// The `name` of the `[package]` table of a manifest, if it has one.
///
/// A line scan, not a TOML parser: cargo writes and users keep `name = "..."` on a line of
/// its own under `[package]`, and pulling a TOML parser into every test build for this one key
/// would cost more than it gives.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package =
                line.trim_end_matches(|c: char| c == ']' || c.is_whitespace()) == "[package";
            continue;
        }
        if !in_package {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() == "name" {
            let value = value.trim();
            let quote = value.chars().next().filter(|c| matches!(c, '"' | '\''))?;
            let (name, _) = value[1..].split_once(quote)?;
            return Some(name.replace('_', "-"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_name_is_read_from_its_table() {
        let directory =
            std::env::temp_dir().join(format!("leakcheck-packages-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a scratch directory");
        let manifest = directory.join("Cargo.toml");
        std::fs::write(
            &manifest,
            "[workspace]\nmembers = [\"x\"]\n\n[package]\nversion = \"0.1.0\"\nname = \"my_pool\" # ours\n\n[dependencies]\nname = \"not this\"\n",
        )
        .expect("a manifest");
        assert_eq!(package_name(&manifest).as_deref(), Some("my-pool"));
        std::fs::write(&manifest, "[workspace]\nmembers = []\n").expect("a manifest");
        assert_eq!(package_name(&manifest), None);
        std::fs::remove_dir_all(&directory).expect("removed");
    }

    #[test]
    fn this_crate_owns_its_sources() {
        let package = owning("src/util/packages.rs").expect("found");
        assert_eq!(package.name, "leakcheck");
        assert_eq!(owning("src/no-such-file.rs"), None);
    }
}
