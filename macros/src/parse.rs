//! Reads the attribute's options and the test function into a checked model.

use std::time::Duration;

use leakcheck_grammar::{Conflict, Runtime};
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Error, FnArg, Ident, ItemFn, Lit, LitStr, Pat, Path, Result, ReturnType, Token,
    Type, Visibility,
};

/// The most fixtures one test can take; `leakcheck::FixtureSet` exists for tuples up to this.
const MAX_FIXTURES: usize = 12;

const OPTION_NAMES: &str = "flavor, worker_threads, start_paused, timeout, teardown_timeout, settle, max_poll, resources, allow_leaks, repeat, crate";

/// The `resources` option: what to do with sockets, files, processes and threads left behind.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resources {
    Fail,
    Warn,
    Off,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
    Local,
}

/// The attribute's options, each with the span of its value for later errors.
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) flavor: Option<(Flavor, Span)>,
    pub(crate) worker_threads: Option<(usize, Span)>,
    pub(crate) start_paused: Option<(bool, Span)>,
    pub(crate) timeout: Option<(Duration, Span)>,
    pub(crate) teardown_timeout: Option<(Duration, Span)>,
    pub(crate) settle: Option<(Duration, Span)>,
    pub(crate) max_poll: Option<(Duration, Span)>,
    pub(crate) repeat: Option<(usize, Span)>,
    pub(crate) resources: Option<(Resources, Span)>,
    pub(crate) allow_leaks: Option<(Vec<LitStr>, Span)>,
    pub(crate) krate: Option<(Path, Span)>,
}

/// One `name = value` pair as written; the value a literal or a list of them.
struct Setting {
    name: Ident,
    value: Value,
}

enum Value {
    Literal(Lit),
    List(syn::ExprArray),
}

impl Value {
    fn span(&self) -> Span {
        match self {
            Value::Literal(literal) => literal.span(),
            Value::List(list) => list.bracket_token.span.join(),
        }
    }

    /// The literal, or an error at the list saying what to write instead.
    fn literal(self, fix: &str) -> Result<Lit> {
        match self {
            Value::Literal(literal) => Ok(literal),
            Value::List(list) => Err(Error::new_spanned(list, fix)),
        }
    }
}

impl Parse for Setting {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        // `crate` is a keyword, so names are read as any identifier.
        let name = Ident::parse_any(input)?;
        if !input.peek(Token![=]) {
            return Err(Error::new(
                name.span(),
                format!("write `{name} = <value>`; the options are {OPTION_NAMES}"),
            ));
        }
        input.parse::<Token![=]>()?;
        let value = if input.peek(syn::token::Bracket) {
            Value::List(input.parse()?)
        } else {
            Value::Literal(input.parse()?)
        };
        Ok(Setting { name, value })
    }
}

/// Collects errors so the user sees all of them at once.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

impl Parse for Options {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let settings = Punctuated::<Setting, Token![,]>::parse_terminated(input)?;
        let mut options = Options::default();
        let mut errors = Errors::default();
        for setting in settings {
            if let Err(error) = options.set(setting) {
                errors.push(error);
            }
        }
        if let Err(error) = options.check_combinations() {
            errors.push(error);
        }
        errors.finish(options)
    }
}

fn set_once<T>(slot: &mut Option<(T, Span)>, name: &Ident, value: T, span: Span) -> Result<()> {
    if slot.is_some() {
        return Err(Error::new(
            name.span(),
            format!("`{name}` set multiple times; keep one"),
        ));
    }
    *slot = Some((value, span));
    Ok(())
}

