//! `cargo leakcheck scan` on a fixture crate whose lines that must be reported end in
//! `// expect: <rule>`: every such line found, and nothing else.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Run, fixture, leakcheck, scratch_copy};
use serde_json::Value;

const SCANNED: &str = "scanned";

/// (file, line, rule) of every `// expect: <rule>` in the fixture.
fn expected(root: &Path) -> BTreeSet<(String, usize, String)> {
    let mut expected = BTreeSet::new();
    for file in ["src/lib.rs", "tests/feed.rs"] {
        let text = std::fs::read_to_string(root.join(file)).expect("a fixture file");
        for (index, line) in text.lines().enumerate() {
            let mark = line.rsplit_once("// expect: ").map(|(_, rule)| rule.trim());
            if let Some(rule) =
                mark.filter(|rule| rule.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            {
                expected.insert((file.to_owned(), index + 1, rule.to_owned()));
            }
        }
    }
    expected
}

fn found(output: &str) -> BTreeSet<(String, usize, String)> {
    output
        .lines()
        .map(|line| {
            let finding: Value = serde_json::from_str(line).expect("a JSON line");
            (
                finding["file"].as_str().expect("a file").to_owned(),
                usize::try_from(finding["line"].as_u64().expect("a line")).expect("a line"),
                finding["rule"].as_str().expect("a rule").to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_marked_line_is_found_and_nothing_else() {
    let root = fixture(SCANNED);
    let run = leakcheck(&["scan", "--format", "json"])
        .current_dir(&root)
        .run();
    run.assert_exit(0);
    let expected = expected(&root);
    assert_eq!(expected.len(), 25, "the fixture's marks");
    let found = found(&run.stdout);
    let missed: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed {missed:?}\nextra {extra:?}"
    );
}

#[test]
fn json_lines_have_the_documented_fields() {
    let run = leakcheck(&["scan", "--format", "json"])
        .current_dir(fixture(SCANNED))
        .run();
    let first: Value =
        serde_json::from_str(run.stdout.lines().next().expect("a finding")).expect("a JSON line");
    let mut keys: Vec<&str> = first
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["column", "file", "line", "message", "rule"]);
    assert_eq!(
        first["file"], "src/lib.rs",
        "relative to the workspace root"
    );
    assert_eq!(first["line"], 42);
    assert_eq!(first["column"], 21, "1-based, at the method's name");
}

#[test]
fn text_reads_like_rustc_and_ends_with_the_counts() {
    let run = leakcheck(&["scan"]).current_dir(fixture(SCANNED)).run();
    run.assert_exit(0);
    let expected_start = "\
warning[detached-spawn]: the task spawned by `Handle::spawn` is detached: nothing awaits, aborts or owns it
  --> src/lib.rs:42:21
   |
42 |         self.handle.spawn(work()); // expect: detached-spawn
   |                     ^^^^^ its JoinHandle is dropped at the end of this statement
   |
   = help: keep the handle and end the task (await or abort it, or spawn on a JoinSet or TaskTracker); if detaching is meant, write `// leakcheck:allow` above
";
    assert!(run.stdout.starts_with(expected_start), "{}", run.stdout);
    for expected in [
        "warning[unused-handle]: the JoinHandle of `tokio::spawn` is bound to `_guard`, which is never used",
        "warning[discarded-future]: the future of `async fn Feed::close` is made and thrown away: it never runs",
        "leakcheck scan: 25 findings in 2 files (read 2 files of ",
        "    detached-spawn    18\n    unused-handle     2\n    discarded-future  5\n",
        "    src/lib.rs        24\n    tests/feed.rs     1\n",
        "  1 finding silenced by `// leakcheck:allow`\n",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} in\n{}",
            run.stdout
        );
    }
}

#[test]
fn sarif_is_a_2_1_0_log_with_located_results() {
    let run = leakcheck(&["scan", "--format", "sarif"])
        .current_dir(fixture(SCANNED))
        .run();
    run.assert_exit(0);
    let log: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let run_log = &log["runs"][0];
    assert_eq!(run_log["tool"]["driver"]["name"], "cargo-leakcheck");
    let rules: Vec<&str> = run_log["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|rule| rule["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(
        rules,
        ["detached-spawn", "unused-handle", "discarded-future"]
    );
    let results = run_log["results"].as_array().expect("results");
    assert_eq!(results.len(), 25);
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/lib.rs");
    assert_eq!(location["region"]["startLine"], 42);
    assert_eq!(location["region"]["startColumn"], 21);
    let index =
        usize::try_from(results[0]["ruleIndex"].as_u64().expect("an index")).expect("an index");
    assert_eq!(rules[index], results[0]["ruleId"]);
}

#[test]
fn deny_fails_on_findings_outside_the_baseline_only() {
    let root = scratch_copy(SCANNED, "scan-baseline");
    let baseline = root.join("leakcheck-baseline.json");
    let baseline_argument = baseline.to_str().expect("a UTF-8 path");

    leakcheck(&["scan", "--deny"])
        .current_dir(&root)
        .run()
        .assert_exit(1);
    leakcheck(&["scan", "--write-baseline", baseline_argument])
        .current_dir(&root)
        .run()
        .assert_exit(0);
    let accepted = leakcheck(&["scan", "--deny", "--baseline", baseline_argument])
        .current_dir(&root)
        .run();
    accepted.assert_exit(0);
    assert!(
        accepted
            .stdout
            .contains("25 findings in the baseline not shown"),
        "{}",
        accepted.stdout
    );

    // Lines moved by an edit elsewhere keep their baseline entries.
    let library = root.join("src/lib.rs");
    let source = std::fs::read_to_string(&library).expect("the fixture");
    std::fs::write(&library, format!("//! Moved down.\n\n\n{source}")).expect("edited");
    leakcheck(&["scan", "--deny", "--baseline", baseline_argument])
        .current_dir(&root)
        .run()
        .assert_exit(0);

    // A new detached spawn is denied, and is the only one shown.
    std::fs::write(
        &library,
        format!("{source}\npub fn another() {{\n    tokio::spawn(work());\n}}\n"),
    )
    .expect("edited");
    let denied = leakcheck(&["scan", "--deny", "--baseline", baseline_argument])
        .current_dir(&root)
        .run();
    denied.assert_exit(1);
    assert!(
        denied
            .stdout
            .contains("leakcheck scan: 1 finding in 1 file"),
        "{}",
        denied.stdout
    );
    assert!(
        denied.stdout.contains("tokio::spawn(work());"),
        "{}",
        denied.stdout
    );
    assert!(
        denied
            .stderr
            .contains("1 finding is not in the baseline (--deny)"),
        "{}",
        denied.stderr
    );
}

#[test]
fn explain_prints_the_rule_and_an_unknown_rule_lists_them() {
    let explained = leakcheck(&["scan", "--explain", "unused-handle"]).run();
    explained.assert_exit(0);
    for part in [
        "### What it does",
        "### Why is this bad",
        "### Example",
        "### Use instead",
    ] {
        assert!(explained.stdout.contains(part), "{}", explained.stdout);
    }
    let unknown = leakcheck(&["scan", "--explain", "detached"]).run();
    unknown.assert_exit(2);
    assert!(
        unknown.stderr.contains("there is no rule `detached`; the rules are detached-spawn, unused-handle, discarded-future"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn cargo_s_own_form_and_paths_are_taken() {
    let root = fixture(SCANNED);
    let run: Run = leakcheck(&["leakcheck", "scan", "--format", "json", "tests"])
        .current_dir(&root)
        .run();
    run.assert_exit(0);
    assert_eq!(
        found(&run.stdout),
        BTreeSet::from([("tests/feed.rs".to_owned(), 5, "detached-spawn".to_owned())])
    );
    let missing = leakcheck(&["scan", "no/such/dir"]).current_dir(&root).run();
    missing.assert_exit(2);
    assert!(
        missing
            .stderr
            .contains("no/such/dir: no such file or directory"),
        "{}",
        missing.stderr
    );
}
