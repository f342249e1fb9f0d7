//! Finding the `#[tokio::test]`s of a file, and what keeps each from converting.

use proc_macro2::LineColumn;
use quote::ToTokens as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::visit::Visit;

/// The `#[tokio::test]` options that `#[leakcheck::test]` takes with the same meaning.
const SAME_OPTIONS: [&str; 3] = ["flavor", "worker_threads", "start_paused"];

/// Every `#[tokio::test]` of `file`, in source order.
pub(super) fn tokio_tests(file: &syn::File) -> Vec<TokioTest> {
    let mut finder = TokioTests::default();
    finder.visit_file(file);
    finder.tests
}

/// A `#[tokio::test]` found: where its path is, and what keeps it from converting.
pub(super) struct TokioTest {
    pub(super) path_start: LineColumn,
    pub(super) path_end: LineColumn,
    pub(super) problem: Option<String>,
}

#[derive(Default)]
struct TokioTests {
    tests: Vec<TokioTest>,
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
                continue;
            }
            let start = match &path.leading_colon {
                Some(colons) => colons.spans[0].start(),
                None => path.segments[0].ident.span().start(),
            };
            let end = path.segments[1].ident.span().end();
            self.tests.push(TokioTest {
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

impl<'ast> Visit<'ast> for TokioTests {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.look_at(&item.attrs, &item.sig);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.look_at(&item.attrs, &item.sig);
        syn::visit::visit_impl_item_fn(self, item);
    }
}
