//! Task names and running `spawn_blocking` work, read from the tracing spans tokio opens for
//! every task in a `--cfg tokio_unstable` build.
//!
//! tokio's task hooks give a task's id and spawn site but not the name given with
//! `tokio::task::Builder::name`, and they see no blocking work at all; tokio's `runtime.spawn`
//! spans carry both. [`TaskNames`] is a tracing-subscriber layer that files them with the run
//! whose runtime opened them. When the process has no subscriber of its own, leakcheck puts
//! one with this layer on the runtime's threads for the test's duration; a process that sets
//! its own global subscriber adds the layer to it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id as SpanId, Record};
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::hooked::SpawnLog;
use crate::settings;
use crate::util::sync::lock;

/// The subscriber lent to runtime threads, made once: tracing caches which subscribers want a
/// callsite process-wide, so every run must lend the same two.
static LENT: OnceLock<(Dispatch, Dispatch)> = OnceLock::new();

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
        if self.task.is_none() {
            // tokio writes `task.id` before any other number.
            if field.name() == "task.id" {
                self.task = Some(value);
            }
            return;
        }
        if !self.blocking {
            return;
        }
        match field.name() {
            "loc.line" => self.line = Some(value),
            "loc.col" => self.column = Some(value),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        // Only blocking work's spawn site comes from here (the task hooks give async tasks'),
        // and tokio writes `kind` before it: the common case allocates nothing.
        if self.blocking && field.name() == "loc.file" {
            self.file = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // tokio records `task.name` with `%`, so its Debug is its Display. This runs for
        // every spawned task, nearly always with an empty name: test for one without
        // allocating, and format it only when there is one.
        if field.name() == "task.name" && Written::anything(value) {
            self.name = Some(format!("{value:?}"));
        }
    }
}

/// Whether a value formats to anything at all, found without keeping what it writes.
#[derive(Default)]
struct Written(bool);

impl Written {
    fn anything(value: &dyn fmt::Debug) -> bool {
        let mut written = Written::default();
        fmt::write(&mut written, format_args!("{value:?}")).is_ok() && written.0
    }
}

impl fmt::Write for Written {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        self.0 |= !piece.is_empty();
        Ok(())
    }
}

/// A spawn span filed with its run: one that names its task or is blocking work, whose end
/// the run must hear of. The spawn spans of unnamed async tasks, nearly all of them, file
/// nothing.
struct Filed {
    log: Arc<SpawnLog>,
    task: u64,
    blocking: bool,
}

impl SpawnSpan {
    /// The fields of a new span, if it is a spawn span.
    fn read(attributes: &Attributes<'_>) -> Option<SpawnSpan> {
        is_spawn_span(attributes.metadata()).then(|| SpawnSpan::read_spawn_span(attributes))
    }

    /// The fields of a new span known to be a spawn span.
    fn read_spawn_span(attributes: &Attributes<'_>) -> SpawnSpan {
        let mut spawn = SpawnSpan {
            // tokio gives blocking work a target of its own; telling it by the target spares
            // formatting the `kind` field of every spawn.
            blocking: attributes.metadata().target() == "tokio::task::blocking",
            ..SpawnSpan::default()
        };
        attributes.record(&mut spawn);
        spawn
    }
}

impl Filed {
    /// Files a spawn span with the run of the calling thread, if the run needs it.
    fn open(spawn: SpawnSpan) -> Option<Filed> {
        let task = spawn.task?;
        let blocking = spawn.blocking;
        if !blocking && spawn.name.is_none() {
            return None;
        }
        let log = SpawnLog::current()?;
        log.span_opened(spawn);
        Some(Filed {
            log,
            task,
            blocking,
        })
    }

    fn close(self) {
        self.log.span_closed(self.task, self.blocking);
    }
}

