//! What a scan prints: rustc-style warnings and a summary, JSON lines, or SARIF 2.1.0.

use std::fmt::Write as _;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;
use serde_json::json;

use super::rules::Rule;
use super::{ALLOW_COMMENT, Finding, Scan, ScannedFile, baseline, counts};
use crate::words::counted;

/// One finding as a JSON line.
#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    file: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
}

/// The findings as rustc-style warnings, then counts by rule and by file.
pub(crate) fn text(scan: &Scan, styled: bool, known: usize) -> String {
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for (file, finding) in scan.findings() {
        let _ = writeln!(out, "{}\n", renderer.render(&warning(file, finding)));
    }
    let (by_rule, by_file) = counts(scan);
    let count = scan.count();
    let _ = writeln!(
        out,
        "leakcheck scan: {} in {} (read {} of {} lines)",
        counted(count, "finding", "findings"),
        counted(by_file.len(), "file", "files"),
        counted(scan.read, "file", "files"),
        scan.lines
    );
    if count > 0 {
        let width = by_file
            .keys()
            .map(|file| file.len())
            .chain(Rule::ALL.iter().map(|rule| rule.id().len()))
            .max()
            .unwrap_or(0);
        out.push_str("  by rule:\n");
        for (rule, n) in &by_rule {
            let _ = writeln!(out, "    {:<width$}  {n}", rule.id());
        }
        out.push_str("  by file:\n");
        for (file, n) in &by_file {
            let _ = writeln!(out, "    {file:<width$}  {n}");
        }
        out.push_str("  `cargo leakcheck scan --explain <rule>` says why each matters and what to write instead\n");
    }
    if known > 0 {
        let _ = writeln!(
            out,
            "  {} in the baseline not shown",
            counted(known, "finding", "findings")
        );
    }
    if scan.allowed > 0 {
        let _ = writeln!(
            out,
            "  {} silenced by `// {ALLOW_COMMENT}`",
            counted(scan.allowed, "finding", "findings")
        );
    }
    for (file, why) in &scan.unreadable {
        let _ = writeln!(out, "  skipped {file}: {why}");
    }
    out
}

fn warning<'a>(file: &'a ScannedFile, finding: &'a Finding) -> Vec<Group<'a>> {
    let line_text = file.source.line(finding.start.line);
    let start = byte_offset(line_text, finding.start.column);
    let end = if finding.end.line == finding.start.line {
        byte_offset(line_text, finding.end.column)
    } else {
        line_text.len()
    }
    .max(start);
    vec![
        Level::WARNING
            .primary_title(&finding.message)
            .id(finding.rule.id())
            .element(
                Snippet::source(line_text)
                    .line_start(finding.start.line)
                    .path(&file.shown)
                    .annotation(
                        AnnotationKind::Primary
                            .span(start..end)
                            .label(&finding.label),
                    ),
            )
            .element(Level::HELP.message(finding.rule.help())),
    ]
}

/// The byte offset of the `column`th character of `line`.
fn byte_offset(line: &str, column: usize) -> usize {
    line.char_indices()
        .nth(column)
        .map_or(line.len(), |(offset, _)| offset)
}

/// One JSON object a line: `{"rule", "file", "line", "column", "message"}`, the column 1-based.
pub(crate) fn json_lines(scan: &Scan) -> String {
    let mut out = String::new();
    for (file, finding) in scan.findings() {
        let line = JsonFinding {
            rule: finding.rule.id(),
            file: &file.shown,
            line: finding.start.line,
            column: finding.start.column + 1,
            message: &finding.message,
        };
        if let Ok(text) = serde_json::to_string(&line) {
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

/// SARIF 2.1.0, as GitHub code scanning takes it: one run, the rules with their help, each
/// result located relative to the checkout's root and fingerprinted by its baseline key.
pub(crate) fn sarif(scan: &Scan) -> String {
    let rules: Vec<_> = Rule::ALL
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id(),
                "name": rule.id(),
                "shortDescription": { "text": rule.summary() },
                "fullDescription": { "text": rule.summary() },
                "help": { "text": rule.help(), "markdown": rule.explanation() },
                "defaultConfiguration": { "level": "warning" },
            })
        })
        .collect();
    let keys = baseline::keys(scan);
    let results: Vec<_> = scan
        .findings()
        .zip(&keys)
        .map(|((file, finding), key)| {
            let index = Rule::ALL.iter().position(|rule| *rule == finding.rule).unwrap_or(0);
            json!({
                "ruleId": finding.rule.id(),
                "ruleIndex": index,
                "level": "warning",
                "message": { "text": format!("{}. Help: {}", finding.message, finding.rule.help()) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file.shown, "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": finding.start.line,
                            "startColumn": finding.start.column + 1,
                        },
                    },
                }],
                "partialFingerprints": {
                    "leakcheckKey/v1": format!("{}:{}:{}:{}:{}", key.rule, key.file, key.function, key.code, key.occurrence),
                },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cargo-leakcheck",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
