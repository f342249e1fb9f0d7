//! `cargo leakcheck test`.
use std::process::ExitCode;
#[derive(Debug, clap::Args)]
pub(crate) struct TestArgs {}
pub(crate) fn run(_: &TestArgs) -> Result<ExitCode, String> {
    Err("not yet".into())
}
