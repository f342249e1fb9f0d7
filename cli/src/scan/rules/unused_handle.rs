#![doc = include_str!("unused_handle.md")]

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens as _;

use super::Rule;
use crate::scan::Finding;
use crate::scan::walk::Context;

/// `let _guard = tokio::spawn(..);` with `_guard` never named in the rest of the block.
pub(crate) fn named_let(
    context: &Context<'_>,
    local: &syn::Local,
    init: &syn::Expr,
    later: &[syn::Stmt],
) -> Option<Finding> {
    let name = bound_name(&local.pat)?;
    let spawn = context.spawn_call(init)?;
    if later
        .iter()
        .any(|statement| names(statement.to_token_stream(), name))
    {
        return None;
    }
    Some(Finding::new(
        Rule::UnusedHandle,
        name.span(),
        format!(
            "the JoinHandle of `{}` is bound to `{name}`, which is never used: it is dropped at the end of the scope and the task runs on",
            spawn.called
        ),
        "never used again".to_owned(),
        context,
    ))
}

/// The name a plain `let name` or `let mut name: T` binds.
fn bound_name(pattern: &syn::Pat) -> Option<&syn::Ident> {
    match pattern {
        syn::Pat::Ident(ident) if ident.subpat.is_none() => Some(&ident.ident),
        syn::Pat::Type(typed) => bound_name(&typed.pat),
        _ => None,
    }
}

/// Whether `tokens` name `name` anywhere, macro arguments included.
fn names(tokens: TokenStream, name: &syn::Ident) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == *name,
        TokenTree::Group(group) => names(group.stream(), name),
        _ => false,
    })
}
