//! `cargo leakcheck migrate`: turns `#[tokio::test]` into `#[leakcheck::test]` in place and
//! adds leakcheck to the package's `[dev-dependencies]`.
//!
//! Only the attribute's path is rewritten, so every option and every line stays where it was
//! (suites that assert `line!()` keep passing). A test it cannot convert is left as it is and
//! listed with the reason. A second run changes nothing.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use proc_macro2::LineColumn;
use quote::ToTokens as _;
use similar::TextDiff;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::visit::Visit;
use toml_edit::{DocumentMut, InlineTable, Item, Table, value};

use crate::scan::shown_path;
use crate::words::counted;
use crate::workspace::{Package, Workspace, rust_files_of};

/// The `#[tokio::test]` options that `#[leakcheck::test]` takes with the same meaning.
const SAME_OPTIONS: [&str; 3] = ["flavor", "worker_threads", "start_paused"];

/// Rewrites every #[tokio::test] of the package to #[leakcheck::test] and adds the
/// dev-dependency.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Print what would change as a unified diff, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Depend on a local checkout of leakcheck at DIR instead of a registry version.
    #[arg(long, value_name = "DIR", conflicts_with = "version")]
    path: Option<PathBuf>,
    /// The version requirement to depend on (default: this tool's version).
    #[arg(long, value_name = "REQ")]
    version: Option<String>,
    /// The package's Cargo.toml, when not run in its directory.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
}

/// A `#[tokio::test]` left as it is, and why.
#[derive(Debug)]
struct Skipped {
    at: String,
    why: String,
}

/// What migrating one package changes.
#[derive(Debug, Default)]
struct Changes {
    /// Each changed file: its path, its text before and after.
    files: Vec<(PathBuf, String, String)>,
    converted: usize,
    skipped: Vec<Skipped>,
}

