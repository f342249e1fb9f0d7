//! Resources a test left behind besides tasks, and the rules that let one be.

use std::fmt::{self, Display, Formatter};

/// What kind of thing was left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A network or Unix socket.
    Socket,
    /// An open file.
    File,
    /// A child process still running.
    ChildProcess,
    /// An OS thread still running.
    Thread,
    /// Another descriptor: a pipe, an epoll or eventfd (a runtime left running).
    Descriptor,
}

impl ResourceKind {
    pub(crate) const ALL: [ResourceKind; 5] = [
        ResourceKind::Socket,
        ResourceKind::File,
        ResourceKind::ChildProcess,
        ResourceKind::Thread,
        ResourceKind::Descriptor,
    ];

    /// What a rule of this kind names, for the words that say how to write one.
    pub(crate) fn rule_example(self) -> &'static str {
        match self {
            ResourceKind::Socket => "127.0.0.1:8080",
            ResourceKind::File => "logs/",
            ResourceKind::ChildProcess => "sleep",
            ResourceKind::Thread => "tailer",
            ResourceKind::Descriptor => "pipe",
        }
    }

    /// The prefix of an `allow_leaks` rule for this kind: `thread:tailer`.
    pub(crate) fn rule_prefix(self) -> &'static str {
        match self {
            ResourceKind::Socket => "socket:",
            ResourceKind::File => "file:",
            ResourceKind::ChildProcess => "child:",
            ResourceKind::Thread => "thread:",
            ResourceKind::Descriptor => "descriptor:",
        }
    }
}

/// A resource a test left behind, named so the user knows it at a glance:
/// `TCP 127.0.0.1:41873 (listening)`, `pid 4242 "sleep 30"`, `"tailer"`, `logs/feed.log`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct LeftResource {
    /// What kind of thing it is.
    pub kind: ResourceKind,
    /// The thing itself, in words.
    pub what: String,
}

impl LeftResource {
    pub(crate) fn new(kind: ResourceKind, what: String) -> Self {
        LeftResource { kind, what }
    }
}

impl Display for LeftResource {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// An `allow_leaks` rule for a resource: `thread:tailer`, `socket:127.0.0.1:8080`,
/// `file:logs/`, `child:sleep`, `descriptor:eventpoll`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceRule {
    pub(crate) kind: ResourceKind,
    pub(crate) text: String,
}

impl ResourceRule {
    /// The rule `text` names, if it names a resource.
    pub(crate) fn parse(text: &str) -> Option<ResourceRule> {
        ResourceKind::ALL.into_iter().find_map(|kind| {
            let rest = text.strip_prefix(kind.rule_prefix())?;
            Some(ResourceRule {
                kind,
                text: rest.trim().to_owned(),
            })
        })
    }

    /// Threads and files by the start of their name; sockets, child processes and other
    /// descriptors by any part of their description.
    pub(crate) fn matches(&self, resource: &LeftResource) -> bool {
        if resource.kind != self.kind {
            return false;
        }
        match self.kind {
            ResourceKind::Thread => resource.what.trim_matches('"').starts_with(&self.text),
            ResourceKind::File => resource.what.starts_with(&self.text),
            _ => resource.what.contains(&self.text),
        }
    }
}
