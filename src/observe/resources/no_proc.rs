//! Stands in for `/proc` where there is none: nothing can be read, so the check is off.

use std::collections::HashMap;
use std::io;

use super::Held;
use crate::findings::{LeftResource, ResourceKind};

#[derive(Debug, Default, Clone)]
pub(crate) struct Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts;

#[derive(Debug)]
pub(crate) struct Looker;

impl Looker {
    pub(crate) fn current() -> Option<Looker> {
        None
    }
}

impl Counts {
    pub(crate) fn now() -> io::Result<Counts> {
        Snapshot::take().map(|_| Counts)
    }

    pub(crate) fn comparable(&self) -> bool {
        false
    }

    pub(crate) fn descriptors_and_threads(&self) -> Option<(usize, usize)> {
        None
    }
}

impl Snapshot {
    pub(crate) fn take() -> io::Result<Snapshot> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no /proc on this platform",
        ))
    }

    pub(crate) fn take_knowing(_: &[Option<u32>]) -> io::Result<Snapshot> {
        Snapshot::take()
    }

    pub(crate) fn unchanged(&self, _: Counts, _: Option<&Looker>) -> bool {
        true
    }

    pub(crate) fn is_settled(&self) -> bool {
        true
    }

    pub(crate) fn settled(look: &std::sync::Arc<Snapshot>) -> std::sync::Arc<Snapshot> {
        std::sync::Arc::clone(look)
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts
    }

    pub(crate) fn since(&self, _: &Snapshot) -> Vec<Held> {
        Vec::new()
    }

    pub(crate) fn threads(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::empty()
    }
}

pub(crate) fn sockets() -> HashMap<u64, String> {
    HashMap::new()
}

pub(crate) fn describe(target: &str, _: &HashMap<u64, String>) -> LeftResource {
    LeftResource::new(ResourceKind::Descriptor, target.to_owned())
}

pub(crate) fn process_id() -> u32 {
    std::process::id()
}

pub(crate) fn current_thread_id() -> Option<u32> {
    None
}

pub(crate) fn descriptors_by_kind() -> Option<(usize, usize, usize)> {
    None
}

pub(crate) fn waited_on(_: &[u32], _: &Snapshot) -> Vec<u32> {
    Vec::new()
}
