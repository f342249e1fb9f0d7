//! `cargo leakcheck scan` as a command: which files, which format, and the exit status.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::rules::Rule;
use super::{baseline, output, scan};
use crate::workspace::{Workspace, rust_files_of, rust_files_under};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// rustc-style warnings, then counts by rule and by file.
    Text,
    /// One JSON object a line: {"rule", "file", "line", "column", "message"}.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// Reads code for tasks spawned and left to run on their own, and futures never awaited.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files or directories to read; without them, every package of the workspace (src,
    /// tests, examples, benches).
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with status 1 if there is a finding that the baseline does not hold.
    #[arg(long)]
    deny: bool,
    /// Findings accepted for now (from --write-baseline): not shown, and not denied.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write every finding to FILE as the baseline.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Print what a rule finds, why it matters and what to write instead.
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
    /// The workspace's Cargo.toml, when not run inside it.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
}

pub(crate) fn run(arguments: &ScanArgs) -> Result<ExitCode, String> {
    if let Some(id) = &arguments.explain {
        let rule = Rule::from_id(id).ok_or_else(|| {
            let ids: Vec<&str> = Rule::ALL.iter().map(|rule| rule.id()).collect();
            format!("there is no rule `{id}`; the rules are {}", ids.join(", "))
        })?;
        print(rule.explanation());
        return Ok(ExitCode::SUCCESS);
    }
    let (root, files) = if arguments.paths.is_empty() {
        let workspace = Workspace::load(arguments.manifest_path.as_deref())?;
        let files = rust_files_of(&workspace.members);
        (workspace.root, files)
    } else {
        // Paths are shown relative to the workspace they are in, if any, else as given.
        let root = Workspace::load(arguments.manifest_path.as_deref())
            .map(|workspace| workspace.root)
            .or_else(|_| std::env::current_dir())
            .map_err(|error| format!("cannot tell the current directory: {error}"))?;
        let mut paths = Vec::new();
        for path in &arguments.paths {
            if !path.exists() {
                return Err(format!("{}: no such file or directory", path.display()));
            }
            paths.push(std::path::absolute(path).unwrap_or_else(|_| path.clone()));
        }
        (root, rust_files_under(&paths)?)
    };
    let mut found = scan(&root, &files);
    if let Some(path) = &arguments.write_baseline {
        baseline::write(path, &found)?;
        eprintln!(
            "cargo leakcheck: wrote {} findings to the baseline {}",
            found.count(),
            path.display()
        );
    }
    let known = match &arguments.baseline {
        Some(path) => baseline::keep_new(&mut found, &baseline::read(path)?),
        None => 0,
    };
    match arguments.format {
        Format::Text => print(&output::text(
            &found,
            std::io::stdout().is_terminal(),
            known,
        )),
        Format::Json => print(&output::json_lines(&found)),
        Format::Sarif => print(&output::sarif(&found)),
    }
    if arguments.deny && found.count() > 0 {
        eprintln!(
            "cargo leakcheck: {} {} (--deny)",
            found.count(),
            match (&arguments.baseline, found.count()) {
                (Some(_), 1) => "finding is not in the baseline",
                (Some(_), _) => "findings are not in the baseline",
                (None, 1) => "finding",
                (None, _) => "findings",
            }
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes to standard output; a reader that stops early (`| head`) is no reason to panic.
fn print(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}
