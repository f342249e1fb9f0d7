//! Compile errors of `#[leak_checked_test]`: each file under `tests/ui/` is one mistake, and its
//! `.stderr` the message the user must see. Regenerate with
//! `TRYBUILD=overwrite cargo test -p leakcheck-macros --test ui`
//! after a deliberate change, and read the diff.

#[test]
fn mistakes_are_compile_errors_that_say_what_to_write() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
