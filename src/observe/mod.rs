//! What is observed while a test runs: its tasks and their names, the polls of its threads,
//! the resources its process holds, and the watchdog that keeps wall-clock time for all of it.
//!
//! Observers hand back data; none of them knows a run's state or writes a report.

pub(crate) mod console;
pub(crate) mod heap;
pub(crate) mod polls;
pub(crate) mod resources;
pub(crate) mod spawns;
pub(crate) mod watchdog;

pub(crate) use spawns::KNOWS_SPAWN_SITES;
