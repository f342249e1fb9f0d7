//! `cargo leakcheck report`: the summary of a suite's `LEAKCHECK_REPORT` files, as text and,
//! with `--html`, a self-contained page.

pub(crate) mod summary;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use summary::{Summary, html, text};

/// Summarises LEAKCHECK_REPORT files: leaks by spawn site, the tests that leaked most, the
/// slowest teardowns, the longest blocking polls, resources left behind.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Report files (JSON lines); several, one for each machine of a partitioned run, are
    /// merged.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also write the summary as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub(crate) fn run(arguments: &ReportArgs) -> Result<ExitCode, String> {
    let summary = read(&arguments.files)?;
    let _ = std::io::stdout().write_all(text(&summary).as_bytes());
    if let Some(path) = &arguments.html {
        std::fs::write(path, html(&summary))
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        let _ = writeln!(
            std::io::stdout(),
            "\nHTML summary written to {}",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary of report files.
pub(crate) fn read(files: &[PathBuf]) -> Result<Summary, String> {
    let mut summary = Summary::default();
    for file in files {
        let contents = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
        summary.add_file(&file.display().to_string(), &contents);
    }
    Ok(summary)
}
