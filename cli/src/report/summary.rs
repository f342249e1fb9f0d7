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
    /// One entry per test line.
    pub(crate) tests: Vec<ReportLine>,
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
    /// Adds every line of one report file; a line that is not a test report is an error
    /// naming the file and line.
    pub(crate) fn add_file(&mut self, name: &str, contents: &str) -> Result<(), String> {
        for (index, line) in contents.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let test = ReportLine::parse(line)
                .map_err(|error| format!("{name}:{}: {error}", index + 1))?;
            self.tests.push(test);
        }
        self.files.push(name.to_owned());
        Ok(())
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
        "leakcheck report: {} tests from {} file(s): {} passed, {} passed with leaks reported, {} failed; {leaked} tasks leaked, {panics} detached panics",
        summary.tests.len(),
        summary.files.len(),
        summary.count(Outcome::Passed),
        summary.count(Outcome::Warned),
        summary.count(Outcome::Failed),
    );
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
    let headline = escape(text(summary).lines().next().unwrap_or_default());
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
</style></head><body>
<h1>leakcheck report</h1>
<p>{headline}</p>
<h2>Leaks by spawn site</h2>
{bars}
<h2>Tests that leaked most</h2>
<table><tr><th>test</th><th>tasks</th><th>blocking</th></tr>
{leakiest}</table>
<h2>Slowest teardowns</h2>
<table><tr><th>test</th><th>step</th><th>ms</th><th>outcome</th></tr>
{teardowns}</table>
<h2>Resources left behind</h2>
<table><tr><th>test</th><th>kind</th><th>what</th></tr>
{left}</table>
<h2>Longest blocking polls</h2>
<table><tr><th>test</th><th>what</th><th>ms</th><th>verdict</th></tr>
{polls}</table>
</body></html>
"#
    )
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
    const SECOND_MACHINE: &str = r#"{"test":"orders::fills","outcome":"failed","mode":"fail","duration_ms":255.0,"settle_ms":250.0,"leaked_tasks":1,"leaks":[{"site":"src/feed.rs:77:13","name":null,"id":"9","awaiting":null}],"leaked_blocking":1,"blocking":[],"panics":[{"message":"boom","location":null}],"teardowns":[],"resources":[{"kind":"Socket","what":"TCP 127.0.0.1:41873 (listening)"}],"long_polls":[{"what":"task spawned at src/quotes.rs:9:5 (id 3)","ms":1250.0,"failed":false},{"what":"the test body","ms":900.0,"failed":true}],"findings":[]}
{"test":"stable::counted","outcome":"warned","mode":"warn","duration_ms":255.0,"settle_ms":250.0,"leaked_tasks":2,"leaks":[],"leaked_blocking":0,"blocking":[],"panics":[],"teardowns":[],"findings":[]}
"#;

    fn summary() -> Summary {
        let mut summary = Summary::default();
        summary.add_file("a.jsonl", FIRST_MACHINE).expect("valid");
        summary.add_file("b.jsonl", SECOND_MACHINE).expect("valid");
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
        assert!(text.starts_with("leakcheck report: 4 tests from 2 file(s): 1 passed, 1 passed with leaks reported, 2 failed; 6 tasks leaked, 1 detached panics"), "{text}");
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
    fn a_line_that_is_not_a_report_names_its_file_and_line() {
        let mut summary = Summary::default();
        let error = summary
            .add_file("broken.jsonl", "{\"test\":\"a\"}\n")
            .expect_err("no outcome");
        assert!(
            error.starts_with(
                "broken.jsonl:1: not a leakcheck report line (missing field `outcome`"
            ),
            "{error}"
        );
        let error = summary.add_file("torn.jsonl", "{\"te").expect_err("torn");
        assert!(error.starts_with("torn.jsonl:1: not JSON: "), "{error}");
    }
}
