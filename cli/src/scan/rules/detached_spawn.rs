#![doc = include_str!("detached_spawn.md")]

use quote::ToTokens as _;

use super::Rule;
use crate::scan::Finding;
use crate::scan::walk::{Context, SpawnCall};

/// `tokio::spawn(..);`: the handle is dropped at the end of the statement.
pub(crate) fn statement(context: &Context<'_>, expr: &syn::Expr) -> Option<Finding> {
    let spawn = context.spawn_call(expr)?;
    Some(detached(
        context,
        &spawn,
        "its JoinHandle is dropped at the end of this statement",
    ))
}

/// `let _ = tokio::spawn(..);`: `_` binds nothing, so the handle is dropped at once.
pub(crate) fn wildcard_let(context: &Context<'_>, init: &syn::Expr) -> Option<Finding> {
    let spawn = context.spawn_call(init)?;
    Some(detached(
        context,
        &spawn,
        "`let _ =` drops its JoinHandle at once",
    ))
}

/// `drop(tokio::spawn(..))`, `mem::forget(..)`.
pub(crate) fn dropped(
    context: &Context<'_>,
    function: &syn::Path,
    argument: &syn::Expr,
) -> Option<Finding> {
    let spawn = context.spawn_call(argument)?;
    let function = function.to_token_stream().to_string().replace(' ', "");
    Some(detached(
        context,
        &spawn,
        &format!("`{function}` gives its JoinHandle away at once"),
    ))
}

fn detached(context: &Context<'_>, spawn: &SpawnCall, label: &str) -> Finding {
    Finding::new(
        Rule::DetachedSpawn,
        spawn.span,
        format!(
            "the task spawned by `{}` is detached: nothing awaits, aborts or owns it",
            spawn.called
        ),
        label.to_owned(),
        context,
    )
}
