//! Where leaked tasks come from, and the leaks a test may keep. The exact spawn lines are
//! known only with `--cfg tokio_unstable` (CI runs both builds); the default build must say
//! how to get them.

mod common;

use std::future::pending;

use common::*;
use leakcheck::{Flavor, allow_leak, leak_checked_test};
use rstest::rstest;

const THIS_FILE: &str = "tests/spawn_sites.rs";

#[cfg(tokio_unstable)]
#[rstest]
fn a_fire_and_forget_spawn_is_reported_at_its_line(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let spawn_line = line!() + 2;
    let report = leaky_check("fire_and_forget", flavor).run(|| async {
        tokio::spawn(pending::<()>());
    });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            &format!("    task spawned at {THIS_FILE}:{spawn_line}:9 (id "),
        ],
    );
    assert!(!report.to_string().contains("RUSTFLAGS"), "{report}");
}

#[cfg(tokio_unstable)]
#[rstest]
fn two_leaks_from_two_lines_report_both_lines(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let first_line = line!() + 2;
    let report = leaky_check("two_lines", flavor).run(|| async {
        tokio::spawn(pending::<()>());
        tokio::spawn(async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        });
    });
    assert_fails_saying(
        &report,
        &[
            "2 tasks leaked",
            &format!("    task spawned at {THIS_FILE}:{first_line}:9"),
            &format!("    task spawned at {THIS_FILE}:{}:9", first_line + 1),
        ],
    );
}

/// Task names and blocking spawn sites come from tokio's spawn spans, recorded unless
/// `LEAKCHECK_TASK_NAMES=0`.
#[cfg(tokio_unstable)]
#[rstest]
fn a_named_task_is_reported_by_name_and_line(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let spawn_line = line!() + 4;
    let report = leaky_check("named", flavor).run(|| async {
        tokio::task::Builder::new()
            .name("reconnect-loop")
            .spawn(pending::<()>())
            .expect("the task spawns");
    });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            &format!("    task \"reconnect-loop\" spawned at {THIS_FILE}:{spawn_line}:14 (id "),
        ],
    );
}

#[cfg(tokio_unstable)]
#[test]
fn names_survive_spawns_on_threads_without_a_subscriber() {
    // A runtime of the user's own, outside any leak-checked test, reaches tokio's spawn
    // callsites from a thread with no subscriber; that must not turn them off for leakcheck.
    let bare = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("a runtime builds");
    bare.block_on(async {
        tokio::task::Builder::new()
            .name("outside")
            .spawn(async {})
            .expect("the task spawns")
            .await
            .expect("the task completes");
        tokio::task::spawn_blocking(|| {})
            .await
            .expect("the blocking task completes");
    });
    drop(bare);
    let report = leaky_check("named_after_bare_runtime", Flavor::MultiThread).run(|| async {
        tokio::task::Builder::new()
            .name("inside")
            .spawn(pending::<()>())
            .expect("the task spawns");
    });
    assert_fails_saying(&report, &["    task \"inside\" spawned at "]);
}

#[cfg(tokio_unstable)]
#[rstest]
fn leaked_blocking_work_is_named_by_its_spawn_site(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let stop = Arc::new(AtomicBool::new(false));
    let spinning = Arc::clone(&stop);
    let spawn_line = line!() + 2;
    let report = leaky_check("blocking_site", flavor).run(|| async move {
        tokio::task::spawn_blocking(move || {
            while !spinning.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        });
    });
    stop.store(true, Ordering::Relaxed);
    assert_fails_saying(
        &report,
        &[
            "1 blocking task leaked",
            &format!("    spawn_blocking at {THIS_FILE}:{spawn_line}:9"),
        ],
    );
}

#[cfg(tokio_unstable)]
#[test]
#[ignore = "needs LEAKCHECK_TASK_NAMES=0: run by names_can_be_turned_off"]
fn without_names_the_report_gives_the_site() {
    let report = leaky_check("names_off", Flavor::CurrentThread).run(|| async {
        tokio::task::Builder::new()
            .name("reconnect-loop")
            .spawn(pending::<()>())
            .expect("the task spawns");
    });
    assert_fails_saying(&report, &["    task spawned at tests/spawn_sites.rs:"]);
    let text = report.to_string();
    assert!(!text.contains("reconnect-loop"), "{text}");
    assert!(!text.contains("LEAKCHECK_TASK_NAMES"), "{text}");
}