impl Options {
    fn set(&mut self, setting: Setting) -> Result<()> {
        let Setting { name, value } = setting;
        let span = value.span();
        if name == "allow_leaks" {
            let rules = parse_allow_leaks(value)?;
            return set_once(&mut self.allow_leaks, &name, rules, span);
        }
        let value = value.literal(&format!("`{name}` takes one value, not a list"))?;
        match name.to_string().as_str() {
            "flavor" => {
                let flavor = parse_flavor(&value)?;
                set_once(&mut self.flavor, &name, flavor, span)
            }
            "worker_threads" => {
                let count = parse_worker_threads(&value)?;
                set_once(&mut self.worker_threads, &name, count, span)
            }
            "start_paused" => {
                let Lit::Bool(paused) = &value else {
                    return Err(Error::new(
                        span,
                        "write `start_paused = true` or `start_paused = false`",
                    ));
                };
                set_once(&mut self.start_paused, &name, paused.value, span)
            }
            "timeout" => {
                let limit = parse_duration(&name, &value)?;
                set_once(&mut self.timeout, &name, limit, span)
            }
            "teardown_timeout" => {
                let limit = parse_duration(&name, &value)?;
                set_once(&mut self.teardown_timeout, &name, limit, span)
            }
            "settle" => {
                let window = parse_duration(&name, &value)?;
                set_once(&mut self.settle, &name, window, span)
            }
            "max_poll" => {
                let limit = parse_duration(&name, &value)?;
                set_once(&mut self.max_poll, &name, limit, span)
            }
            "repeat" => {
                let count = match &value {
                    Lit::Int(count) => count.base10_parse::<usize>().ok().filter(|count| *count >= 1),
                    _ => None,
                }
                .ok_or_else(|| {
                    Error::new(
                        span,
                        "write how many times the body runs, a whole number, at least 1: `repeat = 20`",
                    )
                })?;
                set_once(&mut self.repeat, &name, count, span)
            }
            "resources" => {
                let mode = parse_resources(&value)?;
                set_once(&mut self.resources, &name, mode, span)
            }
            "crate" => {
                let Lit::Str(path) = &value else {
                    return Err(Error::new(
                        span,
                        "write the path as a string: `crate = \"my_leakcheck\"`",
                    ));
                };
                let path = path.parse::<Path>().map_err(|_| {
                    Error::new(span, "write a path to the leakcheck crate, like `crate = \"my_reexports::leakcheck\"`")
                })?;
                set_once(&mut self.krate, &name, path, span)
            }
            unknown => Err(Error::new(
                name.span(),
                format!("unknown option `{unknown}`; the options are {OPTION_NAMES}"),
            )),
        }
    }

    /// Rejects what cannot work together, by the rules the library's `Check` follows too.
    fn check_combinations(&self) -> Result<()> {
        let runtime = Runtime {
            multi_thread: self.flavor.map(|(flavor, _)| flavor) == Some(Flavor::MultiThread),
            worker_threads: self.worker_threads.map(|(count, _)| count),
            start_paused: self.start_paused.is_some_and(|(paused, _)| paused),
        };
        let mut errors = Errors::default();
        for conflict in runtime.conflicts() {
            match (conflict, self.worker_threads, self.start_paused) {
                (Conflict::WorkerThreadsWithoutMultiThread, Some((_, span)), _) => {
                    errors.push(Error::new(
                        span,
                        "`worker_threads` needs `flavor = \"multi_thread\"`; add it, or remove `worker_threads`",
                    ));
                }
                (Conflict::StartPausedOnMultiThread, _, Some((_, span))) => {
                    errors.push(Error::new(
                        span,
                        "`start_paused` needs a single-threaded runtime: use `flavor = \"current_thread\"` or `flavor = \"local\"`",
                    ));
                }
                // `worker_threads = 0` is refused where it is parsed, with the fix.
                _ => {}
            }
        }
        errors.finish(())
    }
}

