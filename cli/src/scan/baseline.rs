//! Baselines: the findings a code base has accepted for now, so that `--deny` fails only on
//! new ones.
//!
//! A finding is keyed by its rule, its file, the function it is in, the text of its line
//! (spaces collapsed) and, for identical lines, which of them it is: edits elsewhere in the
//! file, which move lines, keep the key; editing the line itself makes it a new finding.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Finding, Scan, ScannedFile};

const VERSION: u32 = 1;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Key {
    pub(crate) rule: String,
    pub(crate) file: String,
    pub(crate) function: String,
    pub(crate) code: String,
    /// 0 for the first finding with the same rule, file, function and code, 1 for the next.
    pub(crate) occurrence: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<Key>,
}

/// The key of every finding of `scan`, in the scan's order.
pub(crate) fn keys(scan: &Scan) -> Vec<Key> {
    let mut seen: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
    scan.findings()
        .map(|(file, finding)| {
            let (rule, function, code) = (
                finding.rule.id().to_owned(),
                finding.function.clone(),
                code(file, finding),
            );
            let occurrence = seen
                .entry((
                    rule.clone(),
                    file.shown.clone(),
                    function.clone(),
                    code.clone(),
                ))
                .or_insert(0);
            let key = Key {
                rule,
                file: file.shown.clone(),
                function,
                code,
                occurrence: *occurrence,
            };
            *occurrence += 1;
            key
        })
        .collect()
}

fn code(file: &ScannedFile, finding: &Finding) -> String {
    file.source
        .line(finding.start.line)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes every finding of `scan` to `path` as the baseline.
pub(crate) fn write(path: &Path, scan: &Scan) -> Result<(), String> {
    let file = BaselineFile {
        version: VERSION,
        findings: keys(scan),
    };
    let mut text = serde_json::to_string_pretty(&file)
        .map_err(|error| format!("cannot write the baseline: {error}"))?;
    text.push('\n');
    std::fs::write(path, text)
        .map_err(|error| format!("cannot write the baseline {}: {error}", path.display()))
}

/// The keys a baseline file holds.
pub(crate) fn read(path: &Path) -> Result<BTreeSet<Key>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read the baseline {}: {error}", path.display()))?;
    let file: BaselineFile = serde_json::from_str(&text).map_err(|error| {
        format!(
            "{} is not a baseline written by `cargo leakcheck scan --write-baseline`: {error}",
            path.display()
        )
    })?;
    if file.version != VERSION {
        return Err(format!(
            "{} is a baseline of version {}; this cargo-leakcheck reads version {VERSION}: write it again with --write-baseline",
            path.display(),
            file.version
        ));
    }
    Ok(file.findings.into_iter().collect())
}

/// Keeps only the findings of `scan` that `baseline` does not hold; gives how many it held.
pub(crate) fn keep_new(scan: &mut Scan, baseline: &BTreeSet<Key>) -> usize {
    let keys = keys(scan);
    let mut keys = keys.iter();
    let mut known = 0;
    for file in &mut scan.files {
        file.findings.retain(|_| {
            let is_new = keys.next().is_none_or(|key| !baseline.contains(key));
            known += usize::from(!is_new);
            is_new
        });
    }
    scan.files.retain(|file| !file.findings.is_empty());
    known
}
