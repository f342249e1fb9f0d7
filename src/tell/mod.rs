//! How a run is told: the report's text and hints, warnings, the stuck-test report, and the
//! JSON line of `LEAKCHECK_REPORT`. Every sentence a user reads about a test is written here.

pub(crate) mod jsonl;
pub(crate) mod stuck;
mod text;
pub(crate) mod warnings;

pub(crate) use text::polled;
