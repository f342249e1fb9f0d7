//! The summary behind `cargo leakcheck report`: a suite's report lines, grouped for reading.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report_line::{Outcome, ReportLine};
use crate::words::counted;

/// Spawn sites, tests and teardowns shown in each table, at most.
const TOP: usize = 15;

/// What the report lines of a suite add up to.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Files read, in order.
    pub(crate) files: Vec<String>,
    /// One entry per test: a later line for a test already read (its re-run) refines it.
    pub(crate) tests: Vec<ReportLine>,
    /// Lines that could not be read, each `file:line: why`: a process killed while it wrote
    /// leaves its last line torn, and the rest of the file is still worth reading.
    pub(crate) skipped: Vec<String>,
}

/// A spawn site and what leaked from it across the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
    /// `file:line:col`, or a note that the build could not tell.
    pub(crate) site: String,
    /// Tasks leaked from it.
    pub(crate) tasks: u64,
    /// Tests that leaked from it.
    pub(crate) tests: u64,
}

/// What stands in for the spawn site of leaks counted by a build without `tokio_unstable`.
pub(crate) const UNKNOWN_SITE: &str = "(site unknown: run `cargo leakcheck test`)";

impl Summary {
    /// Adds every line of one report file; a line that is not a test report is skipped and
    /// named in [`Summary::skipped`].
    pub(crate) fn add_file(&mut self, name: &str, contents: &str) {
        for (index, line) in contents.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match ReportLine::parse(line) {
                Ok(test) => self.add(test),
                Err(error) => self.skipped.push(format!("{name}:{}: {error}", index + 1)),
            }
        }
        self.files.push(name.to_owned());
    }

    /// Adds one test's line. A test read already was run again (`cargo leakcheck test`
    /// re-runs the leaky ones to find their spawn sites): the later line takes its place,
    /// unless the problem did not happen again, when the first run's line, which saw it,
    /// stays.
    pub(crate) fn add(&mut self, test: ReportLine) {
        match self.tests.iter_mut().find(|known| known.test == test.test) {
            Some(known) if test.problems() > 0 || known.problems() == 0 => *known = test,
            Some(_) => {}
            None => self.tests.push(test),
        }
    }

    /// Spawn sites by tasks leaked, most first, ties by site.
    pub(crate) fn sites(&self) -> Vec<Site> {
        let mut sites: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for test in &self.tests {
            let mut seen_in_test: Vec<&str> = Vec::new();
            for leak in &test.leaks {
                let site = leak.site.as_str();
                let entry = sites.entry(site).or_default();
                entry.0 += 1;
                if !seen_in_test.contains(&site) {
                    entry.1 += 1;
                    seen_in_test.push(site);
                }
            }
            let unnamed = test.leaked_tasks.saturating_sub(test.leaks.len() as u64);
            if unnamed > 0 {
                let entry = sites.entry(UNKNOWN_SITE).or_default();
                entry.0 += unnamed;
                entry.1 += 1;
            }
        }
        let mut sites: Vec<Site> = sites
            .into_iter()
            .map(|(site, (tasks, tests))| Site {
                site: site.to_owned(),
                tasks,
                tests,
            })
            .collect();
        sites.sort_by(|a, b| b.tasks.cmp(&a.tasks).then_with(|| a.site.cmp(&b.site)));
        sites
    }

    /// Tests by tasks leaked, most first.
    pub(crate) fn leakiest_tests(&self) -> Vec<&ReportLine> {
        let mut tests: Vec<&ReportLine> = self
            .tests
            .iter()
            .filter(|test| test.leaked_tasks + test.leaked_blocking > 0)
            .collect();
        tests.sort_by(|a, b| {
            (b.leaked_tasks + b.leaked_blocking)
                .cmp(&(a.leaked_tasks + a.leaked_blocking))
                .then_with(|| a.test.cmp(&b.test))
        });
        tests
    }

    /// Teardown steps by time taken, slowest first: (test, step, ms, outcome).
    pub(crate) fn slowest_teardowns(&self) -> Vec<(&str, &str, f64, &str)> {
        let mut steps: Vec<(&str, &str, f64, &str)> = self
            .tests
            .iter()
            .flat_map(|test| {
                test.teardowns.iter().map(|step| {
                    (
                        test.test.as_str(),
                        step.step.as_str(),
                        step.ms,
                        step.outcome.as_str(),
                    )
                })
            })
            .collect();
        steps.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(b.0)));
        steps
    }

    /// Resources left behind, by test: (test, kind, what).
    pub(crate) fn resources_left(&self) -> Vec<(&str, &str, &str)> {
        self.tests
            .iter()
            .flat_map(|test| {
                test.resources.iter().map(|resource| {
                    (
                        test.test.as_str(),
                        resource.kind.as_str(),
                        resource.what.as_str(),
                    )
                })
            })
            .collect()
    }

    /// What each `allow_leaks` rule let go across the suite, by rule: (rule, tasks,
    /// resources, tests), most first.
    pub(crate) fn allowed(&self) -> Vec<(&str, u64, u64, u64)> {
        let mut rules: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
        for test in &self.tests {
            for entry in &test.allowed {
                let counts = rules.entry(entry.rule.as_str()).or_default();
                counts.0 += entry.tasks;
                counts.1 += entry.resources;
                counts.2 += 1;
            }
        }
        let mut rules: Vec<(&str, u64, u64, u64)> = rules
            .into_iter()
            .map(|(rule, (tasks, resources, tests))| (rule, tasks, resources, tests))
            .collect();
        rules.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then_with(|| a.0.cmp(b.0)));
        rules
    }

    /// Polls that blocked their thread, longest first: (test, what, ms, failed).
    pub(crate) fn longest_polls(&self) -> Vec<(&str, &str, f64, bool)> {
        let mut polls: Vec<(&str, &str, f64, bool)> = self
            .tests
            .iter()
            .flat_map(|test| {
                test.long_polls
                    .iter()
                    .map(|poll| (test.test.as_str(), poll.what.as_str(), poll.ms, poll.failed))
            })
            .collect();
        polls.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(b.0)));
        polls
    }

    fn count(&self, outcome: Outcome) -> usize {
        self.tests
            .iter()
            .filter(|test| test.outcome == outcome)
            .count()
    }
}

