//! One pass over a parsed file: keeps track of what names stand for and which function is
//! being read, and hands each statement, `let` and call to the rules.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::visit::{self, Visit};

use super::Finding;
use super::names::{Bindings, Imports, Origin, is_spawn_function, type_origin};
use super::rules::{detached_spawn, discarded_future, unused_handle};

/// What the scan knows of the whole code base while it reads one file.
pub(crate) struct CodeBase<'a> {
    pub(crate) async_functions: &'a AsyncFunctions,
}

/// The scanned code's `async fn`s whose names no synchronous function of the same place
/// shares.
#[derive(Debug, Default)]
pub(crate) struct AsyncFunctions {
    /// Free functions, by name.
    pub(crate) free: HashSet<String>,
    /// Methods, by the name of the type they are implemented on and their own.
    pub(crate) methods: HashSet<(String, String)>,
    /// The code base's own spawn functions, by name: free functions that return a
    /// `JoinHandle` that a tokio spawn in their last expression made (`task::spawn` wrapping
    /// `tokio::spawn` to name or instrument tasks). Dropping what they return detaches the
    /// task as surely.
    pub(crate) spawn_wrappers: HashSet<String>,
}

/// The name of a type as an `impl` or a call names it: `Feed` for `Feed`, `feed::Feed<T>`
/// and `&Feed`.
pub(crate) fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        syn::Type::Reference(reference) => type_name(&reference.elem),
        syn::Type::Paren(inner) => type_name(&inner.elem),
        _ => None,
    }
}

/// A call that spawns a detached task and hands back its `JoinHandle`.
pub(crate) struct SpawnCall {
    /// The function or method named, for the report: `tokio::spawn`, `Handle::spawn`.
    pub(crate) called: String,
    /// Where the callee is written: the path, or the method's name.
    pub(crate) span: Span,
}

/// What the rules see of the place being read.
pub(crate) struct Context<'a> {
    imports: Imports,
    bindings: Bindings,
    pub(crate) code_base: &'a CodeBase<'a>,
    /// The function being read, `Type::method` or `function`, for baselines.
    pub(crate) function: Vec<String>,
    /// The type of the `impl` being read: what `self` and `Self` are.
    pub(crate) implementing: Option<String>,
    /// The scanned types that local variables were built from (`Type::new(..)`,
    /// `Type { .. }`) or declared as, innermost scope last.
    local_types: Vec<HashMap<String, String>>,
    /// How deep inside a `LocalSet`'s `run_until`/`block_on` the reader is: a `spawn_local`
    /// there belongs to the set.
    in_local_set: usize,
    pub(crate) findings: Vec<Finding>,
}

