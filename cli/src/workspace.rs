//! The workspace a command works on, found with `cargo metadata`, and its Rust files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cargo_metadata::MetadataCommand;

/// The directories of a package that hold its code and its tests.
const CODE_DIRECTORIES: [&str; 4] = ["src", "tests", "examples", "benches"];

/// A package of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) manifest: PathBuf,
    /// The directory of its `Cargo.toml`.
    pub(crate) root: PathBuf,
    /// Where its targets' root files are, for targets outside the usual directories.
    pub(crate) target_roots: Vec<PathBuf>,
    /// Its targets that build a test binary, each with the cargo flag that builds only it.
    pub(crate) test_targets: Vec<TestTarget>,
}

/// A target that `cargo test` builds a test binary of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TestTarget {
    /// Its crate name, as a test's path starts: `-` spelled `_`.
    pub(crate) crate_name: String,
    /// The flags that select it: `--lib`, `--test feed`, `--bin server`.
    pub(crate) selection: Vec<String>,
}

/// The workspace: its root and its member packages.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    pub(crate) root: PathBuf,
    pub(crate) members: Vec<Package>,
    /// The packages a command acts on: the one whose directory it runs in, or every member
    /// when it runs at a virtual workspace's root.
    pub(crate) current: Vec<Package>,
    pub(crate) target_directory: PathBuf,
}

impl Workspace {
    /// The workspace of `manifest` or, without one, of the current directory.
    pub(crate) fn load(manifest: Option<&Path>) -> Result<Workspace, String> {
        let mut command = MetadataCommand::new();
        command.no_deps();
        if let Some(manifest) = manifest {
            command.manifest_path(manifest);
        }
        let metadata = command
            .exec()
            .map_err(|error| format!("cannot read the workspace with `cargo metadata`: {error}"))?;
        let members: Vec<Package> = metadata
            .workspace_packages()
            .into_iter()
            .map(|package| {
                let manifest = package.manifest_path.clone().into_std_path_buf();
                let root = manifest
                    .parent()
                    .map_or_else(PathBuf::new, Path::to_path_buf);
                let target_roots = package
                    .targets
                    .iter()
                    .filter_map(|target| {
                        target
                            .src_path
                            .parent()
                            .map(|parent| parent.to_path_buf().into_std_path_buf())
                    })
                    .collect();
                let test_targets = package
                    .targets
                    .iter()
                    .filter_map(|target| {
                        let selection = if target.is_lib()
                            || target.is_proc_macro()
                            || target.is_rlib()
                            || target.is_dylib()
                            || target.is_cdylib()
                        {
                            vec!["--lib".to_owned()]
                        } else {
                            let flag = if target.is_test() {
                                "--test"
                            } else if target.is_bin() {
                                "--bin"
                            } else if target.is_example() {
                                "--example"
                            } else if target.is_bench() {
                                "--bench"
                            } else {
                                return None;
                            };
                            vec![flag.to_owned(), target.name.clone()]
                        };
                        Some(TestTarget {
                            crate_name: target.name.replace('-', "_"),
                            selection,
                        })
                    })
                    .collect();
                Package {
                    name: package.name.to_string(),
                    manifest,
                    root,
                    target_roots,
                    test_targets,
                }
            })
            .collect();
        let here = match manifest {
            Some(manifest) => manifest
                .canonicalize()
                .ok()
                .and_then(|path| path.parent().map(Path::to_path_buf)),
            None => std::env::current_dir().ok(),
        }
        .unwrap_or_default();
        // The package whose directory holds `here` most closely.
        let current: Vec<Package> = members
            .iter()
            .filter(|package| here.starts_with(&package.root))
            .max_by_key(|package| package.root.components().count())
            .cloned()
            .map_or_else(|| members.clone(), |package| vec![package]);
        Ok(Workspace {
            root: metadata.workspace_root.into_std_path_buf(),
            members,
            current,
            target_directory: metadata.target_directory.into_std_path_buf(),
        })
    }
}

/// The `.rs` files of `packages`: under `src`, `tests`, `examples` and `benches`, and beside
/// each target's root file; each once, in path order.
pub(crate) fn rust_files_of(packages: &[Package]) -> Vec<PathBuf> {
    let mut files = BTreeSet::new();
    for package in packages {
        let directories = CODE_DIRECTORIES
            .iter()
            .map(|directory| package.root.join(directory))
            .chain(package.target_roots.iter().cloned());
        for directory in directories {
            collect(&directory, Nested::Skipped, &mut files);
        }
    }
    files.into_iter().collect()
}

/// The `.rs` files under each of `paths` (a file is taken as it is).
pub(crate) fn rust_files_under(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = BTreeSet::new();
    for path in paths {
        if path.is_file() {
            files.insert(path.clone());
        } else if path.is_dir() {
            collect(path, Nested::Included, &mut files);
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files.into_iter().collect())
}

/// Whether a directory with a `Cargo.toml` of its own, below the one being read, is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nested {
    /// Reading a package: a nested package (a fixture crate, a member inside another's
    /// tests) is not this package's code.
    Skipped,
    /// Reading a directory named on the command line: all of it.
    Included,
}

/// Adds the `.rs` files under `directory`.
fn collect(directory: &Path, nested: Nested, files: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            let other_package = nested == Nested::Skipped && path.join("Cargo.toml").exists();
            if name != "target" && !name.starts_with('.') && !other_package {
                collect(&path, nested, files);
            }
        } else if name.ends_with(".rs") {
            files.insert(path);
        }
    }
}
