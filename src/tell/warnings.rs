//! Warnings: what a report says without failing the test.

use crate::findings::{BlockedPoll, LeakedTask};
use crate::observe::resources::Unchecked;
use crate::settings::LONG_POLL;
use crate::util::words::{Spelled, plural};
use crate::util::{packages, sites};

/// A poll over [`LONG_POLL`] in a test that set no `max_poll` it broke.
pub(crate) fn long_poll(poll: &BlockedPoll) -> String {
    format!(
        "{poll}; polls over {} are reported, and max_poll = \"<limit>\" fails a test on them",
        Spelled(LONG_POLL)
    )
}

/// `allow_leaks` rules in a build that cannot apply them, when something leaked.
pub(crate) fn rules_not_applied(rules: &[&str]) -> String {
    format!(
        "allow_leaks ({}) was not applied: it matches spawn sites, which only a build with \
         RUSTFLAGS=\"--cfg tokio_unstable\" knows",
        rules.join(", ")
    )
}

/// An `allow_leaks` rule that matched none of the tasks left over: stale, or mistyped, in
/// which case where the leaked tasks come from says what it should be.
pub(crate) fn rule_matched_nothing(rule: &str, leaked: &[LeakedTask]) -> String {
    match leaked {
        [] => format!("allow_leaks rule {rule:?} matched no task; remove it if that leak is gone"),
        _ => format!(
            "allow_leaks rule {rule:?} matched no leaked task; {} spawned in {}",
            plural(leaked.len(), "leaked task was", "leaked tasks were"),
            where_spawned(leaked)
        ),
    }
}

/// Where leaked tasks come from, as a rule that would match them: `crate "pool" (pool/src/)`.
fn where_spawned(tasks: &[LeakedTask]) -> String {
    let mut places: Vec<String> = Vec::new();
    for task in tasks {
        let file = task.spawned_at.file();
        let directory = match file.rfind(['/', '\\']) {
            Some(end) => sites::short(&file[..=end]),
            None => "./",
        };
        let place = match packages::owning(file) {
            Some(package) => format!("crate {:?} ({directory})", package.name),
            None => directory.to_owned(),
        };
        if !places.contains(&place) {
            places.push(place);
        }
    }
    places.join(", ")
}

/// Said once per process where the resource check cannot run.
/// Why a repeated test did not count the heap: the target does not count allocations, or the
/// test shares its process.
pub(crate) fn heap_not_counted(target_counts: bool) -> String {
    if target_counts {
        "the heap is not counted in this process: tests run in parallel in it; it is counted with --test-threads=1 or under nextest".to_owned()
    } else {
        "the heap is not counted: `leakcheck::count_allocations!();` at the root of the test target counts it".to_owned()
    }
}

pub(crate) fn resources_not_checked(why: &Unchecked) -> String {
    match why {
        Unchecked::Parallel => {
            "leakcheck: resources left open are checked only with --test-threads=1 or nextest\n"
                .to_owned()
        }
        Unchecked::Unreadable(error) => {
            format!("leakcheck: resources left open are not checked: /proc/self: {error}\n")
        }
    }
}
