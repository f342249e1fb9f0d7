//! The library's layers: imports flow one way, as ARCHITECTURE.md says.
//!
//! The order is read from the table under "## Layers" in ARCHITECTURE.md, so the map and the
//! check cannot drift apart. Every file of `src/` is parsed (doc comments and strings are not
//! imports); each `crate::` path, in a `use` or anywhere in code, is an edge from the file's
//! top-level entry to the entry it names. An edge to a layer above its own fails, and so does
//! a path through the crate root's re-exports, which would hide the layer it comes from. In
//! `src/` and `cli/src/`, no import cycle may hold more than three files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The most files one import cycle may hold.
const LONGEST_CYCLE: usize = 3;

#[test]
fn imports_flow_down_the_layers_of_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture =
        fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md at the root");
    let layers = layers_of(&architecture);
    let problems = check(&root.join("src"), Some(&layers));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_tool_has_no_long_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let problems = check(&root.join("cli/src"), None);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_planted_back_edge_fails_the_check() {
    let tree = Scratch::new("back-edge");
    tree.write("lib.rs", "mod util;\nmod run;\n");
    tree.write(
        "util.rs",
        "use crate::run::Runner;\npub(crate) fn helper() {}\n",
    );
    tree.write(
        "run.rs",
        "pub(crate) struct Runner;\nfn go() { crate::util::helper(); }\n",
    );
    let layers =
        layers_of("## Layers\n\n| layer | entry |\n|---|---|\n| 0 | `util/` |\n| 1 | `run/` |\n");
    let problems = check(&tree.0, Some(&layers));
    assert!(
        problems.iter().any(|problem| problem
            .contains("util.rs imports crate::run (layer 1 `run`)")
            && problem.contains("from layer 0 `util`")),
        "{problems:?}"
    );
}

#[test]
fn an_entry_missing_from_the_map_and_an_import_through_the_root_fail_the_check() {
    let tree = Scratch::new("unmapped");
    tree.write("lib.rs", "mod util;\nmod extra;\npub use util::helper;\n");
    tree.write("util.rs", "pub fn helper() {}\n");
    tree.write("extra.rs", "fn go() { crate::helper(); }\n");
    let layers = layers_of("## Layers\n\n| 0 | `util/` |\n");
    let problems = check(&tree.0, Some(&layers));
    assert!(
        problems
            .iter()
            .any(|problem| problem.contains("`extra` is not in the layer table")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(
            |problem| problem.contains("extra.rs reaches crate::helper through the crate root")
        ),
        "{problems:?}"
    );
}

#[test]
fn a_cycle_of_four_files_fails_the_check() {
    let tree = Scratch::new("cycle");
    tree.write("main.rs", "mod a;\nmod b;\nmod c;\nmod d;\nfn main() {}\n");
    tree.write("a.rs", "use crate::b::B;\npub struct A;\n");
    tree.write("b.rs", "use crate::c::C;\npub struct B;\n");
    tree.write("c.rs", "use crate::d::D;\npub struct C;\n");
    tree.write("d.rs", "use crate::a::A;\npub struct D;\n");
    let problems = check(&tree.0, None);
    assert!(
        problems
            .iter()
            .any(|problem| problem.starts_with("an import cycle of 4 files")),
        "{problems:?}"
    );
}

/// A module's path below the crate root: `["run", "steps"]` for `src/run/steps.rs`.
type Module = Vec<String>;

/// The rank of each top-level entry, from the rows of the layer table: `| 3 | `observe/` |`.
fn layers_of(architecture: &str) -> BTreeMap<String, usize> {
    let table = architecture
        .split("\n## ")
        .find(|section| section.starts_with("Layers") || section.starts_with("## Layers"))
        .expect("a \"## Layers\" section in ARCHITECTURE.md");
    let mut layers = BTreeMap::new();
    for row in table.lines().filter(|line| line.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(rank), Some(entry)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Ok(rank) = rank.parse::<usize>() else {
            continue;
        };
        for name in entry.split(',') {
            let name = name.trim().trim_matches('`').trim_end_matches('/');
            let name = name.strip_suffix(".rs").unwrap_or(name);
            if !name.is_empty() {
                layers.insert(name.to_owned(), rank);
            }
        }
    }
    assert!(!layers.is_empty(), "the layer table has no rows");
    layers
}

/// Everything wrong with the imports of the crate whose root directory is `source`.
fn check(source: &Path, layers: Option<&BTreeMap<String, usize>>) -> Vec<String> {
    let files = rust_files(source);
    let modules: BTreeMap<Module, PathBuf> = files
        .iter()
        .map(|file| (module_of(source, file), file.clone()))
        .collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = fs::read_to_string(file).expect("a readable source file");
        let syntax = syn::parse_file(&text)
            .unwrap_or_else(|error| panic!("{} does not parse: {error}", file.display()));
        let mut paths = CratePaths::default();
        paths.visit_file(&syntax);
        let shown = file
            .strip_prefix(source)
            .unwrap_or(file)
            .display()
            .to_string();
        for path in paths.0 {
            match resolve(&modules, &path) {
                Some(target) if target.is_empty() && !module.is_empty() => {
                    problems.push(format!(
                        "{shown} reaches crate::{} through the crate root: import it from its layer's module",
                        path.join("::")
                    ));
                }
                Some(target) if target != *module => {
                    edges.entry(module.clone()).or_default().insert(target);
                }
                _ => {}
            }
        }
    }
    if let Some(layers) = layers {
        problems.extend(layer_problems(source, &modules, &edges, layers));
    }
    for cycle in cycles(&modules, &edges) {
        if cycle.len() > LONGEST_CYCLE {
            let names: Vec<String> = cycle.iter().map(|module| module.join("::")).collect();
            problems.push(format!(
                "an import cycle of {} files (at most {LONGEST_CYCLE}): {}",
                cycle.len(),
                names.join(", ")
            ));
        }
    }
    problems
}

