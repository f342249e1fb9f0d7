//! What a name in a file stands for: the `use` declarations that bring tokio's items in under
//! whatever name, and what a local variable, a parameter or a field was built from.

use std::collections::HashMap;

use syn::visit::Visit;

/// The full paths a file's `use` declarations give to short names:
/// `use tokio::task::{self, spawn as go}` makes `task` mean `tokio::task` and `go` mean
/// `tokio::task::spawn`. Declarations anywhere in the file count, as a reader skimming it
/// would take them.
#[derive(Debug, Default)]
pub(crate) struct Imports {
    names: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
}

impl Imports {
    pub(crate) fn of(file: &syn::File) -> Imports {
        let mut imports = Imports::default();
        imports.visit_file(file);
        imports
    }

    /// The full path `path` names, as far as this file tells.
    pub(crate) fn resolve(&self, path: &syn::Path) -> Vec<String> {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        if path.leading_colon.is_some() {
            return segments;
        }
        let Some((first, rest)) = segments.split_first() else {
            return segments;
        };
        if let Some(full) = self.names.get(first) {
            return full.iter().chain(rest).cloned().collect();
        }
        for glob in &self.globs {
            let candidate: Vec<String> = glob.iter().chain(&segments).cloned().collect();
            if is_spawn_function(&candidate)
                || Origin::of_call(&candidate) != Origin::Other
                || Origin::of_path(&candidate) != Origin::Other
            {
                return candidate;
            }
        }
        segments
    }

    fn add(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.add(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.name(prefix, &name.ident, &name.ident),
            syn::UseTree::Rename(rename) => self.name(prefix, &rename.ident, &rename.rename),
            syn::UseTree::Glob(_) => self.globs.push(prefix.clone()),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.add(prefix, tree);
                }
            }
        }
    }

    fn name(&mut self, prefix: &[String], ident: &syn::Ident, alias: &syn::Ident) {
        let full = if ident == "self" {
            prefix.to_vec()
        } else {
            prefix.iter().cloned().chain([ident.to_string()]).collect()
        };
        let alias = if ident == "self" && alias == "self" {
            prefix.last().cloned().unwrap_or_default()
        } else {
            alias.to_string()
        };
        if alias != "_" {
            self.names.insert(alias, full);
        }
    }
}

impl<'ast> Visit<'ast> for Imports {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.add(&mut prefix, &item.tree);
    }
}

/// The free functions that spawn a task and hand back its `JoinHandle`.
pub(crate) fn is_spawn_function(path: &[String]) -> bool {
    matches!(
        path.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["tokio", "spawn"] | ["tokio", "task", "spawn" | "spawn_local" | "spawn_blocking"]
    )
}

/// What a value was built from, as far as spawning goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `tokio::runtime::Handle`: its `spawn` and `spawn_blocking` detach.
    Handle,
    /// `tokio::runtime::Runtime`, the same.
    Runtime,
    /// `tokio::runtime::Builder`, which builds a `Runtime`.
    RuntimeBuilder,
    /// `tokio::task::Builder`: every `spawn*` of it.
    TaskBuilder,
    /// Owners of what they spawn: a `LocalSet`, a `JoinSet`, a `TaskTracker`.
    Owner,
    /// Anything else.
    Other,
}

impl Origin {
    /// What a call of the function at `path` gives.
    pub(crate) fn of_call(path: &[String]) -> Origin {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        match path.as_slice() {
            ["tokio", "runtime", "Handle", "current" | "try_current"] => Origin::Handle,
            ["tokio", "runtime", "Runtime", "new"] => Origin::Runtime,
            ["tokio", "runtime", "Builder", builder] if builder.starts_with("new_") => {
                Origin::RuntimeBuilder
            }
            ["tokio", "task", "Builder", "new"] => Origin::TaskBuilder,
            ["tokio", "task", "LocalSet" | "JoinSet", "new"]
            | ["tokio_util", "task", "TaskTracker", "new"] => Origin::Owner,
            _ => Origin::Other,
        }
    }

