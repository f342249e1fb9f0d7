//! `leakcheck-report`: reads the JSON lines that `LEAKCHECK_REPORT` collects and summarises
//! them for the whole suite.
//!
//! ```text
//! cargo run -p leakcheck-report -- leaks.jsonl [more.jsonl ...] [--html summary.html]
//! ```
//!
//! Several files (one for each CI machine of a partitioned run) are merged.

use std::io::Write as _;
use std::process::ExitCode;

use leakcheck_report::{Summary, html, text};

fn main() -> ExitCode {
    let mut files = Vec::new();
    let mut html_out = None;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--html" => match arguments.next() {
                Some(path) => html_out = Some(path),
                None => return usage("--html needs a file to write"),
            },
            "-h" | "--help" => return usage(""),
            _ => files.push(argument),
        }
    }
    if files.is_empty() {
        return usage("name at least one report file");
    }
    let mut summary = Summary::default();
    for file in &files {
        let contents = match std::fs::read_to_string(file) {
            Ok(contents) => contents,
            Err(error) => {
                eprintln!("leakcheck-report: cannot read {file}: {error}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(error) = summary.add_file(file, &contents) {
            eprintln!("leakcheck-report: {error}");
            return ExitCode::FAILURE;
        }
    }
    // Written, not printed: a reader that stops early (`| head`) is no reason to panic.
    let _ = std::io::stdout().write_all(text(&summary).as_bytes());
    if let Some(path) = html_out {
        if let Err(error) = std::fs::write(&path, html(&summary)) {
            eprintln!("leakcheck-report: cannot write {path}: {error}");
            return ExitCode::FAILURE;
        }
        let _ = writeln!(std::io::stdout(), "\nHTML summary written to {path}");
    }
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("leakcheck-report: {problem}");
    }
    eprintln!("usage: leakcheck-report FILE.jsonl [FILE.jsonl ...] [--html OUT.html]");
    if problem.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