fn layer_problems(
    source: &Path,
    modules: &BTreeMap<Module, PathBuf>,
    edges: &BTreeMap<Module, BTreeSet<Module>>,
    layers: &BTreeMap<String, usize>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let entries: BTreeSet<&String> = modules.keys().filter_map(|module| module.first()).collect();
    for entry in &entries {
        if !layers.contains_key(*entry) {
            problems.push(format!(
                "`{entry}` is not in the layer table of ARCHITECTURE.md: give it a layer"
            ));
        }
    }
    for (from, targets) in edges {
        let (Some(from_entry), Some(from_rank)) = (
            from.first(),
            from.first().and_then(|entry| layers.get(entry)),
        ) else {
            continue;
        };
        for target in targets {
            let Some(to_entry) = target.first() else {
                continue;
            };
            let Some(to_rank) = layers.get(to_entry) else {
                continue;
            };
            if to_entry != from_entry && to_rank >= from_rank {
                let file = &modules[from];
                problems.push(format!(
                    "{} imports crate::{} (layer {to_rank} `{to_entry}`) from layer {from_rank} `{from_entry}`: imports must flow down the layers",
                    file.strip_prefix(source).unwrap_or(file).display(),
                    target.join("::"),
                ));
            }
        }
    }
    problems
}

/// The strongly connected groups of more than one file (Tarjan's algorithm).
fn cycles(
    modules: &BTreeMap<Module, PathBuf>,
    edges: &BTreeMap<Module, BTreeSet<Module>>,
) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        groups: Vec<Vec<Module>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, module: &'a Module) {
            let number = self.index.len();
            self.index.insert(module, number);
            self.low.insert(module, number);
            self.stack.push(module);
            for target in self.edges.get(module).into_iter().flatten() {
                if !self.index.contains_key(target) {
                    self.visit(target);
                    let low = self.low[target].min(self.low[module]);
                    self.low.insert(module, low);
                } else if self.stack.contains(&target) {
                    let low = self.index[target].min(self.low[module]);
                    self.low.insert(module, low);
                }
            }
            if self.low[module] == self.index[module] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    group.push(member.clone());
                    if member == module {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.groups.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        groups: Vec::new(),
    };
    for module in modules.keys() {
        if !walk.index.contains_key(module) {
            walk.visit(module);
        }
    }
    walk.groups
}

/// The module a path names: the longest prefix of it that is a file of the crate.
fn resolve(modules: &BTreeMap<Module, PathBuf>, path: &[String]) -> Option<Module> {
    (0..=path.len())
        .rev()
        .map(|length| path[..length].to_vec())
        .find(|prefix| modules.contains_key(prefix))
}

fn module_of(source: &Path, file: &Path) -> Module {
    let relative = file
        .strip_prefix(source)
        .expect("a file below the source root");
    let mut parts: Module = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in fs::read_dir(&directory).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every path of a file that starts at `crate`, without the `crate`, including those a
/// `use` tree spells in groups: `use crate::{a::X, b}` gives `a::X` and `b`.
#[derive(Default)]
struct CratePaths(Vec<Vec<String>>);

impl CratePaths {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.leaf(prefix, Some(&name.ident)),
            syn::UseTree::Rename(rename) => self.leaf(prefix, Some(&rename.ident)),
            syn::UseTree::Glob(_) => self.leaf(prefix, None),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn leaf(&mut self, prefix: &[String], name: Option<&syn::Ident>) {
        if prefix.first().map(String::as_str) != Some("crate") {
            return;
        }
        let mut path: Vec<String> = prefix[1..].to_vec();
        if let Some(name) = name.filter(|name| *name != "self") {
            path.push(name.to_string());
        }
        self.0.push(path);
    }
}

impl<'ast> Visit<'ast> for CratePaths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        // A bare `crate` is the visibility `pub(crate)`, not an import.
        if segments.first().map(String::as_str) == Some("crate") && segments.len() > 1 {
            self.0.push(segments[1..].to_vec());
        }
        syn::visit::visit_path(self, path);
    }
}

/// A source tree written for one test, removed after it.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let directory =
            std::env::temp_dir().join(format!("leakcheck-layers-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&directory);
        fs::create_dir_all(&directory).expect("a scratch directory");
        Scratch(directory)
    }

    fn write(&self, file: &str, text: &str) {
        fs::write(self.0.join(file), text).expect("a scratch file");
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