pub(crate) fn run(arguments: &MigrateArgs) -> Result<ExitCode, String> {
    let workspace = Workspace::load(arguments.manifest_path.as_deref())?;
    let dependency = match &arguments.path {
        Some(path) => Dependency::Path(
            path.canonicalize()
                .map_err(|error| format!("--path {}: {error}", path.display()))?,
        ),
        None => Dependency::Version(
            arguments
                .version
                .clone()
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
        ),
    };
    let mut out = String::new();
    let mut changed_anything = false;
    for package in &workspace.current {
        let mut changes = Changes::default();
        for file in rust_files_of(std::slice::from_ref(package)) {
            migrate_file(&workspace.root, &file, &mut changes)?;
        }
        if changes.converted > 0 {
            let manifest = std::fs::read_to_string(&package.manifest)
                .map_err(|error| format!("cannot read {}: {error}", package.manifest.display()))?;
            let edited = add_dev_dependency(&manifest, &dependency, package)?;
            if edited != manifest {
                changes
                    .files
                    .push((package.manifest.clone(), manifest, edited));
            }
        }
        changed_anything |= !changes.files.is_empty();
        report(
            &workspace.root,
            package,
            &changes,
            arguments.dry_run,
            &mut out,
        );
        if !arguments.dry_run {
            for (path, _, after) in &changes.files {
                std::fs::write(path, after)
                    .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            }
        }
    }
    if changed_anything && !arguments.dry_run {
        out.push_str(
            "\nNext: `LEAKCHECK=warn cargo test` for a first look (leaks are reported, nothing fails),\n\
             then `cargo leakcheck test` to see where each leaked task was spawned.\n",
        );
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn report(root: &Path, package: &Package, changes: &Changes, dry_run: bool, out: &mut String) {
    if dry_run {
        for (path, before, after) in &changes.files {
            let shown = shown_path(root, path);
            let diff = TextDiff::from_lines(before, after);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
        }
    }
    let verb = if dry_run {
        "would convert"
    } else {
        "converted"
    };
    let changed_files = changes
        .files
        .iter()
        .filter(|(path, ..)| path.extension().is_some_and(|extension| extension == "rs"))
        .count();
    if changes.converted == 0 {
        let _ = writeln!(out, "{}: no #[tokio::test] left to convert", package.name);
    } else {
        let _ = writeln!(
            out,
            "{}: {verb} {} to #[leakcheck::test] in {}",
            package.name,
            counted(changes.converted, "#[tokio::test]", "#[tokio::test]s"),
            counted(changed_files, "file", "files"),
        );
    }
    if changes
        .files
        .iter()
        .any(|(path, ..)| *path == package.manifest)
    {
        let _ = writeln!(
            out,
            "{}: {} leakcheck to [dev-dependencies] of {}",
            package.name,
            if dry_run { "would add" } else { "added" },
            shown_path(root, &package.manifest)
        );
    }
    if !changes.skipped.is_empty() {
        let _ = writeln!(out, "left as they are:");
        for skipped in &changes.skipped {
            let _ = writeln!(out, "  {}: {}", skipped.at, skipped.why);
        }
    }
}

/// Rewrites the `#[tokio::test]` attributes of one file.
fn migrate_file(root: &Path, path: &Path, changes: &mut Changes) -> Result<(), String> {
    let source = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if !source.contains("test") {
        return Ok(());
    }
    let Ok(file) = syn::parse_file(&source) else {
        // The compiler will say what is wrong with it; there is nothing to migrate in a file
        // that does not parse.
        return Ok(());
    };
    let mut finder = TokioTests::default();
    finder.visit_file(&file);
    let shown = shown_path(root, path);
    let mut edits: Vec<(usize, usize)> = Vec::new();
    for test in finder.tests {
        let at = format!("{shown}:{}", test.path_start.line);
        match test.problem {
            Some(why) => changes.skipped.push(Skipped { at, why }),
            None => {
                edits.push((
                    offset(&source, test.path_start),
                    offset(&source, test.path_end),
                ));
                changes.converted += 1;
            }
        }
    }
    if edits.is_empty() {
        return Ok(());
    }
    let mut edited = source.clone();
    edits.sort_unstable();
    for (start, end) in edits.into_iter().rev() {
        edited.replace_range(start..end, "leakcheck::test");
    }
    changes.files.push((path.to_path_buf(), source, edited));
    Ok(())
}

/// The byte offset of a line and character column in `source`.
fn offset(source: &str, at: LineColumn) -> usize {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(at.line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line = &source[line_start..];
    line_start
        + line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(offset, _)| offset)
}

/// A `#[tokio::test]` found: where its path is, and what keeps it from converting.
struct TokioTest {
    path_start: LineColumn,
    path_end: LineColumn,
    problem: Option<String>,
}

#[derive(Default)]
struct TokioTests {
    tests: Vec<TokioTest>,
}

impl TokioTests {
    fn look_at(&mut self, attributes: &[syn::Attribute], signature: &syn::Signature) {
        for attribute in attributes {
            let path = attribute.path();
            let segments: Vec<String> = path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            if segments != ["tokio", "test"] {
                continue;
            }
            let start = match &path.leading_colon {
                Some(colons) => colons.spans[0].start(),
                None => path.segments[0].ident.span().start(),
            };
            let end = path.segments[1].ident.span().end();
            self.tests.push(TokioTest {
                path_start: start,
                path_end: end,
                problem: problem(attribute, signature),
            });
        }
    }
}

/// Why a `#[tokio::test]` cannot become a `#[leakcheck::test]` as it is, if it cannot.
fn problem(attribute: &syn::Attribute, signature: &syn::Signature) -> Option<String> {
    if signature.asyncness.is_none() {
        return Some(format!("`{}` is not an `async fn`", signature.ident));
    }
    let syn::Meta::List(list) = &attribute.meta else {
        return None;
    };
    let options = match list
        .parse_args_with(Punctuated::<syn::MetaNameValue, syn::Token![,]>::parse_terminated)
    {
        Ok(options) => options,
        Err(error) => return Some(format!("its options do not parse: {error}")),
    };
    for option in options {
        let name = option.path.to_token_stream().to_string();
        if SAME_OPTIONS.contains(&name.as_str()) {
            continue;
        }
        let at = option.path.span().start();
        return Some(match name.as_str() {
            "crate" => format!(
                "`crate = ..` (column {}) names tokio's path; leakcheck's `crate` option names leakcheck's: convert it by hand",
                at.column + 1
            ),
            "unhandled_panic" => format!(
                "`unhandled_panic` (column {}): leakcheck fails a test on a task's panic already; remove the option and convert it by hand",
                at.column + 1
            ),
            other => format!(
                "option `{other}` (column {}) has no leakcheck counterpart",
                at.column + 1
            ),
        });
    }
    None
}

impl<'ast> Visit<'ast> for TokioTests {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.look_at(&item.attrs, &item.sig);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.look_at(&item.attrs, &item.sig);
        syn::visit::visit_impl_item_fn(self, item);
    }
}

/// Where leakcheck comes from.
enum Dependency {
    Path(PathBuf),
    Version(String),
}

/// `manifest` with leakcheck among its `[dev-dependencies]`, formatting and comments kept;
/// unchanged if it already depends on leakcheck.
fn add_dev_dependency(
    manifest: &str,
    dependency: &Dependency,
    package: &Package,
) -> Result<String, String> {
    let mut document: DocumentMut = manifest
        .parse()
        .map_err(|error| format!("cannot read {}: {error}", package.manifest.display()))?;
    let already = ["dependencies", "dev-dependencies"].iter().any(|table| {
        document
            .get(table)
            .and_then(|table| table.get("leakcheck"))
            .is_some()
    });
    if already {
        return Ok(manifest.to_owned());
    }
    let dev_dependencies = document
        .entry("dev-dependencies")
        .or_insert_with(|| Item::Table(Table::new()));
    let Some(dev_dependencies) = dev_dependencies.as_table_like_mut() else {
        return Err(format!(
            "{}: `dev-dependencies` is not a table",
            package.manifest.display()
        ));
    };
    // A manifest that writes `[dev-dependencies.tokio]` gets `[dev-dependencies.leakcheck]`.
    let dotted = dev_dependencies.is_dotted()
        || dev_dependencies
            .iter()
            .next()
            .is_some_and(|(_, entry)| entry.is_table());
    let mut fields: Vec<(&str, toml_edit::Value)> = Vec::new();
    match dependency {
        Dependency::Version(requirement) => fields.push(("version", requirement.as_str().into())),
        Dependency::Path(path) => fields.push((
            "path",
            relative(path, &package.root).display().to_string().into(),
        )),
    }
    let entry = if dotted {
        let mut table = Table::new();
        for (key, field) in fields {
            table.insert(key, value(field));
        }
        Item::Table(table)
    } else if let [("version", version)] = fields.as_slice() {
        value(version.clone())
    } else {
        let mut table = InlineTable::new();
        for (key, field) in fields {
            table.insert(key, field);
        }
        value(table)
    };
    dev_dependencies.insert("leakcheck", entry);
    Ok(document.to_string())
}

/// `path` relative to `base` (both absolute).
fn relative(path: &Path, base: &Path) -> PathBuf {
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let path_parts: Vec<Component<'_>> = path.components().collect();
    let base_parts: Vec<Component<'_>> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return path.to_path_buf();
    }
    let mut relative = PathBuf::new();
    for _ in common..base_parts.len() {
        relative.push("..");
    }
    for part in &path_parts[common..] {
        relative.push(part);
    }
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    relative
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated(source: &str) -> (String, Changes) {
        let directory =
            std::env::temp_dir().join(format!("leakcheck-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a scratch directory");
        let path = directory.join(format!("case{}.rs", source.len()));
        std::fs::write(&path, source).expect("a scratch file");
        let mut changes = Changes::default();
        migrate_file(&directory, &path, &mut changes).expect("migrated");
        let after = changes
            .files
            .first()
            .map_or_else(|| source.to_owned(), |(_, _, after)| after.clone());
        (after, changes)
    }

    #[test]
    fn the_path_is_rewritten_and_options_and_lines_stay() {
        let source = "#[tokio::test]\nasync fn a() {}\n\n#[::tokio::test(flavor = \"multi_thread\", worker_threads = 2)]\nasync fn b() {}\n\nmod m {\n    #[tokio::test(start_paused = true)] async fn c() { assert_eq!(line!(), 8) }\n}\n";
        let (after, changes) = migrated(source);
        assert_eq!(
            after,
            "#[leakcheck::test]\nasync fn a() {}\n\n#[leakcheck::test(flavor = \"multi_thread\", worker_threads = 2)]\nasync fn b() {}\n\nmod m {\n    #[leakcheck::test(start_paused = true)] async fn c() { assert_eq!(line!(), 8) }\n}\n"
        );
        assert_eq!(changes.converted, 3);
        assert_eq!(after.lines().count(), source.lines().count());
    }

    #[test]
    fn options_without_a_counterpart_are_left_with_the_reason() {
        let source = "#[tokio::test(crate = \"my_tokio\")]\nasync fn a() {}\n#[tokio::test(flavor = \"current_thread\", unhandled_panic = \"shutdown_runtime\")]\nasync fn b() {}\n#[tokio::test]\nfn c() {}\n";
        let (after, changes) = migrated(source);
        assert_eq!(after, source);
        let reasons: Vec<&str> = changes
            .skipped
            .iter()
            .map(|skipped| skipped.why.as_str())
            .collect();
        assert!(reasons[0].contains("names tokio's path"), "{reasons:?}");
        assert!(
            reasons[1].contains("`unhandled_panic` (column 42)"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].contains("`c` is not an `async fn`"),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let (after, _) = migrated("#[tokio::test]\nasync fn a() {}\n");
        let (again, changes) = migrated(&after);
        assert_eq!(again, after);
        assert_eq!(changes.converted, 0);
    }

    #[test]
    fn the_dev_dependency_keeps_the_manifest_as_written() {
        let package = Package {
            name: "feed".to_owned(),
            manifest: PathBuf::from("/work/feed/Cargo.toml"),
            root: PathBuf::from("/work/feed"),
            target_roots: Vec::new(),
        };
        let manifest = "[package]\nname = \"feed\" # the feed\n\n[dev-dependencies]\n# runtime for tests\ntokio = { version = \"1\", features = [\"full\"] }\n";
        let edited = add_dev_dependency(manifest, &Dependency::Version("0.1".to_owned()), &package)
            .expect("edited");
        assert_eq!(edited, format!("{manifest}leakcheck = \"0.1\"\n"));
        let again = add_dev_dependency(&edited, &Dependency::Version("0.1".to_owned()), &package)
            .expect("edited");
        assert_eq!(again, edited);
        let local = add_dev_dependency(
            "[package]\nname = \"feed\"\n",
            &Dependency::Path(PathBuf::from("/work/leakcheck")),
            &package,
        )
        .expect("edited");
        assert_eq!(
            local,
            "[package]\nname = \"feed\"\n\n[dev-dependencies]\nleakcheck = { path = \"../leakcheck\" }\n"
        );
        let dotted = add_dev_dependency(
            "[package]\nname = \"feed\"\n\n[dev-dependencies.tokio]\nversion = \"1\"\n",
            &Dependency::Version("0.1".to_owned()),
            &package,
        )
        .expect("edited");
        assert_eq!(
            dotted,
            "[package]\nname = \"feed\"\n\n[dev-dependencies.tokio]\nversion = \"1\"\n\n[dev-dependencies.leakcheck]\nversion = \"0.1\"\n"
        );
    }
}
