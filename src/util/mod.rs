//! Helpers every layer may use, knowing nothing of runs, findings or settings.

pub(crate) mod backoff;
pub(crate) mod backtraces;
pub(crate) mod by_runtime;
pub(crate) mod packages;
pub(crate) mod panic_payload;
pub(crate) mod shared_str;
pub(crate) mod sites;
pub(crate) mod sync;
pub(crate) mod words;
