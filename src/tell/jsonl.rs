//! `LEAKCHECK_REPORT=path.jsonl`: one JSON line per test, appended so that many test
//! processes (nextest runs one per test) and threads can share one file.
//!
//! Each line is written with one `write` call while holding an exclusive lock on the file, so
//! lines never interleave, whatever the writers.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::findings::{BlockedPoll, Finding, Problem, Report, TeardownStep, Verdict};
use crate::util::sites;

/// Appends `report` as a line to `path`; a failure to write fails the test, naming the file.
pub(crate) fn append(path: &Path, report: Report) -> Report {
    match write_line(path, &line(&report)) {
        Ok(()) => report,
        Err(error) => report.with_finding(Finding::ReportNotWritten {
            path: path.to_path_buf(),
            error: error.to_string(),
        }),
    }
}

fn write_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(directory) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(directory)?;
    }
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.lock()?;
    let written = file.write_all(line.as_bytes());
    file.unlock()?;
    written
}

/// The JSON line of a report, ending in a newline.
pub(crate) fn line(report: &Report) -> String {
    let mut leaks = Vec::new();
    let mut blocking = Vec::new();
    let mut panics = Vec::new();
    let mut left = Vec::new();
    let long_poll = |poll: &BlockedPoll, failed: bool| {
        object(&[
            ("what", string(&poll.what)),
            ("ms", millis(poll.at_least)),
            ("failed", failed.to_string()),
        ])
    };
    let mut long_polls: Vec<String> = report
        .long_polls()
        .iter()
        .map(|poll| long_poll(poll, false))
        .collect();
    let mut growth = Vec::new();
    let mut leaked_tasks = 0;
    let mut leaked_blocking = 0;
    for finding in report.findings() {
        match finding {
            Finding::TasksLeaked { count, tasks, .. } => {
                leaked_tasks += count;
                leaks.extend(tasks.iter().map(|task| {
                    object(&[
                        ("site", string(&task.spawned_at.to_string())),
                        ("name", optional(task.name.as_deref())),
                        ("id", string(&task.id.to_string())),
                        ("awaiting", optional(task.waiting_on.as_deref())),
                        (
                            "spawned_by",
                            optional(task.spawned_by.map(|id| id.to_string()).as_deref()),
                        ),
                        (
                            "spawned_by_at",
                            optional(task.spawned_by_at.map(sites::location).as_deref()),
                        ),
                    ])
                }));
            }
            Finding::BlockingTasksLeaked { count, tasks, .. } => {
                leaked_blocking += count;
                blocking.extend(tasks.iter().map(|task| {
                    object(&[
                        ("site", string(&task.spawned_at)),
                        ("name", optional(task.name.as_deref())),
                    ])
                }));
            }
            Finding::TaskPanicked {
                message,
                location,
                task,
            } => panics.push(object(&[
                ("message", string(message)),
                ("location", optional(location.as_deref())),
                (
                    "blocking",
                    task.blocking
                        .map_or("null".to_owned(), |blocking| blocking.to_string()),
                ),
                ("spawned_at", optional(task.spawned_at.as_deref())),
                ("name", optional(task.name.as_deref())),
            ])),
            Finding::BlockingPoll { poll, .. } => long_polls.push(long_poll(poll, true)),
            Finding::Grew(grown) => growth.push(object(&[
                ("what", string(&grown.counted.to_string())),
                ("per_repetition", grown.least.to_string()),
                ("most", grown.most.to_string()),
                ("repetitions", grown.repetitions.to_string()),
                ("warm_up", grown.warm_up.to_string()),
                (
                    "sites",
                    array(
                        &grown
                            .sites
                            .iter()
                            .map(|site| string(site))
                            .collect::<Vec<_>>(),
                    ),
                ),
            ])),
            Finding::ResourcesLeft { resources, .. } => {
                left.extend(resources.iter().map(|resource| {
                    object(&[
                        ("kind", string(&format!("{:?}", resource.kind))),
                        ("what", string(&resource.what)),
                    ])
                }));
            }
            _ => {}
        }
    }
    let teardowns: Vec<String> = report
        .teardowns()
        .iter()
        .map(|record| {
            let (outcome, detail) = match &record.problem {
                None => ("ok", None),
                Some(Problem::Failed(error)) => ("failed", Some(error.as_str())),
                Some(Problem::Panicked(message)) => ("panicked", Some(message.as_str())),
                Some(Problem::TimedOut(_)) => ("timed out", None),
            };
            let step = match &record.step {
                TeardownStep::Fixture(name) => format!("fixture {name}"),
                TeardownStep::Hook(location) => format!("hook at {location}"),
            };
            object(&[
                ("step", string(&step)),
                ("ms", millis(record.took)),
                ("outcome", string(outcome)),
                ("detail", optional(detail)),
            ])
        })
        .collect();
    let outcome = match report.verdict() {
        // A `#[should_panic]` test, judged as its runner judges it.
        _ if report.should_panic.is_some() => {
            if report.passes_its_runner() {
                "passed"
            } else {
                "failed"
            }
        }
        Verdict::Passed => "passed",
        Verdict::PassedWithResourcesReported | Verdict::PassedWithLeaksReported => "warned",
        Verdict::Failed => "failed",
    };
    let allowed: Vec<String> = report
        .allowed
        .iter()
        .map(|entry| {
            object(&[
                ("rule", string(&entry.rule)),
                ("tasks", entry.tasks.to_string()),
                ("resources", entry.resources.to_string()),
            ])
        })
        .collect();
    let findings: Vec<String> = report
        .findings()
        .iter()
        .map(|finding| string(&finding.to_string()))
        .collect();
    let mut line = object(&[
        ("test", string(report.test())),
        ("outcome", string(outcome)),
        ("mode", string(&report.mode().to_string())),
        ("duration_ms", millis(report.duration())),
        ("settle_ms", millis(report.settle_time())),
        ("leaked_tasks", leaked_tasks.to_string()),
        ("leaks", array(&leaks)),
        ("leaked_blocking", leaked_blocking.to_string()),
        ("blocking", array(&blocking)),
        ("panics", array(&panics)),
        ("teardowns", array(&teardowns)),
        ("long_polls", array(&long_polls)),
        ("resources", array(&left)),
        ("allowed", array(&allowed)),
        ("growth", array(&growth)),
        ("findings", array(&findings)),
    ]);
    line.push('\n');
    line
}

