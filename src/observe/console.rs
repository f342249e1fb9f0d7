//! tokio-console for a hung test: with `LEAKCHECK_CONSOLE=1`, the test process serves it.
//!
//! Set up once per process, on the first leak-checked run, before that run's runtime exists,
//! so every test runtime of the process is visible. (A `ctor` constructor would run earlier
//! still, but needs `unsafe` link-section attributes, which this crate forbids; the first run
//! is early enough.) It needs the cargo feature `console` and `--cfg tokio_unstable`; without
//! them it says so instead of failing.

use std::sync::Once;

use crate::settings::{self, CONSOLE_VARIABLE};

/// The console is served once per process: its subscriber is the process's global default.
static SERVED: Once = Once::new();

/// Serves tokio-console when `LEAKCHECK_CONSOLE` asks for it; a value that is not a switch
/// fails the test when it resolves its settings.
pub(crate) fn serve_if_asked() {
    let asked = settings::environment()
        .as_ref()
        .is_ok_and(|environment| environment.console);
    if asked {
        SERVED.call_once(serve);
    }
}

#[cfg(all(feature = "console", tokio_unstable))]
fn serve() {
    use tracing_subscriber::layer::SubscriberExt;

    let console = console_subscriber::ConsoleLayer::builder()
        .with_default_env()
        .spawn();
    // The console and the task names share one subscriber; it is global, as the console's
    // aggregator needs every runtime thread's spans.
    let subscriber = tracing_subscriber::registry()
        .with(console)
        .with(crate::observe::spawns::TaskNames);
    match tracing::subscriber::set_global_default(subscriber) {
        Ok(()) => eprintln!(
            "leakcheck: serving tokio-console (TOKIO_CONSOLE_BIND, default 127.0.0.1:6669); attach with `tokio-console`"
        ),
        Err(_) => eprintln!(
            "leakcheck: {CONSOLE_VARIABLE}=1, but the process already has a global tracing subscriber; \
             add console_subscriber::ConsoleLayer to it"
        ),
    }
}

#[cfg(not(all(feature = "console", tokio_unstable)))]
fn serve() {
    eprintln!(
        "leakcheck: {CONSOLE_VARIABLE}=1 needs leakcheck's `console` feature and a build with \
         RUSTFLAGS=\"--cfg tokio_unstable\"; tokio-console stays off"
    );
}
