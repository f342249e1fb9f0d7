#![doc = include_str!("discarded_future.md")]

use syn::spanned::Spanned as _;

use super::Rule;
use crate::scan::Finding;
use crate::scan::walk::Context;

/// `let _ = an_async_fn(..);`, `let _ = value.an_async_method(..);`, `let _ = async { .. };`.
pub(crate) fn wildcard_let(context: &Context<'_>, init: &syn::Expr) -> Option<Finding> {
    let known = context.code_base.async_functions;
    let (span, what) = match strip_parentheses(init) {
        syn::Expr::Async(block) => (block.async_token.span(), "an async block".to_owned()),
        syn::Expr::Call(call) => {
            let syn::Expr::Path(function) = &*call.func else {
                return None;
            };
            let name = function.path.segments.last()?.ident.to_string();
            let is_async = match context.type_of_path_call(&function.path) {
                Some(owner) => known.methods.contains(&(owner, name.clone())),
                None => is_local_function(&function.path) && known.free.contains(&name),
            };
            if !is_async {
                return None;
            }
            (function.span(), format!("the future of `async fn {name}`"))
        }
        syn::Expr::MethodCall(call) => {
            let owner = context.receiver_type(&call.receiver)?;
            let name = call.method.to_string();
            if !known.methods.contains(&(owner.clone(), name.clone())) {
                return None;
            }
            (
                call.method.span(),
                format!("the future of `async fn {owner}::{name}`"),
            )
        }
        _ => return None,
    };
    Some(Finding::new(
        Rule::DiscardedFuture,
        span,
        format!("{what} is made and thrown away: it never runs"),
        "never awaited".to_owned(),
        context,
    ))
}

/// Whether a path names a function of this crate: a plain name, or one under `crate::`,
/// `self::` or `super::`.
fn is_local_function(path: &syn::Path) -> bool {
    path.leading_colon.is_none()
        && (path.segments.len() == 1
            || path.segments.first().is_some_and(|first| {
                matches!(first.ident.to_string().as_str(), "crate" | "self" | "super")
            }))
}

fn strip_parentheses(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(inner) => strip_parentheses(&inner.expr),
        syn::Expr::Group(inner) => strip_parentheses(&inner.expr),
        other => other,
    }
}
