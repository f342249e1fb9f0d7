//! Backtraces that end at the user's code, as they do under `#[tokio::test]`.
//!
//! std prints a short backtrace (`RUST_BACKTRACE=1`) from the panic up to the first frame
//! named `__rust_begin_short_backtrace`; libtest calls each test through a function of that
//! name. A leak-checked body runs a dozen frames of leakcheck and tokio further from libtest
//! than a `#[tokio::test]` body does, so the body is polled through a marker of our own, and
//! the frames past it drop out of a panic's backtrace. A backtrace an error captured (anyhow's,
//! say) is printed whole by its `Debug`; the report cuts it at the same marker.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The name std's backtrace printer stops at.
const MARKER: &str = "__rust_begin_short_backtrace";

/// Polls a test body through [`__rust_begin_short_backtrace`].
pub(crate) struct ShortBacktrace<'body, F>(pub(crate) Pin<&'body mut F>);

impl<F: Future> Future for ShortBacktrace<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let body = self.0.as_mut();
        __rust_begin_short_backtrace(move || body.poll(cx))
    }
}

/// Named for std's backtrace printer, which stops here; never inlined, so the frame exists.
#[inline(never)]
fn __rust_begin_short_backtrace<T>(poll: impl FnOnce() -> T) -> T {
    // As libtest does: keeps the call from becoming a tail call, which would lose the frame.
    black_box(poll())
}

/// An error's text with its captured backtrace cut where the body was polled: the frames
/// after that are leakcheck's, tokio's and the test runner's.
pub(crate) fn trim(text: String) -> String {
    let Some(marker_line) = text.lines().position(|line| line.contains(MARKER)) else {
        return text;
    };
    let lines: Vec<&str> = text.lines().collect();
    // Frames are `  N: symbol` lines, each followed by `at file:line:col` lines.
    let is_frame_line = |line: &str| {
        let line = line.trim_start();
        line.starts_with("at ")
            || line.split_once(':').is_some_and(|(number, _)| {
                !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let resumes = lines[marker_line..]
        .iter()
        .position(|line| !is_frame_line(line))
        .map_or(lines.len(), |offset| marker_line + offset);
    let mut trimmed: Vec<&str> = lines[..marker_line].to_vec();
    trimmed.push("      (frames of leakcheck, tokio and the test runner omitted)");
    trimmed.extend_from_slice(&lines[resumes..]);
    trimmed.join("\n")
}

#[cfg(test)]
mod tests {
    use super::trim;

    #[test]
    fn a_captured_backtrace_is_cut_at_the_marker() {
        let text = "connection refused\n\nStack backtrace:\n   0: my_test::body::{{closure}}\n             at ./tests/db.rs:12:9\n   1: leakcheck::backtraces::__rust_begin_short_backtrace\n             at ./src/backtraces.rs:30:5\n   2: leakcheck::run::execute\n   3: std::rt::lang_start\nafter";
        assert_eq!(
            trim(text.to_owned()),
            "connection refused\n\nStack backtrace:\n   0: my_test::body::{{closure}}\n             at ./tests/db.rs:12:9\n      (frames of leakcheck, tokio and the test runner omitted)\nafter"
        );
        assert_eq!(trim("no backtrace".to_owned()), "no backtrace");
    }
}