fn parse_allow_leaks(value: Value) -> Result<Vec<LitStr>> {
    const FIX: &str = "write a list of crate names and path prefixes, like `allow_leaks = [\"bb8\", \"src/metrics.rs\"]`";
    let Value::List(list) = value else {
        return Err(Error::new(value.span(), FIX));
    };
    list.elems
        .iter()
        .map(|element| match element {
            syn::Expr::Lit(syn::ExprLit {
                lit: Lit::Str(rule),
                ..
            }) if !rule.value().trim().is_empty() => Ok(rule.clone()),
            other => Err(Error::new_spanned(other, FIX)),
        })
        .collect()
}

fn parse_resources(value: &Lit) -> Result<Resources> {
    const FIX: &str = "write `resources = \"fail\"`, `\"warn\"` or `\"off\"`";
    let Lit::Str(text) = value else {
        return Err(Error::new(value.span(), FIX));
    };
    match text.value().as_str() {
        "fail" => Ok(Resources::Fail),
        "warn" => Ok(Resources::Warn),
        "off" => Ok(Resources::Off),
        other => Err(Error::new(
            text.span(),
            format!("unknown resources mode `{other}`; {FIX}"),
        )),
    }
}

fn parse_flavor(value: &Lit) -> Result<Flavor> {
    const FIX: &str = "write `flavor = \"current_thread\"`, `\"multi_thread\"` or `\"local\"`";
    let Lit::Str(text) = value else {
        return Err(Error::new(value.span(), FIX));
    };
    match text.value().as_str() {
        "current_thread" => Ok(Flavor::CurrentThread),
        "multi_thread" => Ok(Flavor::MultiThread),
        "local" => Ok(Flavor::Local),
        other => Err(Error::new(
            text.span(),
            format!("unknown flavor `{other}`; {FIX}"),
        )),
    }
}

fn parse_worker_threads(value: &Lit) -> Result<usize> {
    const FIX: &str = "write a whole number of at least 1, like `worker_threads = 2`";
    let Lit::Int(count) = value else {
        return Err(Error::new(value.span(), FIX));
    };
    match count.base10_parse::<usize>() {
        Ok(count) if count >= 1 => Ok(count),
        _ => Err(Error::new(count.span(), FIX)),
    }
}

fn parse_duration(name: &Ident, value: &Lit) -> Result<Duration> {
    let fix = format!(
        "write {}, like `{name} = \"300ms\"`, `\"5s\"` or `\"2m\"`",
        leakcheck_grammar::DURATION_SPELLING
    );
    let Lit::Str(text) = value else {
        return Err(Error::new(value.span(), fix));
    };
    leakcheck_grammar::duration(&text.value()).ok_or_else(|| {
        Error::new(
            text.span(),
            format!("`{}` is not a duration; {fix}", text.value()),
        )
    })
}

/// A fixture argument: `name: &T` or `name: &mut T`.
pub(crate) struct Fixture {
    pub(crate) pattern: Pat,
    pub(crate) ty: Type,
    pub(crate) mutable: bool,
}

/// The test function, checked.
pub(crate) struct TestFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    pub(crate) fixtures: Vec<Fixture>,
    pub(crate) output: ReturnType,
    pub(crate) item: ItemFn,
}

impl TestFn {
    pub(crate) fn from_item(item: ItemFn) -> Result<Self> {
        let mut errors = Errors::default();
        let signature = &item.sig;
        if signature.asyncness.is_none() {
            errors.push(Error::new(
                signature.fn_token.span,
                format!(
                    "the `async` keyword is missing from the function declaration; write `async fn {}`",
                    signature.ident
                ),
            ));
        }
        if !signature.generics.params.is_empty() || signature.generics.where_clause.is_some() {
            errors.push(Error::new_spanned(
                &signature.generics,
                "a leak-checked test cannot be generic; remove the generic parameters and name concrete types",
            ));
        }
        for attr in &item.attrs {
            if is_test_attribute(attr) {
                errors.push(Error::new_spanned(
                    attr,
                    "a second test attribute is supplied; remove it: #[leak_checked_test] already makes this a test",
                ));
            }
        }
        let mut fixtures = Vec::new();
        for (position, argument) in signature.inputs.iter().enumerate() {
            match fixture(argument) {
                Ok(_) if position >= MAX_FIXTURES => errors.push(Error::new_spanned(
                    argument,
                    format!("a leak-checked test takes at most {MAX_FIXTURES} fixtures; group some into one fixture"),
                )),
                Ok(found) => fixtures.push(found),
                Err(error) => errors.push(error),
            }
        }
        let test = TestFn {
            attrs: item.attrs.clone(),
            vis: item.vis.clone(),
            name: signature.ident.clone(),
            fixtures,
            output: signature.output.clone(),
            item,
        };
        errors.finish(test)
    }
}

