//! Rewriting a file's convertible `#[tokio::test]`s: only the attribute's path changes.

use proc_macro2::LineColumn;

use super::Skipped;
use super::finding::tokio_tests;

/// What rewriting one file gives.
#[derive(Debug, Default)]
pub(super) struct Rewritten {
    /// The file's new text, if anything in it changed.
    pub(super) after: Option<String>,
    pub(super) converted: usize,
    pub(super) skipped: Vec<Skipped>,
}

/// `source` (the file shown as `shown`) with its convertible `#[tokio::test]`s rewritten.
pub(super) fn rewrite(source: &str, shown: &str) -> Rewritten {
    let mut rewritten = Rewritten::default();
    if !source.contains("test") {
        return rewritten;
    }
    let Ok(file) = syn::parse_file(source) else {
        // The compiler will say what is wrong with it; there is nothing to migrate in a file
        // that does not parse.
        return rewritten;
    };
    let mut edits: Vec<(usize, usize)> = Vec::new();
    let found = tokio_tests(&file);
    for (at, why) in found.hidden {
        rewritten.skipped.push(Skipped {
            at: format!("{shown}:{}", at.line),
            why,
        });
    }
    for test in found.tests {
        let at = format!("{shown}:{}", test.path_start.line);
        match test.problem {
            Some(why) => rewritten.skipped.push(Skipped { at, why }),
            None => {
                edits.push((
                    offset(source, test.path_start),
                    offset(source, test.path_end),
                ));
                rewritten.converted += 1;
            }
        }
    }
    rewritten.skipped.sort_by_key(|skipped| {
        skipped
            .at
            .rsplit(':')
            .next()
            .and_then(|line| line.parse::<usize>().ok())
    });
    if edits.is_empty() {
        return rewritten;
    }
    let mut edited = source.to_owned();
    edits.sort_unstable();
    for (start, end) in edits.into_iter().rev() {
        edited.replace_range(start..end, "leakcheck::test");
    }
    rewritten.after = Some(edited);
    rewritten
}

/// The byte offset of a line and character column in `source`.
fn offset(source: &str, at: LineColumn) -> usize {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(at.line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line = &source[line_start..];
    line_start
        + line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(offset, _)| offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated(source: &str) -> (String, Rewritten) {
        let rewritten = rewrite(source, "case.rs");
        let after = rewritten.after.clone().unwrap_or_else(|| source.to_owned());
        (after, rewritten)
    }

    #[test]
    fn the_path_is_rewritten_and_options_and_lines_stay() {
        let source = "#[tokio::test]\nasync fn a() {}\n\n#[::tokio::test(flavor = \"multi_thread\", worker_threads = 2)]\nasync fn b() {}\n\nmod m {\n    #[tokio::test(start_paused = true)] async fn c() { assert_eq!(line!(), 8) }\n}\n";
        let (after, changes) = migrated(source);
        assert_eq!(
            after,
            "#[leakcheck::test]\nasync fn a() {}\n\n#[leakcheck::test(flavor = \"multi_thread\", worker_threads = 2)]\nasync fn b() {}\n\nmod m {\n    #[leakcheck::test(start_paused = true)] async fn c() { assert_eq!(line!(), 8) }\n}\n"
        );
        assert_eq!(changes.converted, 3);
        assert_eq!(after.lines().count(), source.lines().count());
    }

    #[test]
    fn options_without_a_counterpart_are_left_with_the_reason() {
        let source = "#[tokio::test(crate = \"my_tokio\")]\nasync fn a() {}\n#[tokio::test(flavor = \"current_thread\", unhandled_panic = \"shutdown_runtime\")]\nasync fn b() {}\n#[tokio::test]\nfn c() {}\n";
        let (after, changes) = migrated(source);
        assert_eq!(after, source);
        let reasons: Vec<&str> = changes
            .skipped
            .iter()
            .map(|skipped| skipped.why.as_str())
            .collect();
        assert!(reasons[0].contains("names tokio's path"), "{reasons:?}");
        assert!(
            reasons[1].contains("`unhandled_panic` (column 42)"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].contains("`c` is not an `async fn`"),
            "{reasons:?}"
        );
    }

    #[test]
    fn wrappers_that_may_expand_to_tokio_test_are_listed_not_passed_over() {
        let source = "#[crate::test]\nasync fn a() {}\n\n#[my_macros::test(flavor = \"multi_thread\")]\nasync fn b() {}\n\nmacro_rules! suite {\n    ($name:ident) => {\n        #[tokio::test]\n        async fn $name() {}\n    };\n}\n\n#[test]\nfn plain() {}\n#[rstest::rstest]\nfn cases() {}\n#[tokio::test]\nasync fn c() {}\n";
        let (after, rewritten) = migrated(source);
        assert_eq!(rewritten.converted, 1);
        assert!(
            after.contains("#[leakcheck::test]\nasync fn c()"),
            "{after}"
        );
        let listed: Vec<String> = rewritten
            .skipped
            .iter()
            .map(|skipped| format!("{}: {}", skipped.at, skipped.why))
            .collect();
        assert_eq!(
            listed,
            [
                "case.rs:1: `#[crate::test]` on `a` may expand to #[tokio::test]: not converted; if it does, make it expand to #[leakcheck::test], or convert its tests by hand",
                "case.rs:4: `#[my_macros::test]` on `b` may expand to #[tokio::test]: not converted; if it does, make it expand to #[leakcheck::test], or convert its tests by hand",
                "case.rs:9: #[tokio::test] inside macro_rules! `suite`: not converted; write #[leakcheck::test] in the macro by hand",
            ]
        );
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let (after, _) = migrated("#[tokio::test]\nasync fn a() {}\n");
        let (again, changes) = migrated(&after);
        assert_eq!(again, after);
        assert_eq!(changes.converted, 0);
    }
}
