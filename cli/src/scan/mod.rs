//! `cargo leakcheck scan`: reads Rust files, without compiling anything, for tasks spawned and
//! left to run on their own, and futures thrown away unawaited.

pub(crate) mod baseline;
pub(crate) mod command;
mod names;
pub(crate) mod output;
pub(crate) mod rules;
mod source;
mod walk;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Barrier, Mutex, OnceLock, PoisonError};

use proc_macro2::{LineColumn, Span};
use syn::visit::Visit;

use rules::Rule;
use source::Source;
use walk::{CodeBase, Context};

use crate::paths::shown_path;

/// The comment that silences a finding on its line or the line below it.
pub(crate) const ALLOW_COMMENT: &str = "leakcheck:allow";

/// A finding in a file, before it is placed in the file.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub(crate) rule: Rule,
    /// Where the offending token starts (line 1-based, column 0-based in characters).
    pub(crate) start: LineColumn,
    /// Where it ends; only its part on the start line is underlined.
    pub(crate) end: LineColumn,
    pub(crate) message: String,
    /// What the underline says.
    pub(crate) label: String,
    /// The function it is in (`Feed::start`), which keeps a baseline entry through edits
    /// that move lines.
    pub(crate) function: String,
}

impl Finding {
    pub(crate) fn new(
        rule: Rule,
        span: Span,
        message: String,
        label: String,
        context: &Context<'_>,
    ) -> Finding {
        Finding {
            rule,
            start: span.start(),
            end: span.end(),
            message,
            label,
            function: context.function.join("::"),
        }
    }
}

/// A file read by the scan, with what was found in it.
#[derive(Debug)]
pub(crate) struct ScannedFile {
    /// The path as reports show it: relative to the workspace root, with `/`.
    pub(crate) shown: String,
    pub(crate) source: Source,
    pub(crate) findings: Vec<Finding>,
}

/// What a scan found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The files with findings, in path order.
    pub(crate) files: Vec<ScannedFile>,
    /// How many files were read.
    pub(crate) read: usize,
    /// How many lines they had.
    pub(crate) lines: usize,
    /// Findings silenced by `// leakcheck:allow`.
    pub(crate) allowed: usize,
    /// Files that could not be read or parsed, with why.
    pub(crate) unreadable: Vec<(String, String)>,
}

impl Scan {
    pub(crate) fn findings(&self) -> impl Iterator<Item = (&ScannedFile, &Finding)> {
        self.files
            .iter()
            .flat_map(|file| file.findings.iter().map(move |finding| (file, finding)))
    }

    pub(crate) fn count(&self) -> usize {
        self.files.iter().map(|file| file.findings.len()).sum()
    }
}