fn object(fields: &[(&str, String)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{}:{value}", string(name)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn array(items: &[String]) -> String {
    format!("[{}]", items.join(","))
}

fn optional(text: Option<&str>) -> String {
    text.map_or_else(|| "null".to_owned(), string)
}

fn millis(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(control));
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::{line, string};
    use crate::findings::{Finding, LeakedTask, Report};

    #[test]
    fn strings_escape_what_json_requires() {
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string("say \"hi\"\\n"), "\"say \\\"hi\\\"\\\\n\"");
        assert_eq!(
            string("line\nnext\ttab\u{1}"),
            "\"line\\nnext\\ttab\\u0001\""
        );
    }

    #[test]
    fn a_leaked_task_names_the_task_that_spawned_it() {
        let ids = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(async {
                let child = tokio::spawn(async { tokio::task::id() }).await;
                let parent = tokio::spawn(async { tokio::task::id() }).await;
                (child.expect("ran"), parent.expect("ran"))
            });
        let parent_site = std::panic::Location::caller();
        let task = LeakedTask {
            id: ids.0,
            spawned_at: std::panic::Location::caller(),
            name: None,
            spawned_by: Some(ids.1),
            spawned_by_at: Some(parent_site),
            waiting_on: None,
        };
        let report = Report::new(
            "feed::pumps".into(),
            vec![Finding::TasksLeaked {
                count: 1,
                settle: std::time::Duration::from_millis(250),
                tasks: vec![task],
            }],
            None,
        );
        let line = line(&report);
        assert!(
            line.contains(&format!(
                "\"spawned_by\":\"{}\",\"spawned_by_at\":\"src/tell/jsonl.rs:{}:",
                ids.1,
                parent_site.line()
            )),
            "{line}"
        );
    }
}
