//! Running the built `cargo-leakcheck` on fixture crates.

#![allow(dead_code, reason = "each test file uses its own part")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fixture crate, where it is checked in.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fresh copy of a fixture crate in a scratch directory, its `Cargo.toml.in` (kept so that
/// cargo does not take the fixture for a package of leakcheck's workspace) renamed.
pub fn scratch_copy(name: &str, tag: &str) -> PathBuf {
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join(tag);
    if copy.exists() {
        std::fs::remove_dir_all(&copy).expect("the old copy removed");
    }
    copy_directory(&fixture(name), &copy);
    let template = copy.join("Cargo.toml.in");
    if template.exists() {
        std::fs::rename(&template, copy.join("Cargo.toml")).expect("the manifest in place");
    }
    copy
}

fn copy_directory(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a scratch directory");
    for entry in std::fs::read_dir(from)
        .expect("a fixture directory")
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_directory(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a fixture file copied");
        }
    }
}

/// The repository's root: leakcheck itself, for `migrate --path`.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ is inside the repository")
        .to_path_buf()
}

/// `cargo-leakcheck` with `arguments`, in an environment of its own: nothing of the test run
/// (its RUSTFLAGS, target directory, nextest's settings, leakcheck's) reaches the suites it
/// runs.
pub fn leakcheck(arguments: &[&str]) -> Invocation {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-leakcheck"));
    command.args(arguments);
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        let build_setting = [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "RUSTFLAGS",
            "RUST_TEST_THREADS",
        ]
        .contains(&name_text.as_ref());
        if build_setting || name_text.starts_with("NEXTEST") || name_text.starts_with("LEAKCHECK") {
            command.env_remove(name);
        }
    }
    Invocation { command }
}

pub struct Invocation {
    pub command: Command,
}

impl Invocation {
    pub fn current_dir(mut self, directory: impl AsRef<Path>) -> Self {
        self.command.current_dir(directory);
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    pub fn run(mut self) -> Run {
        let output = self.command.output().expect("cargo-leakcheck runs");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
    }
}
