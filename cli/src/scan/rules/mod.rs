//! The rules of `cargo leakcheck scan`, one module each. Each rule's documentation is a
//! markdown file beside its module: the module's doc, and what `--explain <rule>` prints.

pub(crate) mod detached_spawn;
pub(crate) mod discarded_future;
pub(crate) mod unused_handle;

use serde::Serialize;

/// A rule, by its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Rule {
    DetachedSpawn,
    UnusedHandle,
    DiscardedFuture,
}

impl Rule {
    pub(crate) const ALL: [Rule; 3] = [
        Rule::DetachedSpawn,
        Rule::UnusedHandle,
        Rule::DiscardedFuture,
    ];

    /// The stable id, as in `warning[detached-spawn]` and the JSON and SARIF output.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Rule::DetachedSpawn => "detached-spawn",
            Rule::UnusedHandle => "unused-handle",
            Rule::DiscardedFuture => "discarded-future",
        }
    }

    pub(crate) fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.id() == id)
    }

    /// One line on what is wrong, for SARIF's short description.
    pub(crate) fn summary(self) -> &'static str {
        match self {
            Rule::DetachedSpawn => {
                "a spawned task's JoinHandle is dropped at once: the task runs on, detached"
            }
            Rule::UnusedHandle => "a spawned task's JoinHandle is bound to a name never used again",
            Rule::DiscardedFuture => "a future is made and thrown away, never awaited",
        }
    }

    /// What to do instead, the `= help:` line.
    pub(crate) fn help(self) -> &'static str {
        match self {
            Rule::DetachedSpawn => {
                "keep the handle and end the task (await or abort it, or spawn on a JoinSet or TaskTracker); if detaching is meant, write `// leakcheck:allow` above"
            }
            Rule::UnusedHandle => {
                "use the handle: await or abort it when the work is done, or wrap it in tokio_util's AbortOnDropHandle"
            }
            Rule::DiscardedFuture => {
                "await the future (or spawn it and keep the handle); `let _ =` only silences the warning"
            }
        }
    }

    /// The whole explanation: what it does, why it is bad, an example and what to write
    /// instead.
    pub(crate) fn explanation(self) -> &'static str {
        match self {
            Rule::DetachedSpawn => include_str!("detached_spawn.md"),
            Rule::UnusedHandle => include_str!("unused_handle.md"),
            Rule::DiscardedFuture => include_str!("discarded_future.md"),
        }
    }
}