#[cfg(tokio_unstable)]
#[test]
fn names_can_be_turned_off() {
    let run = run_self(
        &[
            "--ignored",
            "--exact",
            "without_names_the_report_gives_the_site",
        ],
        &[("LEAKCHECK_TASK_NAMES", "0")],
    );
    assert!(run.success, "{}", run.output);
    assert!(
        run.output
            .contains("test without_names_the_report_gives_the_site ... ok"),
        "{}",
        run.output
    );
}

#[cfg(tokio_unstable)]
#[test]
fn with_names_on_no_hint_asks_for_them() {
    let report = leaky_check("unnamed", Flavor::CurrentThread).run(|| async {
        tokio::spawn(pending::<()>());
    });
    assert_fails_saying(&report, &["    task spawned at tests/spawn_sites.rs:"]);
    assert!(
        !report.to_string().contains("LEAKCHECK_TASK_NAMES"),
        "{report}"
    );
}

#[cfg(tokio_unstable)]
#[test]
fn leaks_from_one_line_are_grouped_with_a_count() {
    let spawn_line = line!() + 3;
    let report = leaky_check("grouped", Flavor::CurrentThread).run(|| async {
        for _ in 0..3 {
            tokio::spawn(pending::<()>());
        }
    });
    assert_fails_saying(
        &report,
        &[
            "3 tasks leaked",
            &format!("    3 tasks spawned at {THIS_FILE}:{spawn_line}:13 (ids "),
        ],
    );
}

#[cfg(tokio_unstable)]
#[rstest]
fn a_task_spawned_by_a_task_names_its_parent(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let parent_line = line!() + 2;
    let report = leaky_check("nested", flavor).run(|| async {
        tokio::spawn(async {
            tokio::spawn(pending::<()>());
        })
        .await
        .expect("the parent completes");
    });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            &format!(
                "    task spawned at {THIS_FILE}:{}:13 (id ",
                parent_line + 1
            ),
            "), by task ",
            &format!(" (spawned at {THIS_FILE}:{parent_line}:9)"),
        ],
    );
}

#[cfg(tokio_unstable)]
#[test]
fn a_path_rule_allows_the_leaks_spawned_under_it() {
    let report = leaky_check("allowed_by_path", Flavor::CurrentThread)
        .allow_leaks([THIS_FILE])
        .run(|| async {
            tokio::spawn(pending::<()>());
            tokio::spawn(pending::<()>());
        });
    assert_passes(&report);
    assert!(report.warnings().is_empty(), "{report}");
    // What the rule let go is said, so that its effect can be reviewed.
    assert!(
        report
            .to_string()
            .contains("\n  allowed: 2 tasks by rule `tests/spawn_sites.rs`"),
        "{report}"
    );
}

#[cfg(tokio_unstable)]
#[test]
fn a_spawn_site_rule_allows_the_leaks_of_that_line_only() {
    let site = format!("{THIS_FILE}:{}:13", line!() + 4);
    let report = leaky_check("allowed_by_site", Flavor::CurrentThread)
        .allow_leaks([site.as_str()])
        .run(|| async {
            tokio::spawn(pending::<()>());
            tokio::spawn(pending::<()>());
        });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            &format!("allowed: 1 task by rule `{site}`"),
        ],
    );
}

#[cfg(tokio_unstable)]
#[test]
fn a_crate_rule_allows_the_leaks_of_that_dependency_only() {
    let report = leaky_check("reaper_allowed", Flavor::CurrentThread)
        .allow_leaks(["spawner"])
        .run(|| async {
            spawner::start_reaper();
        });
    assert_passes(&report);
    assert!(report.warnings().is_empty(), "{report}");

    let report = leaky_check("reaper_and_own_leak", Flavor::CurrentThread)
        .allow_leaks(["spawner"])
        .run(|| async {
            spawner::start_reaper();
            tokio::spawn(pending::<()>());
        });
    assert_fails_saying(&report, &["1 task leaked", THIS_FILE]);
    assert!(!report.to_string().contains("spawner-0.1.0"), "{report}");

    let report = leaky_check("reaper_not_allowed", Flavor::CurrentThread).run(|| async {
        spawner::start_reaper();
    });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            "spawned at tests/support/spawner-0.1.0/src/lib.rs:",
        ],
    );
}