/// The summary as text for a terminal or a CI log.
pub(crate) fn text(summary: &Summary) -> String {
    let mut out = String::new();
    let leaked: u64 = summary.tests.iter().map(|test| test.leaked_tasks).sum();
    let panics: u64 = summary
        .tests
        .iter()
        .map(|test| test.panics.len() as u64)
        .sum();
    let _ = writeln!(
        out,
        "leakcheck report: {} from {}: {} passed, {} passed with leaks reported, {} failed; {} leaked, {}",
        counted(summary.tests.len(), "test", "tests"),
        counted(summary.files.len(), "file", "files"),
        summary.count(Outcome::Passed),
        summary.count(Outcome::Warned),
        summary.count(Outcome::Failed),
        counted(leaked, "task", "tasks"),
        counted(panics, "detached panic", "detached panics"),
    );
    for skipped in &summary.skipped {
        let _ = writeln!(out, "skipped {skipped}");
    }
    let sites = summary.sites();
    if !sites.is_empty() {
        let _ = writeln!(out, "\nLeaks by spawn site\n  tasks  tests  site");
        for site in sites.iter().take(TOP) {
            let _ = writeln!(out, "  {:>5}  {:>5}  {}", site.tasks, site.tests, site.site);
        }
        if sites.len() > TOP {
            let _ = writeln!(out, "  ... and {} more sites", sites.len() - TOP);
        }
    }
    let leakiest = summary.leakiest_tests();
    if !leakiest.is_empty() {
        let _ = writeln!(out, "\nTests that leaked most\n  tasks  blocking  test");
        for test in leakiest.iter().take(TOP) {
            let _ = writeln!(
                out,
                "  {:>5}  {:>8}  {}",
                test.leaked_tasks, test.leaked_blocking, test.test
            );
        }
    }
    let teardowns = summary.slowest_teardowns();
    if !teardowns.is_empty() {
        let _ = writeln!(
            out,
            "\nSlowest teardowns\n  {:>9}  {:<9}  step / test",
            "ms", "outcome"
        );
        for (test, step, ms, outcome) in teardowns.iter().take(TOP) {
            let _ = writeln!(out, "  {ms:>9.1}  {outcome:<9}  {step} / {test}");
        }
    }
    let left = summary.resources_left();
    if !left.is_empty() {
        let _ = writeln!(
            out,
            "\nResources left behind\n  {:<12}  what / test",
            "kind"
        );
        for (test, kind, what) in left.iter().take(TOP) {
            let _ = writeln!(out, "  {kind:<12}  {what} / {test}");
        }
        if left.len() > TOP {
            let _ = writeln!(out, "  ... and {} more", left.len() - TOP);
        }
    }
    let growing: Vec<&ReportLine> = summary
        .tests
        .iter()
        .filter(|test| !test.growth.is_empty())
        .collect();
    if !growing.is_empty() {
        let _ = writeln!(out, "\nGrowing tests");
        for test in growing.iter().take(TOP) {
            for grew in &test.growth {
                let _ = writeln!(
                    out,
                    "  {} grew by {} every repetition ({} repetitions) / {}",
                    grew.what, grew.per_repetition, grew.repetitions, test.test
                );
            }
        }
    }
    let allowed = summary.allowed();
    if !allowed.is_empty() {
        let _ = writeln!(out, "\nAllowed by rule");
        for line in allowed_lines(&allowed) {
            let _ = writeln!(out, "  {line}");
        }
    }
    let polls = summary.longest_polls();
    if !polls.is_empty() {
        let _ = writeln!(
            out,
            "\nLongest blocking polls\n  {:>9}  {:<9}  what / test",
            "ms", "verdict"
        );
        for (test, what, ms, failed) in polls.iter().take(TOP) {
            let verdict = if *failed { "failed" } else { "warned" };
            let _ = writeln!(out, "  {ms:>9.1}  {verdict:<9}  {what} / {test}");
        }
    }
    out
}