    /// What a value of the type at `path` is.
    pub(crate) fn of_path(path: &[String]) -> Origin {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        match path.as_slice() {
            ["tokio", "runtime", "Handle"] => Origin::Handle,
            ["tokio", "runtime", "Runtime"] => Origin::Runtime,
            ["tokio", "task", "Builder"] => Origin::TaskBuilder,
            ["tokio", "task", "LocalSet" | "JoinSet"] | ["tokio_util", "task", "TaskTracker"] => {
                Origin::Owner
            }
            _ => Origin::Other,
        }
    }

    /// What calling `method` on a value of this origin gives.
    fn after_method(self, method: &str) -> Origin {
        match (self, method) {
            (_, "clone" | "unwrap" | "expect" | "as_ref" | "borrow" | "to_owned") => self,
            (Origin::RuntimeBuilder, "build") => Origin::Runtime,
            (Origin::RuntimeBuilder, _) => Origin::RuntimeBuilder,
            (Origin::Runtime, "handle") => Origin::Handle,
            (Origin::TaskBuilder, "name") => Origin::TaskBuilder,
            _ => Origin::Other,
        }
    }

    /// Whether `method` called on a value of this origin spawns a detached task and hands
    /// back its handle.
    pub(crate) fn spawns_with(self, method: &str) -> bool {
        match self {
            Origin::Handle | Origin::Runtime => matches!(method, "spawn" | "spawn_blocking"),
            Origin::TaskBuilder => matches!(
                method,
                "spawn"
                    | "spawn_local"
                    | "spawn_blocking"
                    | "spawn_on"
                    | "spawn_local_on"
                    | "spawn_blocking_on"
            ),
            _ => false,
        }
    }
}

/// The origins of names in scope: local variables and parameters by block, and fields by
/// name across the file (a field named `handle` of type `Handle` in one struct is taken to be
/// one in every struct of the file).
#[derive(Debug, Default)]
pub(crate) struct Bindings {
    scopes: Vec<HashMap<String, Origin>>,
    fields: HashMap<String, Origin>,
}

impl Bindings {
    pub(crate) fn with_fields(file: &syn::File, imports: &Imports) -> Bindings {
        struct Fields<'a> {
            imports: &'a Imports,
            fields: HashMap<String, Origin>,
        }
        impl<'ast> Visit<'ast> for Fields<'_> {
            fn visit_field(&mut self, field: &'ast syn::Field) {
                if let Some(name) = &field.ident {
                    let origin = type_origin(&field.ty, self.imports);
                    if origin != Origin::Other {
                        self.fields.insert(name.to_string(), origin);
                    }
                }
            }
        }
        let mut fields = Fields {
            imports,
            fields: HashMap::new(),
        };
        fields.visit_file(file);
        Bindings {
            scopes: vec![HashMap::new()],
            fields: fields.fields,
        }
    }

    pub(crate) fn enter(&mut self) {
        self.scopes.push(HashMap::new());
    }

    pub(crate) fn leave(&mut self) {
        self.scopes.pop();
    }

    /// Binds the names of `pattern` to `origin` (only a plain name gets an origin other
    /// than `Other`; the names of a destructuring shadow whatever they hid).
    pub(crate) fn bind(&mut self, pattern: &syn::Pat, origin: Origin, imports: &Imports) {
        let (pattern, origin) = match pattern {
            syn::Pat::Type(typed) => {
                let declared = type_origin(&typed.ty, imports);
                (
                    &*typed.pat,
                    if declared == Origin::Other {
                        origin
                    } else {
                        declared
                    },
                )
            }
            other => (other, origin),
        };
        let Some(scope) = self.scopes.last_mut() else {
            return;
        };
        match pattern {
            syn::Pat::Ident(ident) => {
                scope.insert(ident.ident.to_string(), origin);
            }
            other => {
                let mut names = PatternNames(Vec::new());
                names.visit_pat(other);
                for name in names.0 {
                    scope.insert(name, Origin::Other);
                }
            }
        }
    }

    /// What the expression `expr` evaluates to, as far as spawning goes.
    pub(crate) fn origin(&self, expr: &syn::Expr, imports: &Imports) -> Origin {
        match expr {
            syn::Expr::Paren(inner) => self.origin(&inner.expr, imports),
            syn::Expr::Group(inner) => self.origin(&inner.expr, imports),
            syn::Expr::Reference(inner) => self.origin(&inner.expr, imports),
            syn::Expr::Try(inner) => self.origin(&inner.expr, imports),
            syn::Expr::MethodCall(call) => self
                .origin(&call.receiver, imports)
                .after_method(&call.method.to_string()),
            syn::Expr::Call(call) => match &*call.func {
                syn::Expr::Path(path) => Origin::of_call(&imports.resolve(&path.path)),
                _ => Origin::Other,
            },
            syn::Expr::Path(path) => match path.path.get_ident() {
                Some(name) => self
                    .scopes
                    .iter()
                    .rev()
                    .find_map(|scope| scope.get(&name.to_string()).copied())
                    .unwrap_or(Origin::Other),
                None => Origin::Other,
            },
            syn::Expr::Field(field) => match &field.member {
                syn::Member::Named(name) => self
                    .fields
                    .get(&name.to_string())
                    .copied()
                    .unwrap_or(Origin::Other),
                syn::Member::Unnamed(_) => Origin::Other,
            },
            _ => Origin::Other,
        }
    }
}

