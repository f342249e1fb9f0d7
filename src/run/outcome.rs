//! What a test body or a teardown hook may return.

use std::fmt::Debug;

/// The return type of a leak-checked test body or an [`on_teardown`](crate::on_teardown)
/// cleanup: `()` or `Result<(), E>` with `E: Debug`, as with `#[test]`.
///
/// An `Err` fails the test; the report shows it with `Debug`, as `cargo test` does.
#[diagnostic::on_unimplemented(
    message = "a leak-checked test cannot return `{Self}`",
    label = "return `()` or `Result<(), E>` with `E: Debug`"
)]
pub trait TestOutcome {
    /// The failure to report, if this outcome is one.
    fn failure(self) -> Option<String>;
}

impl TestOutcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: Debug> TestOutcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|error| format!("{error:?}"))
    }
}