impl Context<'_> {
    /// The spawn `expr` is, looking through the `?`, `unwrap()` and `expect(..)` that a
    /// `task::Builder`'s `io::Result` needs and through parentheses.
    pub(crate) fn spawn_call(&self, expr: &syn::Expr) -> Option<SpawnCall> {
        match expr {
            syn::Expr::Paren(inner) => self.spawn_call(&inner.expr),
            syn::Expr::Group(inner) => self.spawn_call(&inner.expr),
            syn::Expr::Try(inner) => self.spawn_call(&inner.expr),
            syn::Expr::MethodCall(call)
                if matches!(call.method.to_string().as_str(), "unwrap" | "expect")
                    && self.spawn_call(&call.receiver).is_some() =>
            {
                self.spawn_call(&call.receiver)
            }
            syn::Expr::Call(call) => {
                let syn::Expr::Path(function) = &*call.func else {
                    return None;
                };
                let resolved = self.imports.resolve(&function.path);
                if !is_spawn_function(&resolved) {
                    let name = function.path.segments.last()?.ident.to_string();
                    let wrapper = self
                        .code_base
                        .async_functions
                        .spawn_wrappers
                        .contains(&name);
                    return wrapper.then(|| SpawnCall {
                        called: resolved.join("::"),
                        span: function.span(),
                    });
                }
                if resolved.last().is_some_and(|name| name == "spawn_local")
                    && self.in_local_set > 0
                {
                    return None;
                }
                Some(SpawnCall {
                    called: resolved.join("::"),
                    span: function.span(),
                })
            }
            syn::Expr::MethodCall(call) => {
                let method = call.method.to_string();
                let origin = self.bindings.origin(&call.receiver, &self.imports);
                origin.spawns_with(&method).then(|| SpawnCall {
                    called: match origin {
                        Origin::Handle => format!("Handle::{method}"),
                        Origin::Runtime => format!("Runtime::{method}"),
                        _ => format!("task::Builder::{method}"),
                    },
                    span: call.method.span(),
                })
            }
            _ => None,
        }
    }

    /// Reads a function's parameters and body in a scope of their own, under its name.
    fn within_function(&mut self, name: &syn::Ident, read: impl FnOnce(&mut Self)) {
        self.function.push(name.to_string());
        self.enter();
        read(self);
        self.leave();
        self.function.pop();
    }

    fn enter(&mut self) {
        self.bindings.enter();
        self.local_types.push(HashMap::new());
    }

    fn leave(&mut self) {
        self.bindings.leave();
        self.local_types.pop();
    }

    /// Records the type a plain `let name` (or `name: Type`) is, or forgets an outer one.
    fn bind_type(&mut self, pattern: &syn::Pat, built: Option<String>) {
        let (pattern, built) = match pattern {
            syn::Pat::Type(typed) => (&*typed.pat, type_name(&typed.ty).or(built)),
            other => (other, built),
        };
        let (syn::Pat::Ident(ident), Some(scope)) = (pattern, self.local_types.last_mut()) else {
            return;
        };
        let name = ident.ident.to_string();
        match built {
            Some(built) => scope.insert(name, built),
            None => scope.remove(&name),
        };
    }

    /// The type an expression builds by the look of it: `Feed::connect(..)`, `Feed { .. }`,
    /// `Self::new()`, through `?`, `.unwrap()` and `.expect(..)`.
    fn built_type(&self, expr: &syn::Expr) -> Option<String> {
        match expr {
            syn::Expr::Try(inner) => self.built_type(&inner.expr),
            syn::Expr::Await(inner) => self.built_type(&inner.base),
            syn::Expr::MethodCall(call)
                if matches!(call.method.to_string().as_str(), "unwrap" | "expect") =>
            {
                self.built_type(&call.receiver)
            }
            syn::Expr::Call(call) => match &*call.func {
                syn::Expr::Path(function) => self.type_of_path_call(&function.path),
                _ => None,
            },
            syn::Expr::Struct(built) => built
                .path
                .segments
                .last()
                .map(|segment| segment.ident.to_string()),
            _ => None,
        }
    }

    /// The type `Type::function` or `Self::function` is called on.
    pub(crate) fn type_of_path_call(&self, path: &syn::Path) -> Option<String> {
        let segments: Vec<&syn::Ident> =
            path.segments.iter().map(|segment| &segment.ident).collect();
        let [.., owner, _] = segments.as_slice() else {
            return None;
        };
        if *owner == "Self" {
            return self.implementing.clone();
        }
        let owner = owner.to_string();
        owner
            .starts_with(|first: char| first.is_ascii_uppercase())
            .then_some(owner)
    }

    /// The scanned type a method's receiver is, where the reader can tell: `self`, or a
    /// variable built from or declared as a type.
    pub(crate) fn receiver_type(&self, expr: &syn::Expr) -> Option<String> {
        match expr {
            syn::Expr::Paren(inner) => self.receiver_type(&inner.expr),
            syn::Expr::Reference(inner) => self.receiver_type(&inner.expr),
            syn::Expr::Path(path) => {
                let name = path.path.get_ident()?;
                if name == "self" {
                    return self.implementing.clone();
                }
                let name = name.to_string();
                self.local_types
                    .iter()
                    .rev()
                    .find_map(|scope| scope.get(&name).cloned())
            }
            _ => None,
        }
    }

    /// Whether `path` names `drop`, `mem::drop` or `mem::forget`.
    pub(crate) fn is_drop_or_forget(&self, path: &syn::Path) -> bool {
        let resolved = self.imports.resolve(path);
        let resolved: Vec<&str> = resolved.iter().map(String::as_str).collect();
        matches!(
            resolved.as_slice(),
            ["drop"] | ["std" | "core", "mem", "drop" | "forget"] | ["mem", "drop" | "forget"]
        )
    }
}

