//! The attribute macro of [leakcheck](https://docs.rs/leakcheck). Use it through that crate:
//! `leakcheck::leak_checked_test`, also exported as `leakcheck::test` for rstest.
//!
//! The macro only reads and renders: it checks the options and the signature, then writes a
//! plain `#[test] fn` that calls `leakcheck::Check`. Every mistake is a compile error at the
//! offending token that says what to write instead.

mod expand;
mod parse;

use proc_macro::TokenStream;

/// Runs an `async fn` test on a fresh tokio runtime and fails it when it leaks tasks, lets a
/// task panic, leaves blocking work running, hangs, or cannot set up or tear down a fixture.
///
/// See the `leakcheck` crate for the options and what a run does.
#[proc_macro_attribute]
pub fn leak_checked_test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::leak_checked_test(args.into(), item.into()).into()
}