/// `#[test]`, `#[tokio::test]`, `#[leakcheck::test]`: anything that would make a second test.
fn is_test_attribute(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "test" || segment.ident == "leak_checked_test")
}

fn fixture(argument: &FnArg) -> Result<Fixture> {
    let typed = match argument {
        FnArg::Receiver(receiver) => {
            return Err(Error::new_spanned(
                receiver,
                "a leak-checked test is a free function and cannot take `self`; remove it",
            ));
        }
        FnArg::Typed(typed) => typed,
    };
    let pattern = match &*typed.pat {
        Pat::Ident(binding) if binding.by_ref.is_none() && binding.subpat.is_none() => {
            Pat::Ident(syn::PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: None,
                ident: binding.ident.clone(),
                subpat: None,
            })
        }
        Pat::Wild(wild) => Pat::Wild(wild.clone()),
        other => {
            return Err(Error::new_spanned(
                other,
                "name the fixture with a plain identifier, like `feed: &mut Feed`",
            ));
        }
    };
    let Type::Reference(reference) = &*typed.ty else {
        let fixture_type = &typed.ty;
        let shown = quote::quote!(#fixture_type).to_string();
        return Err(Error::new_spanned(
            &typed.ty,
            format!(
                "fixtures are borrowed from the harness, which tears them down after the test: write `&{shown}` or `&mut {shown}`"
            ),
        ));
    };
    if let Some(lifetime) = &reference.lifetime {
        return Err(Error::new_spanned(
            lifetime,
            format!("remove the lifetime `{lifetime}`: a fixture is borrowed for the whole test"),
        ));
    }
    Ok(Fixture {
        pattern,
        ty: (*reference.elem).clone(),
        mutable: reference.mutability.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_by_the_grammar_the_library_reads_them_by() {
        // The same table runs through the environment's parser in leakcheck's settings.
        for (text, expected) in leakcheck_grammar::DURATION_EXAMPLES {
            let parsed = syn::parse_str::<Options>(&format!("settle = {text:?}"));
            match expected {
                Some(duration) => {
                    let options = parsed.unwrap_or_else(|error| panic!("{text}: {error}"));
                    assert_eq!(options.settle.map(|(settle, _)| settle), Some(*duration));
                }
                None => {
                    let error = parsed
                        .err()
                        .unwrap_or_else(|| panic!("{text} was accepted"));
                    assert!(error.to_string().contains("is not a duration"), "{error}");
                }
            }
        }
    }

    #[test]
    fn runtime_options_conflict_as_the_library_says() {
        // The same table runs through `Check`'s checks in leakcheck's settings.
        for (runtime, conflicts) in leakcheck_grammar::RUNTIME_EXAMPLES {
            let mut attribute = vec![format!("start_paused = {}", runtime.start_paused)];
            if runtime.multi_thread {
                attribute.push("flavor = \"multi_thread\"".to_owned());
            }
            if let Some(count) = runtime.worker_threads {
                attribute.push(format!("worker_threads = {count}"));
            }
            let parsed = syn::parse_str::<Options>(&attribute.join(", "));
            assert_eq!(parsed.is_err(), !conflicts.is_empty(), "{attribute:?}");
        }
    }
}