/// The summary as one self-contained HTML page with a bar chart of leaks by spawn site.
pub(crate) fn html(summary: &Summary) -> String {
    let sites = summary.sites();
    let widest = sites.first().map_or(1, |site| site.tasks.max(1));
    let mut bars = String::new();
    for site in sites.iter().take(TOP) {
        let percent = site.tasks as f64 * 100.0 / widest as f64;
        let _ = writeln!(
            bars,
            "<div class=\"row\"><div class=\"label\">{}</div><div class=\"track\"><div class=\"bar\" style=\"width:{percent:.1}%\"></div></div><div class=\"count\">{} in {}</div></div>",
            escape(&site.site),
            counted(site.tasks, "task", "tasks"),
            counted(site.tests, "test", "tests")
        );
    }
    let mut leakiest = String::new();
    for test in summary.leakiest_tests().iter().take(TOP) {
        let _ = writeln!(
            leakiest,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&test.test),
            test.leaked_tasks,
            test.leaked_blocking
        );
    }
    let mut teardowns = String::new();
    for (test, step, ms, outcome) in summary.slowest_teardowns().iter().take(TOP) {
        let _ = writeln!(
            teardowns,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{ms:.1}</td><td>{}</td></tr>",
            escape(test),
            escape(step),
            escape(outcome)
        );
    }
    let mut polls = String::new();
    for (test, what, ms, failed) in summary.longest_polls().iter().take(TOP) {
        let _ = writeln!(
            polls,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{ms:.1}</td><td>{}</td></tr>",
            escape(test),
            escape(what),
            if *failed { "failed" } else { "warned" }
        );
    }
    let mut left = String::new();
    for (test, kind, what) in summary.resources_left().iter().take(TOP) {
        let _ = writeln!(
            left,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(test),
            escape(kind),
            escape(what)
        );
    }
    let allowed: String = allowed_lines(&summary.allowed())
        .iter()
        .map(|line| format!("<p>{}</p>\n", escape(line)))
        .collect();
    let headline = escape(text(summary).lines().next().unwrap_or_default());
    let sections = [
        section("Leaks by spawn site", None, &bars),
        section(
            "Tests that leaked most",
            Some(&["test", "tasks", "blocking"]),
            &leakiest,
        ),
        section(
            "Slowest teardowns",
            Some(&["test", "step", "ms", "outcome"]),
            &teardowns,
        ),
        section(
            "Resources left behind",
            Some(&["test", "kind", "what"]),
            &left,
        ),
        section("Allowed by rule", None, &allowed),
        section(
            "Longest blocking polls",
            Some(&["test", "what", "ms", "verdict"]),
            &polls,
        ),
    ]
    .concat();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>leakcheck report</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d232a; }}
