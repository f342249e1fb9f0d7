//! Task names and running `spawn_blocking` work, read from the tracing spans tokio opens for
//! every task in a `--cfg tokio_unstable` build.
//!
//! tokio's task hooks give a task's id and spawn site but not the name given with
//! `tokio::task::Builder::name`, and they see no blocking work at all; tokio's `runtime.spawn`
//! spans carry both. [`TaskNames`] is a tracing-subscriber layer that files them with the run
//! whose runtime opened them. When the process has no subscriber of its own, leakcheck puts
//! one with this layer on the runtime's threads for the test's duration; a process that sets
//! its own global subscriber adds the layer to it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id as SpanId};
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{Dispatch, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

use crate::registry::{self, RunState};

/// A tracing-subscriber layer that tells leakcheck each tokio task's name and which
/// `spawn_blocking` work is still running, so leak reports can name them.
///
/// Needed only when the test process sets a global tracing subscriber of its own; without one,
/// leakcheck installs a subscriber with this layer on the test's runtime threads by itself.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(leakcheck::TaskNames);
/// # drop(subscriber);
/// // tracing::subscriber::set_global_default(subscriber)
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskNames;

/// tokio's span around every spawned task, async or blocking.
fn is_spawn_span(metadata: &Metadata<'_>) -> bool {
    metadata.name() == "runtime.spawn" && metadata.target().starts_with("tokio::task")
}

/// The fields of a `runtime.spawn` span that leakcheck reads.
#[derive(Default)]
pub(crate) struct SpawnSpan {
    pub(crate) task: Option<u64>,
    pub(crate) blocking: bool,
    pub(crate) name: Option<String>,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u64>,
    pub(crate) column: Option<u64>,
}

impl SpawnSpan {
    pub(crate) fn site(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(format!("{file}:{}:{}", self.line?, self.column?))
    }
}

impl Visit for SpawnSpan {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "task.id" => self.task = Some(value),
            "loc.line" => self.line = Some(value),
            "loc.col" => self.column = Some(value),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "loc.file" {
            self.file = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // tokio records `kind` and `task.name` with `%`, so their Debug is their Display.
        // This runs for every spawned task: compare and test without allocating.
        match field.name() {
            "kind" => self.blocking = Matches::text(value, "blocking"),
            "task.name" if !Matches::text(value, "") => self.name = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

/// Compares what a value formats to with an expected text, without allocating.
struct Matches<'a> {
    rest: &'a str,
    equal: bool,
}

impl Matches<'_> {
    fn text(value: &dyn fmt::Debug, expected: &str) -> bool {
        let mut matches = Matches {
            rest: expected,
            equal: true,
        };
        let written = fmt::write(&mut matches, format_args!("{value:?}")).is_ok();
        written && matches.equal && matches.rest.is_empty()
    }
}

impl fmt::Write for Matches<'_> {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        match self.rest.strip_prefix(piece) {
            Some(rest) => self.rest = rest,
            None => self.equal = false,
        }
        Ok(())
    }
}

/// Kept in the span until it closes, when the task has ended.
struct Filed {
    run: Arc<RunState>,
    task: u64,
    blocking: bool,
}

impl<S> Layer<S> for TaskNames
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &SpanId, context: Context<'_, S>) {
        if !is_spawn_span(attributes.metadata()) {
            return;
        }
        let Some(run) = registry::current() else {
            return;
        };
        let mut spawn = SpawnSpan::default();
        attributes.record(&mut spawn);
        let Some(task) = spawn.task else {
            return;
        };
        let blocking = spawn.blocking;
        run.spawns().span_opened(spawn);
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(Filed {
                run,
                task,
                blocking,
            });
        }
    }

    fn on_close(&self, id: SpanId, context: Context<'_, S>) {
        let Some(span) = context.span(&id) else {
            return;
        };
        if let Some(filed) = span.extensions_mut().remove::<Filed>() {
            filed.run.spawns().span_closed(filed.task, filed.blocking);
        }
    }
}

/// [`TaskNames`], with every other callsite disabled: the layer of the subscriber leakcheck
/// lends, where nothing else should pay for it.
struct OnlySpawnSpans;

impl<S> Layer<S> for OnlySpawnSpans
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_spawn_span(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        is_spawn_span(metadata)
    }

    fn on_new_span(&self, attributes: &Attributes<'_>, id: &SpanId, context: Context<'_, S>) {
        TaskNames.on_new_span(attributes, id, context);
    }

    fn on_close(&self, id: SpanId, context: Context<'_, S>) {
        <TaskNames as Layer<S>>::on_close(&TaskNames, id, context);
    }
}

/// The subscriber leakcheck lends the runtime's threads when the process has none: only
/// tokio's spawn spans are enabled, so nothing else pays for it.
fn lent_dispatch() -> &'static Dispatch {
    static LENT: OnceLock<(Dispatch, Dispatch)> = OnceLock::new();
    let (lent, _) = LENT.get_or_init(|| {
        // With a single subscriber registered, tracing caches a callsite's interest from the
        // default of whichever thread reaches it first, a thread without a subscriber caches
        // "never", and the spawn spans stay off for good. A second, silent subscriber makes it
        // ask every registered one instead.
        let silent = Dispatch::new(NoSubscriber::default());
        (
            Dispatch::new(Registry::default().with(OnlySpawnSpans)),
            silent,
        )
    });
    lent
}

/// Keeps the lent subscriber as the calling thread's default while alive; does nothing where
/// the thread already has a subscriber, which then needs [`TaskNames`] for names.
pub(crate) struct LentSubscriber(
    // Never read: holding the guard is what keeps the subscriber the thread's default.
    #[allow(dead_code)] Option<tracing::dispatcher::DefaultGuard>,
);

impl LentSubscriber {
    pub(crate) fn lend() -> Self {
        if !names_wanted() {
            return LentSubscriber(None);
        }
        let has_own = tracing::dispatcher::get_default(|current| !current.is::<NoSubscriber>());
        if has_own {
            return LentSubscriber(None);
        }
        LentSubscriber(Some(tracing::dispatcher::set_default(lent_dispatch())))
    }
}

/// The variable that turns task names on: recording tokio's spawn spans costs about twice
/// the run time of a test that spawns tasks by the hundred thousand, so it is asked for.
pub const TASK_NAMES_VARIABLE: &str = "LEAKCHECK_TASK_NAMES";

/// Whether `LEAKCHECK_TASK_NAMES` asks for task names: `1` or `true`; unset, empty, `0` or
/// `false` do not. Another value is reported once, and names stay off.
pub(crate) fn names_wanted() -> bool {
    static WANTED: OnceLock<bool> = OnceLock::new();
    *WANTED.get_or_init(|| match std::env::var(TASK_NAMES_VARIABLE).as_deref() {
        Ok("1" | "true") => true,
        Ok("" | "0" | "false") | Err(_) => false,
        Ok(other) => {
            eprintln!(
                "leakcheck: {TASK_NAMES_VARIABLE}={other:?} is neither 1 nor 0; task names stay off"
            );
            false
        }
    })
}
