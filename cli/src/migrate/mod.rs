//! `cargo leakcheck migrate`: turns `#[tokio::test]` into `#[leakcheck::test]` in place and
//! adds leakcheck to the package's `[dev-dependencies]`.
//!
//! Only the attribute's path is rewritten, so every option and every line stays where it was
//! (suites that assert `line!()` keep passing). A test it cannot convert is left as it is and
//! listed with the reason. A second run changes nothing.

mod finding;
mod lockfile;
mod manifest;
mod rewriting;
mod writing;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use similar::TextDiff;

use crate::paths::shown_path;
use crate::words::counted;
use crate::workspace::{Package, Workspace, rust_files_of};
use manifest::{Dependency, add_dev_dependency};
use rewriting::rewrite;
use writing::{Edit, write_all};

/// Rewrites every #[tokio::test] of the package to #[leakcheck::test] and adds the
/// dev-dependency.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Print what would change as a unified diff, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Depend on a local checkout of leakcheck at DIR instead of a registry version.
    #[arg(long, value_name = "DIR", conflicts_with = "version")]
    path: Option<PathBuf>,
    /// The version requirement to depend on (default: this tool's version).
    #[arg(long, value_name = "REQ")]
    version: Option<String>,
    /// The package's Cargo.toml, when not run in its directory.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
}

/// A `#[tokio::test]` left as it is, and why.
#[derive(Debug)]
pub(super) struct Skipped {
    pub(super) at: String,
    pub(super) why: String,
}

/// What migrating one package changes.
#[derive(Debug, Default)]
struct Changes {
    /// Each changed file: its path, its text before and after.
    files: Vec<Edit>,
    converted: usize,
    skipped: Vec<Skipped>,
}

pub(crate) fn run(arguments: &MigrateArgs) -> Result<ExitCode, String> {
    let workspace = Workspace::load(arguments.manifest_path.as_deref())?;
    let dependency = match &arguments.path {
        Some(path) => Dependency::Path(
            path.canonicalize()
                .map_err(|error| format!("--path {}: {error}", path.display()))?,
        ),
        None => Dependency::Version(
            arguments
                .version
                .clone()
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
        ),
    };
    let mut out = String::new();
    // Every edit is worked out before any is written: all of them land, or none.
    let mut edits: Vec<Edit> = Vec::new();
    for package in &workspace.current {
        let mut changes = Changes::default();
        for file in rust_files_of(std::slice::from_ref(package)) {
            let source = std::fs::read_to_string(&file)
                .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
            let rewritten = rewrite(&source, &shown_path(&workspace.root, &file));
            changes.converted += rewritten.converted;
            changes.skipped.extend(rewritten.skipped);
            if let Some(after) = rewritten.after {
                changes.files.push((file, source, after));
            }
        }
        if changes.converted > 0 {
            let manifest = std::fs::read_to_string(&package.manifest)
                .map_err(|error| format!("cannot read {}: {error}", package.manifest.display()))?;
            let edited = add_dev_dependency(&manifest, &dependency, package)?;
            if edited != manifest {
                changes
                    .files
                    .push((package.manifest.clone(), manifest, edited));
            }
        }
        report(
            &workspace.root,
            package,
            &changes,
            arguments.dry_run,
            &mut out,
        );
        edits.extend(changes.files);
    }
    if !edits.is_empty()
        && let Some(note) = lockfile::tokio_below_floor(&workspace.root)
    {
        out.push_str(&note);
    }
    if !arguments.dry_run {
        write_all(&edits)?;
    }
    if !edits.is_empty() && !arguments.dry_run {
        out.push_str(
            "\nNext: `LEAKCHECK=warn cargo test` for a first look (leaks are reported, nothing fails),\n\
             then `cargo leakcheck test` to see where each leaked task was spawned.\n",
        );
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn report(root: &Path, package: &Package, changes: &Changes, dry_run: bool, out: &mut String) {
    if dry_run {
        for (path, before, after) in &changes.files {
            let shown = shown_path(root, path);
            let diff = TextDiff::from_lines(before, after);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
        }
    }
    let verb = if dry_run {
        "would convert"
    } else {
        "converted"
    };
    let changed_files = changes
        .files
        .iter()
        .filter(|(path, ..)| path.extension().is_some_and(|extension| extension == "rs"))
        .count();
    if changes.converted == 0 {
        let _ = writeln!(out, "{}: no #[tokio::test] left to convert", package.name);
    } else {
        let _ = writeln!(
            out,
            "{}: {verb} {} to #[leakcheck::test] in {}",
            package.name,
            counted(changes.converted, "#[tokio::test]", "#[tokio::test]s"),
            counted(changed_files, "file", "files"),
        );
    }
    if changes
        .files
        .iter()
        .any(|(path, ..)| *path == package.manifest)
    {
        let _ = writeln!(
            out,
            "{}: {} leakcheck to [dev-dependencies] of {}",
            package.name,
            if dry_run { "would add" } else { "added" },
            shown_path(root, &package.manifest)
        );
    }
    if !changes.skipped.is_empty() {
        let _ = writeln!(out, "left as they are:");
        for skipped in &changes.skipped {
            let _ = writeln!(out, "  {}: {}", skipped.at, skipped.why);
        }
    }
}