/// Scans `files` (shown relative to `root`), on as many threads as the machine has cores.
pub(crate) fn scan(root: &Path, files: &[PathBuf]) -> Scan {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, files.len().max(1));
    let chunk = files.len().div_ceil(threads).max(1);
    // Every file must be parsed before any is read for findings: whether `let _ = name(..)`
    // drops a future depends on every `async fn` of the code base.
    let all_parsed = Barrier::new(threads);
    let all_names = Mutex::new(FunctionNames::default());
    let async_functions = OnceLock::new();
    let results: Vec<Scan> = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .chain(std::iter::repeat_n(
                &[][..],
                threads.saturating_sub(files.len().div_ceil(chunk)),
            ))
            .map(|part| {
                let (all_parsed, all_names, async_functions) =
                    (&all_parsed, &all_names, &async_functions);
                scope.spawn(move || {
                    let mut scan = Scan::default();
                    let mut parsed = Vec::new();
                    let mut names = FunctionNames::default();
                    for path in part {
                        let shown = shown_path(root, path);
                        match read_and_parse(path) {
                            Ok((source, file)) => {
                                names.visit_file(&file);
                                scan.read += 1;
                                scan.lines += source.line_count();
                                parsed.push((shown, source, file));
                            }
                            Err(why) => scan.unreadable.push((shown, why)),
                        }
                    }
                    lock(all_names).merge(names);
                    all_parsed.wait();
                    let code_base = CodeBase {
                        async_functions: async_functions
                            .get_or_init(|| lock(all_names).async_functions()),
                    };
                    for (shown, source, file) in parsed {
                        let mut findings = walk::findings(&file, &code_base);
                        let before = findings.len();
                        findings.retain(|finding| !allowed(&source, finding.start.line));
                        scan.allowed += before - findings.len();
                        if !findings.is_empty() {
                            findings
                                .sort_by_key(|finding| (finding.start.line, finding.start.column));
                            scan.files.push(ScannedFile {
                                shown,
                                source,
                                findings,
                            });
                        }
                    }
                    scan
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    let mut total = Scan::default();
    for part in results {
        total.files.extend(part.files);
        total.read += part.read;
        total.lines += part.lines;
        total.allowed += part.allowed;
        total.unreadable.extend(part.unreadable);
    }
    total.files.sort_by(|a, b| a.shown.cmp(&b.shown));
    total.unreadable.sort();
    total
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read_and_parse(path: &Path) -> Result<(Source, syn::File), String> {
    let source =
        std::fs::read_to_string(path).map_err(|error| format!("cannot read it: {error}"))?;
    let source = Source::new(source);
    let file = syn::parse_file(source.text()).map_err(|error| {
        let at = error.span().start();
        format!("cannot parse it ({error} at {}:{})", at.line, at.column + 1)
    })?;
    Ok((source, file))
}

/// Whether the line `line` (1-based) of `source`, or the one above it, says
/// `// leakcheck:allow`.
fn allowed(source: &Source, line: usize) -> bool {
    [line.saturating_sub(1), line].into_iter().any(|number| {
        let text = source.line(number);
        text.find("//")
            .is_some_and(|comment| text[comment..].contains(ALLOW_COMMENT))
    })
}

/// The functions of the scanned code, `async` or not: free functions by name, methods by
/// the type they are implemented on.
#[derive(Default)]
struct FunctionNames {
    free: BTreeMap<String, Asyncness>,
    methods: BTreeMap<(String, String), Asyncness>,
    /// Free functions that hand back the `JoinHandle` of a spawn they make.
    spawn_wrappers: BTreeSet<String>,
    /// The type of the `impl` being read.
    implementing: Option<String>,
}

/// Whether every function of a name is `async`, none is, or some are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asyncness {
    Async,
    Sync,
    Mixed,
}

impl Asyncness {
    fn of(signature: &syn::Signature) -> Asyncness {
        if signature.asyncness.is_some() {
            Asyncness::Async
        } else {
            Asyncness::Sync
        }
    }

    fn merge(self, other: Asyncness) -> Asyncness {
        if self == other {
            self
        } else {
            Asyncness::Mixed
        }
    }
}

/// Notes one more function of a name.
fn record<K: Ord>(names: &mut BTreeMap<K, Asyncness>, key: K, asyncness: Asyncness) {
    let merged = names
        .get(&key)
        .map_or(asyncness, |known| known.merge(asyncness));
    names.insert(key, merged);
}

impl FunctionNames {
    fn merge(&mut self, other: FunctionNames) {
        for (name, asyncness) in other.free {
            record(&mut self.free, name, asyncness);
        }
        for (key, asyncness) in other.methods {
            record(&mut self.methods, key, asyncness);
        }
        self.spawn_wrappers.extend(other.spawn_wrappers);
    }

    fn async_functions(&self) -> walk::AsyncFunctions {
        walk::AsyncFunctions {
            free: self
                .free
                .iter()
                .filter(|(_, asyncness)| **asyncness == Asyncness::Async)
                .map(|(name, _)| name.clone())
                .collect(),
            methods: self
                .methods
                .iter()
                .filter(|(_, asyncness)| **asyncness == Asyncness::Async)
                .map(|(key, _)| key.clone())
                .collect(),
            spawn_wrappers: self.spawn_wrappers.iter().cloned().collect(),
        }
    }
}

/// Whether a function returns a `JoinHandle` and its last expression (or a `return`) is a
/// call of a `spawn`, `spawn_local` or `spawn_blocking`: a spawn of the code base's own.
fn wraps_a_spawn(signature: &syn::Signature, body: &syn::Block) -> bool {
    let syn::ReturnType::Type(_, returned) = &signature.output else {
        return false;
    };
    let returns_handle = walk::type_name(returned)
        .is_some_and(|name| name.rsplit("::").next() == Some("JoinHandle"));
    let tail = match body.stmts.last() {
        Some(syn::Stmt::Expr(syn::Expr::Return(returned), _)) => returned.expr.as_deref(),
        Some(syn::Stmt::Expr(expr, None)) => Some(expr),
        _ => None,
    };
    let spawns = |expr: &syn::Expr| {
        let syn::Expr::Call(call) = expr else {
            return false;
        };
        let syn::Expr::Path(function) = &*call.func else {
            return false;
        };
        function.path.segments.last().is_some_and(|last| {
            matches!(
                last.ident.to_string().as_str(),
                "spawn" | "spawn_local" | "spawn_blocking"
            )
        })
    };
    returns_handle && tail.is_some_and(spawns)
}

impl<'ast> Visit<'ast> for FunctionNames {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        record(
            &mut self.free,
            item.sig.ident.to_string(),
            Asyncness::of(&item.sig),
        );
        if wraps_a_spawn(&item.sig, &item.block) {
            self.spawn_wrappers.insert(item.sig.ident.to_string());
        }
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let outer = self.implementing.take();
        self.implementing = walk::type_name(&item.self_ty);
        syn::visit::visit_item_impl(self, item);
        self.implementing = outer;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if let Some(implementing) = &self.implementing {
            let key = (implementing.clone(), item.sig.ident.to_string());
            record(&mut self.methods, key, Asyncness::of(&item.sig));
        }
        syn::visit::visit_impl_item_fn(self, item);
    }
}

/// Counts by rule and by file, for the summary.
pub(crate) fn counts(scan: &Scan) -> (BTreeMap<Rule, usize>, BTreeMap<&str, usize>) {
    let mut by_rule = BTreeMap::new();
    let mut by_file = BTreeMap::new();
    for (file, finding) in scan.findings() {
        *by_rule.entry(finding.rule).or_insert(0) += 1;
        *by_file.entry(file.shown.as_str()).or_insert(0) += 1;
    }
    (by_rule, by_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allow_comment_covers_its_line_and_the_next() {
        let source = &Source::new("a();\n// leakcheck:allow: the pump runs for the process\nb();\nc(); // leakcheck:allow\nd();\n".to_owned());
        assert!(!allowed(source, 1));
        assert!(allowed(source, 3));
        assert!(allowed(source, 4));
        assert!(allowed(source, 5), "the line below a trailing comment");
        let quoted = &Source::new("let text = \"leakcheck:allow\";\nspawn();\n".to_owned());
        assert!(!allowed(quoted, 2), "only a comment silences");
    }
}
