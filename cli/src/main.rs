//! `cargo leakcheck`: one tool for a tokio code base and its tests.
//!
//! - `scan`: reads the code, without compiling it, for tasks spawned and left to run on their
//!   own (`detached-spawn`, `unused-handle`) and futures thrown away (`discarded-future`).
//! - `migrate`: turns a suite's `#[tokio::test]` into `#[leakcheck::test]` in place and adds
//!   the dev-dependency.
//! - `test`: runs the suite, and re-runs the tests that leaked in a `tokio_unstable` build to
//!   print the line each leaked task was spawned on.
//! - `report`: the suite's summary from `LEAKCHECK_REPORT` files, as text or HTML.
//!
//! Installed as `cargo-leakcheck`, cargo runs it as `cargo-leakcheck leakcheck <args>`; it
//! takes both that and `cargo-leakcheck <args>`.

mod migrate;
mod paths;
mod report;
mod report_line;
mod scan;
mod test_run;
mod words;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo leakcheck", bin_name = "cargo leakcheck", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Scan(scan::command::ScanArgs),
    Migrate(migrate::MigrateArgs),
    Test(test_run::TestArgs),
    Report(report::ReportArgs),
}

fn main() -> ExitCode {
    let mut arguments: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Cargo runs `cargo leakcheck ...` as `cargo-leakcheck leakcheck ...`.
    if arguments
        .get(1)
        .is_some_and(|argument| argument == "leakcheck")
    {
        arguments.remove(1);
    }
    let cli = Cli::parse_from(arguments);
    let result = match &cli.command {
        Command::Scan(arguments) => scan::command::run(arguments),
        Command::Migrate(arguments) => migrate::run(arguments),
        Command::Test(arguments) => test_run::run(arguments),
        Command::Report(arguments) => report::run(arguments),
    };
    result.unwrap_or_else(|error| {
        eprintln!("cargo leakcheck: {error}");
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