/// What a value of type `ty` is: through references and the smart pointers a handle is
/// shared in.
pub(crate) fn type_origin(ty: &syn::Type, imports: &Imports) -> Origin {
    match ty {
        syn::Type::Reference(reference) => type_origin(&reference.elem, imports),
        syn::Type::Paren(inner) => type_origin(&inner.elem, imports),
        syn::Type::Path(path) => {
            let last = path.path.segments.last();
            let wrapped = last.and_then(|segment| match &segment.arguments {
                syn::PathArguments::AngleBracketed(arguments)
                    if matches!(segment.ident.to_string().as_str(), "Arc" | "Rc" | "Box") =>
                {
                    arguments.args.iter().find_map(|argument| match argument {
                        syn::GenericArgument::Type(inner) => Some(inner),
                        _ => None,
                    })
                }
                _ => None,
            });
            match wrapped {
                Some(inner) => type_origin(inner, imports),
                None => Origin::of_path(&imports.resolve(&path.path)),
            }
        }
        _ => Origin::Other,
    }
}

struct PatternNames(Vec<String>);

impl<'ast> Visit<'ast> for PatternNames {
    fn visit_pat_ident(&mut self, ident: &'ast syn::PatIdent) {
        self.0.push(ident.ident.to_string());
        syn::visit::visit_pat_ident(self, ident);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(source: &str, path: &str) -> String {
        let file: syn::File = syn::parse_str(source).expect("a file");
        let path: syn::Path = syn::parse_str(path).expect("a path");
        Imports::of(&file).resolve(&path).join("::")
    }

    #[test]
    fn short_names_resolve_through_use_declarations() {
        assert_eq!(resolved("use tokio::spawn;", "spawn"), "tokio::spawn");
        assert_eq!(
            resolved("use tokio::task;", "task::spawn"),
            "tokio::task::spawn"
        );
        assert_eq!(
            resolved("use tokio::task::{self, spawn_blocking as off};", "off"),
            "tokio::task::spawn_blocking"
        );
        assert_eq!(
            resolved("use tokio::task::*;", "spawn"),
            "tokio::task::spawn"
        );
        assert_eq!(
            resolved("use std::thread::spawn;", "spawn"),
            "std::thread::spawn"
        );
        assert_eq!(resolved("", "spawn"), "spawn");
        assert_eq!(
            resolved("mod a { use tokio::runtime::Handle; }", "Handle::current"),
            "tokio::runtime::Handle::current"
        );
    }
}