#[cfg(tokio_unstable)]
#[test]
fn a_rule_that_matched_nothing_is_a_warning() {
    let report = leaky_check("stale_rule", Flavor::CurrentThread)
        .allow_leaks(["bb8", "src/metrics.rs"])
        .run(|| async {});
    assert_passes(&report);
    let text = report.to_string();
    assert!(
        text.contains("warning: allow_leaks rule \"bb8\" matched no task"),
        "{text}"
    );
    assert!(
        text.contains("warning: allow_leaks rule \"src/metrics.rs\" matched no task"),
        "{text}"
    );
}

#[cfg(tokio_unstable)]
#[test]
fn a_rule_for_another_place_does_not_hide_a_leak() {
    let report = leaky_check("other_place", Flavor::CurrentThread)
        .allow_leaks(["src/metrics.rs"])
        .run(|| async {
            tokio::spawn(pending::<()>());
        });
    assert_fails_saying(&report, &["1 task leaked", THIS_FILE]);
}

#[cfg(not(tokio_unstable))]
#[test]
fn the_default_build_counts_and_says_how_to_get_spawn_sites() {
    let report = leaky_check("counts_only", Flavor::CurrentThread).run(|| async {
        tokio::spawn(pending::<()>());
    });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            "hint: run `cargo leakcheck test` (or build with RUSTFLAGS=\"--cfg tokio_unstable\") to see where each leaked task was spawned",
        ],
    );
    assert!(!report.to_string().contains(THIS_FILE), "{report}");
}

#[cfg(not(tokio_unstable))]
#[test]
fn the_default_build_says_it_cannot_apply_allow_rules() {
    let report = leaky_check("rules_unapplied", Flavor::CurrentThread)
        .allow_leaks([THIS_FILE])
        .run(|| async {
            tokio::spawn(pending::<()>());
        });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            "warning: allow_leaks (tests/spawn_sites.rs) was not applied: it matches spawn sites, which only a build with RUSTFLAGS=\"--cfg tokio_unstable\" knows",
        ],
    );
}

#[rstest]
fn allow_leak_lets_one_task_go_in_every_build(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("allowed_handle", flavor).run(|| async {
        let exporter = tokio::spawn(pending::<()>());
        allow_leak(&exporter);
    });
    assert_passes(&report);
    assert!(
        report.settle_time().is_zero(),
        "an allowed task is not waited for"
    );

    let report = leaky_check("allowed_one_of_two", flavor).run(|| async {
        let exporter = tokio::spawn(pending::<()>());
        allow_leak(&exporter);
        tokio::spawn(pending::<()>());
    });
    assert_fails_saying(&report, &["1 task leaked"]);
}

#[test]
#[should_panic(expected = "leakcheck::allow_leak called at tests/spawn_sites.rs")]
fn allow_leak_outside_a_leak_checked_test_panics_saying_so() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime builds");
    runtime.block_on(async {
        allow_leak(&tokio::spawn(async {}));
    });
}

#[cfg(tokio_unstable)]
#[leak_checked_test(allow_leaks = ["tests/spawn_sites.rs"])]
async fn the_attribute_takes_allow_leaks() {
    tokio::spawn(pending::<()>());
}

#[cfg(not(tokio_unstable))]
#[leak_checked_test(allow_leaks = ["tests/spawn_sites.rs"], settle = "50ms")]
#[should_panic(expected = "allow_leaks (tests/spawn_sites.rs) was not applied")]
async fn the_attribute_takes_allow_leaks() {
    tokio::spawn(pending::<()>());
}

#[cfg(all(tokio_unstable, feature = "taskdump", target_os = "linux"))]
#[rstest]
fn a_task_dump_says_what_a_leaked_task_awaits_and_where(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let await_line = line!() + 3;
    let report = leaky_check("dumped", flavor).run(|| async {
        tokio::spawn(async {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        });
    });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            &format!("awaiting tokio::time::sleep::Sleep ({THIS_FILE}:{await_line})"),
        ],
    );
}
