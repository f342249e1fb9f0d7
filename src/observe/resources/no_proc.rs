//! Stands in for `/proc` where there is none: nothing can be read, so the check is off.

use std::collections::HashMap;
use std::io;

use super::Held;
use crate::findings::{LeftResource, ResourceKind};

#[derive(Debug, Default, Clone)]
pub(crate) struct Snapshot;

impl Snapshot {
    pub(crate) fn take() -> io::Result<Snapshot> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no /proc on this platform",
        ))
    }

    pub(crate) fn take_skipping_children_of(_: &[u32]) -> io::Result<Snapshot> {
        Snapshot::take()
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

pub(crate) fn current_thread_id() -> Option<u32> {
    None
}

pub(crate) fn waited_on(_: &[u32], _: &Snapshot) -> Vec<u32> {
    Vec::new()
}
