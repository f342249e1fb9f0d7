//! The gauges a repeated test registered with [`crate::gauge`]: counts only its code knows (a
//! broadcast's receivers, a handler map's length, a pool's size), read after each repetition.

use std::sync::{Arc, Mutex};

use crate::util::sync::lock;

type Read = Arc<dyn Fn() -> usize + Send + Sync>;

/// A run's gauges, by name, in the order they were first registered.
#[derive(Default)]
pub(crate) struct Gauges(Mutex<Vec<(String, Read)>>);

impl Gauges {
    /// Registers `read` as `name`, replacing a gauge of that name.
    pub(crate) fn set(&self, name: String, read: Read) {
        let mut gauges = lock(&self.0);
        match gauges.iter_mut().find(|(known, _)| *known == name) {
            Some(gauge) => gauge.1 = read,
            None => gauges.push((name, read)),
        }
    }

    /// Each gauge's value now; read outside the lock, since a gauge runs the test's code.
    pub(crate) fn read(&self) -> Vec<(String, usize)> {
        let gauges = lock(&self.0).clone();
        gauges
            .into_iter()
            .map(|(name, read)| (name, read()))
            .collect()
    }
}
