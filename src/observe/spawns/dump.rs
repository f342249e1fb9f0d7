//! Where leaked tasks are waiting, from a tokio task dump (cargo feature `taskdump`, Linux,
//! `--cfg tokio_unstable`).
//!
//! A dump re-polls every task in a tracing mode and records the stack down to the resource
//! each one waits on. The report keeps two frames of each: the resource (`tokio::time::Sleep`)
//! and the nearest frame of the user's code that awaits it.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::runtime::dump::{BacktraceSymbol, Trace};
use tokio::task::Id;

use crate::observe::watchdog::{self, Bounded};

/// A dump waits for every worker to pause; a worker stuck in blocking code never does.
const DUMP_LIMIT: Duration = Duration::from_secs(2);

/// For each task that waits somewhere, where: `tokio::time::sleep::Sleep (tests/ws.rs:48)`.
pub(crate) async fn waiting_points(tasks: &[Id]) -> HashMap<Id, String> {
    if tasks.is_empty() {
        return HashMap::new();
    }
    let dump = match watchdog::within_deadline(
        Instant::now() + DUMP_LIMIT,
        Handle::current().dump(),
    )
    .await
    {
        Bounded::Completed(dump) => dump,
        Bounded::Panicked(_) | Bounded::TimedOut => return HashMap::new(),
    };
    let here = std::env::current_dir().ok();
    dump.tasks()
        .iter()
        .filter(|task| tasks.contains(&task.id()))
        .filter_map(|task| Some((task.id(), waiting_point(task.trace(), here.as_deref())?)))
        .collect()
}

fn waiting_point(trace: &Trace, here: Option<&Path>) -> Option<String> {
    let backtraces = trace.resolve_backtraces();
    // A task waiting on several things at once (a `select!`) has one stack for each; the
    // first is enough to point at the await.
    let symbols: Vec<&BacktraceSymbol> = backtraces
        .first()?
        .frames()
        .flat_map(|frame| frame.symbols())
        .collect();
    let resource = symbols
        .iter()
        .find_map(|symbol| awaited_type(symbol.name_demangled()?))?;
    let user_line = symbols
        .iter()
        .find_map(|symbol| user_location(symbol, here));
    Some(match user_line {
        Some(line) => format!("{resource} ({line})"),
        None => resource,
    })
}

/// `tokio::time::sleep::Sleep` from `<tokio::time::sleep::Sleep as core::future::future::Future>::poll`.
fn awaited_type(symbol: &str) -> Option<String> {
    let inner = symbol.strip_prefix('<')?;
    let (awaited, rest) = inner.split_once(" as ")?;
    if !rest.starts_with("core::future::future::Future>::poll")
        || awaited.starts_with("tokio::runtime")
    {
        return None;
    }
    Some(awaited.split('<').next().unwrap_or(awaited).to_owned())
}

/// `tests/ws.rs:48` for a frame in the user's sources: not the standard library, nor a crate
/// from a registry or git checkout.
fn user_location(symbol: &BacktraceSymbol, here: Option<&Path>) -> Option<String> {
    let file = symbol.filename()?;
    let text = file.to_string_lossy();
    let foreign = ["/rustc/", "/.cargo/registry/", "/.cargo/git/", "/.rustup/"];
    if foreign.iter().any(|marker| text.contains(marker)) {
        return None;
    }
    let shown = here
        .and_then(|here| file.strip_prefix(here).ok())
        .unwrap_or(file);
    Some(format!("{}:{}", shown.display(), symbol.lineno()?))
}

#[cfg(test)]
mod tests {
    use super::awaited_type;

    #[test]
    fn the_awaited_resource_is_the_polled_type_without_generics() {
        assert_eq!(
            awaited_type("<tokio::time::sleep::Sleep as core::future::future::Future>::poll"),
            Some("tokio::time::sleep::Sleep".to_owned())
        );
        assert_eq!(
            awaited_type(
                "<tokio::sync::notify::Notified<'_> as core::future::future::Future>::poll"
            ),
            Some("tokio::sync::notify::Notified".to_owned())
        );
        assert_eq!(awaited_type("tests::leaks::{{closure}}"), None);
    }
}