h1 {{ font-size: 1.3rem; }} h2 {{ font-size: 1.05rem; margin-top: 2rem; }}
.row {{ display: grid; grid-template-columns: 28rem 1fr 10rem; gap: .75rem; align-items: center; margin: .3rem 0; }}
.label {{ font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }}
.track {{ background: #eef1f4; border-radius: 3px; height: 1.1rem; }}
.bar {{ background: #c0392b; height: 100%; border-radius: 3px; }}
.count {{ color: #5b6570; font-size: 12px; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .25rem .75rem; border-bottom: 1px solid #e3e7eb; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.none {{ color: #5b6570; }}
</style></head><body>
<h1>leakcheck report</h1>
<p>{headline}</p>
{sections}</body></html>
"#
    )
}

/// `allowed: 26 tasks by rule `bb8` (in 3 tests)`, one a rule.
fn allowed_lines(allowed: &[(&str, u64, u64, u64)]) -> Vec<String> {
    allowed
        .iter()
        .map(|(rule, tasks, resources, tests)| {
            let mut what = Vec::new();
            if *tasks > 0 {
                what.push(counted(tasks, "task", "tasks"));
            }
            if *resources > 0 {
                what.push(counted(resources, "resource", "resources"));
            }
            format!(
                "allowed: {} by rule `{rule}` (in {})",
                what.join(" and "),
                counted(tests, "test", "tests")
            )
        })
        .collect()
}

/// One section of the page: its rows under a table head (bars have none), or "none".
fn section(title: &str, head: Option<&[&str]>, rows: &str) -> String {
    if rows.is_empty() {
        return format!("<h2>{title}</h2>\n<p class=\"none\">none</p>\n");
    }
    match head {
        None => format!("<h2>{title}</h2>\n{rows}"),
        Some(columns) => {
            let head: String = columns
                .iter()
                .map(|column| format!("<th>{column}</th>"))
                .collect();
            format!("<h2>{title}</h2>\n<table><tr>{head}</tr>\n{rows}</table>\n")
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST_MACHINE: &str = r#"{"test":"feed::publishes","outcome":"failed","mode":"fail","duration_ms":260.0,"settle_ms":250.0,"leaked_tasks":3,"leaks":[{"site":"src/feed.rs:77:13","name":null,"id":"4","awaiting":null},{"site":"src/feed.rs:77:13","name":null,"id":"5","awaiting":null},{"site":"src/ws.rs:12:5","name":"reconnect","id":"6","awaiting":null}],"leaked_blocking":0,"blocking":[],"panics":[],"teardowns":[{"step":"fixture Feed","ms":5000.2,"outcome":"timed out","detail":null}],"findings":["3 tasks leaked"]}
{"test":"feed::quiet","outcome":"passed","mode":"fail","duration_ms":1.0,"settle_ms":0.0,"leaked_tasks":0,"leaks":[],"leaked_blocking":0,"blocking":[],"panics":[],"teardowns":[{"step":"fixture Feed","ms":2.5,"outcome":"ok","detail":null}],"findings":[]}
"#;
    const SECOND_MACHINE: &str = r#"{"test":"orders::fills","growth":[{"what":"gauge `subscribers`","per_repetition":1,"most":1,"repetitions":20,"warm_up":5}],"allowed":[{"rule":"bb8","tasks":26,"resources":0},{"rule":"thread:tailer","tasks":0,"resources":1}],"outcome":"failed","mode":"fail","duration_ms":255.0,"settle_ms":250.0,"leaked_tasks":1,"leaks":[{"site":"src/feed.rs:77:13","name":null,"id":"9","awaiting":null}],"leaked_blocking":1,"blocking":[],"panics":[{"message":"boom","location":null}],"teardowns":[],"resources":[{"kind":"Socket","what":"TCP 127.0.0.1:41873 (listening)"}],"long_polls":[{"what":"task spawned at src/quotes.rs:9:5 (id 3)","ms":1250.0,"failed":false},{"what":"the test body","ms":900.0,"failed":true}],"findings":[]}
{"test":"stable::counted","outcome":"warned","mode":"warn","duration_ms":255.0,"settle_ms":250.0,"leaked_tasks":2,"leaks":[],"leaked_blocking":0,"blocking":[],"panics":[],"teardowns":[],"findings":[]}
"#;

    fn summary() -> Summary {
        let mut summary = Summary::default();
        summary.add_file("a.jsonl", FIRST_MACHINE);
        summary.add_file("b.jsonl", SECOND_MACHINE);
        summary
    }

    #[test]
    fn files_from_several_machines_merge_into_sites_by_tasks_leaked() {
        let sites = summary().sites();
        assert_eq!(
            sites,
            vec![
                Site {
                    site: "src/feed.rs:77:13".into(),
                    tasks: 3,
                    tests: 2
                },
                Site {
                    site: UNKNOWN_SITE.into(),
                    tasks: 2,
                    tests: 1
                },
                Site {
                    site: "src/ws.rs:12:5".into(),
                    tasks: 1,
                    tests: 1
                },
            ]
        );
    }

    #[test]
    fn the_text_names_counts_sites_tests_and_slow_teardowns() {
        let text = text(&summary());
        assert!(text.starts_with("leakcheck report: 4 tests from 2 files: 1 passed, 1 passed with leaks reported, 2 failed; 6 tasks leaked, 1 detached panic\n"), "{text}");
        assert!(text.contains("      3      2  src/feed.rs:77:13"), "{text}");
        assert!(
            text.contains("      3         0  feed::publishes"),
            "{text}"
        );
        assert!(
            text.contains("     5000.2  timed out  fixture Feed / feed::publishes"),
            "{text}"
        );
        assert!(
            text.contains("\nLongest blocking polls\n         ms  verdict    what / test\n     1250.0  warned     task spawned at src/quotes.rs:9:5 (id 3) / orders::fills\n      900.0  failed     the test body / orders::fills"),
            "{text}"
        );
        assert!(
            text.contains("\nResources left behind\n  kind          what / test\n  Socket        TCP 127.0.0.1:41873 (listening) / orders::fills"),
            "{text}"
        );
        assert!(
            text.contains("\nGrowing tests\n  gauge `subscribers` grew by 1 every repetition (20 repetitions) / orders::fills\n"),
            "{text}"
        );
        assert!(
            text.contains("\nAllowed by rule\n  allowed: 26 tasks by rule `bb8` (in 1 test)\n  allowed: 1 resource by rule `thread:tailer` (in 1 test)\n"),
            "{text}"
        );
        let first_test = text.find("feed::publishes").expect("listed");
        let second_test = text.find("stable::counted").expect("listed");
        assert!(first_test < second_test, "most leaks first:\n{text}");
    }

    #[test]
    fn the_html_page_is_self_contained_with_a_bar_per_site() {
        let page = html(&summary());
        assert_eq!(page.matches("class=\"bar\"").count(), 3);
        assert!(
            page.contains("style=\"width:100.0%\""),
            "the largest site fills its row"
        );
        assert!(
            !page.contains("<script") && !page.contains("http"),
            "nothing to fetch"
        );
        assert!(page.contains("src/feed.rs:77:13"));
        assert!(page.contains(">3 tasks in 2 tests<") && page.contains(">1 task in 1 test<"));
    }

    #[test]
    fn a_line_that_cannot_be_read_is_skipped_and_named_and_the_rest_summarised() {
        let mut summary = Summary::default();
        let torn = format!("{}{{\"test\":\"feed::qu", FIRST_MACHINE);
        summary.add_file("torn.jsonl", &torn);
        summary.add_file("broken.jsonl", "{\"test\":\"a\"}\n");
        assert_eq!(summary.tests.len(), 2);
        assert_eq!(summary.skipped.len(), 2, "{:?}", summary.skipped);
        assert!(
            summary.skipped[0].starts_with("torn.jsonl:3: not JSON: "),
            "{:?}",
            summary.skipped
        );
        assert!(
            summary.skipped[1].starts_with(
                "broken.jsonl:1: not a leakcheck report line (missing field `outcome`"
            ),
            "{:?}",
            summary.skipped
        );
        let text = text(&summary);
        assert!(
            text.starts_with("leakcheck report: 2 tests from 2 files: 1 passed, 0 passed with leaks reported, 1 failed; 3 tasks leaked, 0 detached panics\nskipped torn.jsonl:3: not JSON: "),
            "{text}"
        );
    }

    #[test]
    fn a_re_run_refines_the_first_line_of_its_test_and_is_not_counted_again() {
        let first = r#"{"test":"feed::a","outcome":"failed","leaked_tasks":1}
{"test":"feed::b","outcome":"failed","leaked_tasks":1}
{"test":"feed::c","outcome":"passed","leaked_tasks":0}
"#;
        let rerun = r#"{"test":"feed::a","outcome":"failed","leaked_tasks":1,"leaks":[{"site":"src/feed.rs:7:5","name":null,"id":"3","awaiting":null}]}
{"test":"feed::b","outcome":"passed","leaked_tasks":0}
"#;
        let mut summary = Summary::default();
        summary.add_file("report.jsonl", first);
        summary.add_file("unstable.jsonl", rerun);
        assert_eq!(summary.tests.len(), 3);
        assert_eq!(summary.tests[0].leaks.len(), 1, "the re-run names the site");
        assert_eq!(
            summary.tests[1].outcome,
            Outcome::Failed,
            "a leak that did not happen again still happened"
        );
        assert!(
            text(&summary).starts_with("leakcheck report: 3 tests from 2 files: 1 passed, 0 passed with leaks reported, 2 failed; 2 tasks leaked"),
            "{}",
            text(&summary)
        );
    }

    #[test]
    fn an_empty_section_of_the_page_says_none() {
        let mut summary = Summary::default();
        summary.add_file(
            "quiet.jsonl",
            r#"{"test":"feed::c","outcome":"passed","leaked_tasks":0}"#,
        );
        let page = html(&summary);
        assert_eq!(
            page.matches("<p class=\"none\">none</p>").count(),
            6,
            "{page}"
        );
        assert!(!page.contains("<table>"), "{page}");
        assert!(page.contains("1 test from 1 file"), "{page}");
    }
}
