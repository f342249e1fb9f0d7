//! Finding the `#[tokio::test]`s of a file, and what keeps each from converting.

use proc_macro2::LineColumn;
use quote::ToTokens as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::visit::Visit;

/// The `#[tokio::test]` options that `#[leakcheck::test]` takes with the same meaning.
const SAME_OPTIONS: [&str; 3] = ["flavor", "worker_threads", "start_paused"];

/// Attributes that mean a test to this tool, whatever else ends in `test`.
const KNOWN_TESTS: [&[&str]; 4] = [
    &["test"],
    &["leakcheck", "test"],
    &["leak_checked_test"],
    &["leakcheck", "leak_checked_test"],
];

/// What a file holds for `migrate`: its `#[tokio::test]`s, and the tests it cannot see
/// through.
#[derive(Default)]
pub(super) struct Found {
    /// Every `#[tokio::test]` on a function, in source order.
    pub(super) tests: Vec<TokioTest>,
    /// Other attributes ending in `test` (`#[crate::test]`, `#[my_macros::test]`), which may
    /// expand to `#[tokio::test]`, and `#[tokio::test]`s inside `macro_rules!`: where each is,
    /// and what to do.
    pub(super) hidden: Vec<(LineColumn, String)>,
}

/// What `file` holds for `migrate`.
pub(super) fn tokio_tests(file: &syn::File) -> Found {
    let mut finder = TokioTests::default();
    finder.visit_file(file);
    finder.found
}

/// A `#[tokio::test]` found: where its path is, and what keeps it from converting.
pub(super) struct TokioTest {
    pub(super) path_start: LineColumn,
    pub(super) path_end: LineColumn,
    pub(super) problem: Option<String>,
}

#[derive(Default)]
struct TokioTests {
    found: Found,
}

impl TokioTests {
    fn look_at(&mut self, attributes: &[syn::Attribute], signature: &syn::Signature) {
        for attribute in attributes {
            let path = attribute.path();
            let segments: Vec<String> = path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            if segments != ["tokio", "test"] {
                let known = KNOWN_TESTS
                    .iter()
                    .any(|known| *known == segments.as_slice());
                if segments.last().is_some_and(|last| last == "test") && !known {
                    let shown = format!("#[{}]", segments.join("::"));
                    self.found.hidden.push((
                        path.span().start(),
                        format!(
                            "`{shown}` on `{}` may expand to #[tokio::test]: not converted; if it does, make it expand to #[leakcheck::test], or convert its tests by hand",
                            signature.ident
                        ),
                    ));
                }
                continue;
            }
            let start = match &path.leading_colon {
                Some(colons) => colons.spans[0].start(),
                None => path.segments[0].ident.span().start(),
            };
            let end = path.segments[1].ident.span().end();
            self.found.tests.push(TokioTest {
                path_start: start,
                path_end: end,
                problem: problem(attribute, signature),
            });
        }
    }
}

/// Why a `#[tokio::test]` cannot become a `#[leakcheck::test]` as it is, if it cannot.
fn problem(attribute: &syn::Attribute, signature: &syn::Signature) -> Option<String> {
    if signature.asyncness.is_none() {
        return Some(format!("`{}` is not an `async fn`", signature.ident));
    }
    let syn::Meta::List(list) = &attribute.meta else {
        return None;
    };
    let options = match list
        .parse_args_with(Punctuated::<syn::MetaNameValue, syn::Token![,]>::parse_terminated)
    {
        Ok(options) => options,
        Err(error) => return Some(format!("its options do not parse: {error}")),
    };
    for option in options {
        let name = option.path.to_token_stream().to_string();
        if SAME_OPTIONS.contains(&name.as_str()) {
            continue;
        }
        let at = option.path.span().start();
        return Some(match name.as_str() {
            "crate" => format!(
                "`crate = ..` (column {}) names tokio's path; leakcheck's `crate` option names leakcheck's: convert it by hand",
                at.column + 1
            ),
            "unhandled_panic" => format!(
                "`unhandled_panic` (column {}): leakcheck fails a test on a task's panic already; remove the option and convert it by hand",
                at.column + 1
            ),
            other => format!(
                "option `{other}` (column {}) has no leakcheck counterpart",
                at.column + 1
            ),
        });
    }
    None
}

/// Where `#[tokio::test]` is written in a macro's tokens.
fn tokio_tests_in(tokens: proc_macro2::TokenStream, found: &mut Vec<LineColumn>) {
    let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
    for (index, token) in tokens.iter().enumerate() {
        match token {
            proc_macro2::TokenTree::Group(group) => tokio_tests_in(group.stream(), found),
            proc_macro2::TokenTree::Ident(ident) if ident == "tokio" => {
                let rest: String = tokens[index + 1..]
                    .iter()
                    .take(3)
                    .map(ToString::to_string)
                    .collect();
                if rest.starts_with("::test") {
                    found.push(ident.span().start());
                }
            }
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for TokioTests {
    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        if item.mac.path.is_ident("macro_rules") {
            let name = item
                .ident
                .as_ref()
                .map_or_else(String::new, |ident| format!(" `{ident}`"));
            let mut found = Vec::new();
            tokio_tests_in(item.mac.tokens.clone(), &mut found);
            for at in found {
                self.found.hidden.push((
                    at,
                    format!(
                        "#[tokio::test] inside macro_rules!{name}: not converted; write #[leakcheck::test] in the macro by hand"
                    ),
                ));
            }
        }
        syn::visit::visit_item_macro(self, item);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.look_at(&item.attrs, &item.sig);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.look_at(&item.attrs, &item.sig);
        syn::visit::visit_impl_item_fn(self, item);
    }
}