/// Whether a `let` binds nothing: `_`, or `_: JoinHandle<()>`.
fn is_wildcard(pattern: &syn::Pat) -> bool {
    match pattern {
        syn::Pat::Wild(_) => true,
        syn::Pat::Type(typed) => is_wildcard(&typed.pat),
        _ => false,
    }
}

/// Reads `file` and gives what the rules found in it.
pub(crate) fn findings(file: &syn::File, code_base: &CodeBase<'_>) -> Vec<Finding> {
    let imports = Imports::of(file);
    let bindings = Bindings::with_fields(file, &imports);
    let mut context = Context {
        imports,
        bindings,
        code_base,
        function: Vec::new(),
        implementing: None,
        local_types: vec![HashMap::new()],
        in_local_set: 0,
        findings: Vec::new(),
    };
    context.visit_file(file);
    context.findings
}

impl<'ast> Visit<'ast> for Context<'_> {
    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let name = type_name(&item.self_ty);
        self.function.extend(name.clone());
        let outer = std::mem::replace(&mut self.implementing, name.clone());
        visit::visit_item_impl(self, item);
        self.implementing = outer;
        if name.is_some() {
            self.function.pop();
        }
    }

    fn visit_signature(&mut self, signature: &'ast syn::Signature) {
        for input in &signature.inputs {
            if let syn::FnArg::Typed(typed) = input {
                let origin = type_origin(&typed.ty, &self.imports);
                self.bindings.bind(&typed.pat, origin, &self.imports);
                self.bind_type(&typed.pat, type_name(&typed.ty));
            }
        }
        visit::visit_signature(self, signature);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.within_function(&item.sig.ident, |context| {
            visit::visit_item_fn(context, item)
        });
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.within_function(&item.sig.ident, |context| {
            visit::visit_impl_item_fn(context, item)
        });
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        self.within_function(&item.sig.ident, |context| {
            visit::visit_trait_item_fn(context, item)
        });
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        self.enter();
        for input in &closure.inputs {
            self.bindings.bind(input, Origin::Other, &self.imports);
        }
        visit::visit_expr_closure(self, closure);
        self.leave();
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.enter();
        for (index, statement) in block.stmts.iter().enumerate() {
            let later = &block.stmts[index + 1..];
            match statement {
                syn::Stmt::Expr(expr, Some(_)) => {
                    let found = detached_spawn::statement(self, expr);
                    self.findings.extend(found);
                }
                syn::Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        let found = if is_wildcard(&local.pat) {
                            detached_spawn::wildcard_let(self, &init.expr)
                                .or_else(|| discarded_future::wildcard_let(self, &init.expr))
                        } else {
                            unused_handle::named_let(self, local, &init.expr, later)
                        };
                        self.findings.extend(found);
                    }
                }
                _ => {}
            }
            self.visit_stmt(statement);
            if let syn::Stmt::Local(local) = statement {
                let origin = local.init.as_ref().map_or(Origin::Other, |init| {
                    self.bindings.origin(&init.expr, &self.imports)
                });
                self.bindings.bind(&local.pat, origin, &self.imports);
                let built = local
                    .init
                    .as_ref()
                    .and_then(|init| self.built_type(&init.expr));
                self.bind_type(&local.pat, built);
            }
        }
        self.leave();
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(function) = &*call.func
            && self.is_drop_or_forget(&function.path)
        {
            let found = call
                .args
                .first()
                .and_then(|argument| detached_spawn::dropped(self, &function.path, argument));
            self.findings.extend(found);
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let runs_a_local_set = matches!(
            call.method.to_string().as_str(),
            "run_until" | "block_on" | "spawn_local"
        ) && self.bindings.origin(&call.receiver, &self.imports)
            == Origin::Owner;
        self.visit_expr(&call.receiver);
        self.in_local_set += usize::from(runs_a_local_set);
        for argument in &call.args {
            self.visit_expr(argument);
        }
        self.in_local_set -= usize::from(runs_a_local_set);
    }
}