impl<S> Layer<S> for TaskNames
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &SpanId, context: Context<'_, S>) {
        let filed = SpawnSpan::read(attributes).and_then(Filed::open);
        if let (Some(filed), Some(span)) = (filed, context.span(id)) {
            span.extensions_mut().insert(filed);
        }
    }

    fn on_close(&self, id: SpanId, context: Context<'_, S>) {
        let Some(span) = context.span(&id) else {
            return;
        };
        if let Some(filed) = span.extensions_mut().remove::<Filed>() {
            filed.close();
        }
    }
}

/// The subscriber leakcheck lends the runtime's threads when the process has none. It
/// enables tokio's spawn spans and nothing else, and keeps only the few it files: a span's id
/// is its task's number, doubled, plus one for a filed span, so the spans of unnamed tasks
/// cost no bookkeeping at all. tracing-subscriber's registry, which keeps every span with its
/// extensions, made a test spawning 100,000 tasks 2.8 times as costly; this costs a fraction.
#[derive(Default)]
struct SpawnSpans {
    /// Filed spans by id, with how many handles to each are open.
    filed: Mutex<HashMap<u64, (Filed, usize)>>,
}

impl SpawnSpans {
    fn filed(&self) -> MutexGuard<'_, HashMap<u64, (Filed, usize)>> {
        // Held only to touch one entry; poisoning cannot tear the map.
        lock(&self.filed)
    }
}

impl Subscriber for SpawnSpans {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_spawn_span(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_spawn_span(metadata)
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> SpanId {
        // Only spawn spans are enabled, so only they get here.
        let spawn = SpawnSpan::read_spawn_span(attributes);
        // Never zero, which tracing reserves.
        let unfiled = spawn.task.unwrap_or(0).wrapping_mul(2).max(2);
        if !spawn.blocking && spawn.name.is_none() {
            return SpanId::from_u64(unfiled);
        }
        match Filed::open(spawn) {
            Some(filed) => {
                let id = unfiled | 1;
                self.filed().insert(id, (filed, 1));
                SpanId::from_u64(id)
            }
            None => SpanId::from_u64(unfiled),
        }
    }

    fn clone_span(&self, id: &SpanId) -> SpanId {
        if !is_filed(id) {
            return id.clone();
        }
        if let Some((_, handles)) = self.filed().get_mut(&id.into_u64()) {
            *handles += 1;
        }
        id.clone()
    }

    fn try_close(&self, id: SpanId) -> bool {
        if !is_filed(&id) {
            return false;
        }
        let mut filed = self.filed();
        let Some((_, handles)) = filed.get_mut(&id.into_u64()) else {
            return false;
        };
        *handles -= 1;
        if *handles > 0 {
            return false;
        }
        let closed = filed.remove(&id.into_u64());
        drop(filed);
        if let Some((filed, _)) = closed {
            filed.close();
        }
        true
    }

    fn record(&self, _: &SpanId, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &SpanId, _: &SpanId) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &SpanId) {}

    fn exit(&self, _: &SpanId) {}
}

fn is_filed(id: &SpanId) -> bool {
    id.into_u64() & 1 == 1
}

/// The subscriber leakcheck lends the runtime's threads when the process has none.
fn lent_dispatch() -> &'static Dispatch {
    let (lent, _) = LENT.get_or_init(|| {
        // With a single subscriber registered, tracing caches a callsite's interest from the
        // default of whichever thread reaches it first, a thread without a subscriber caches
        // "never", and the spawn spans stay off for good. A second subscriber, never any
        // thread's default, makes it ask every registered one instead; being of the same kind,
        // it agrees with the first, so spawn spans are "always" wanted and tracing skips
        // asking again at every spawn.
        (
            Dispatch::new(SpawnSpans::default()),
            Dispatch::new(SpawnSpans::default()),
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

/// Whether task names are recorded: yes unless `LEAKCHECK_TASK_NAMES` is `0` or `false`. A
/// value that is neither fails every test when it resolves its settings.
pub(crate) fn names_wanted() -> bool {
    settings::environment()
        .as_ref()
        .map_or(true, |environment| environment.task_names)
}
