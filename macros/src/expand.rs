//! Renders the checked test as a plain `#[test] fn` that calls `leakcheck::Check`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Error, ItemFn, Path, ReturnType};

use crate::parse::{Errors, Flavor, Options, Resources, TestFn};

pub(crate) fn leak_checked_test(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = Error::new(
                error.span(),
                "#[leak_checked_test] goes on an `async fn` test",
            );
            return with_error(item, error);
        }
    };
    let mut errors = Errors::default();
    let options = syn::parse2::<Options>(args)
        .map_err(|error| errors.push(error))
        .ok();
    let test = TestFn::from_item(item.clone())
        .map_err(|error| errors.push(error))
        .ok();
    match (options, test) {
        (Some(options), Some(test)) => render(&options, &test),
        _ => {
            let error = errors.finish(()).err();
            let errors = error.map(|error| error.to_compile_error());
            // Keep the function, so the IDE still knows it and no second error piles on.
            quote! {
                #errors
                #[allow(dead_code)]
                #item
            }
        }
    }
}

fn with_error(item: TokenStream, error: Error) -> TokenStream {
    let error = error.to_compile_error();
    quote! { #error #item }
}

fn render(options: &Options, test: &TestFn) -> TokenStream {
    let krate = options
        .krate
        .as_ref()
        .map(|(path, _)| path.clone())
        .unwrap_or_else(|| syn::parse_quote!(::leakcheck));
    let TestFn {
        attrs,
        vis,
        name,
        fixtures,
        output,
        item,
    } = test;
    let body_fn = format_ident!("__leakcheck_body_{}", name);
    let (lint_attrs, test_attrs): (Vec<_>, Vec<_>) =
        attrs.iter().partition(|attr| is_lint_attribute(attr));
    let cfg_attrs: Vec<_> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect();

    let parameters = fixtures.iter().map(|fixture| {
        let (pattern, ty) = (&fixture.pattern, &fixture.ty);
        let mutability = fixture.mutable.then(|| quote!(mut));
        quote!(#pattern: &#mutability #ty)
    });
    let fixture_checks = fixtures.iter().map(|fixture| {
        let ty = &fixture.ty;
        quote_spanned!(ty.span()=> #krate::__private::assert_fixture::<#ty>();)
    });
    let outcome_check = match output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => {
            Some(quote_spanned!(ty.span()=> #krate::__private::assert_outcome::<#ty>();))
        }
    };
    let fixture_types = fixtures.iter().map(|fixture| &fixture.ty);
    let bindings: Vec<_> = (0..fixtures.len())
        .map(|index| format_ident!("__leakcheck_fixture_{}", index, span = Span::mixed_site()))
        .collect();
    let arguments = fixtures.iter().zip(&bindings).map(|(fixture, binding)| {
        if fixture.mutable {
            quote!(#binding)
        } else {
            quote!(&*#binding)
        }
    });
    let mut configuration = builder_calls(options, &krate);
    if let Some(expected) = attrs.iter().find_map(should_panic_expects) {
        quote!(.should_panic(#expected)).to_tokens(&mut configuration);
    }
    let block = &item.block;
    let body_span = block.span();
    let check = quote_spanned! {body_span=>
        #krate::__private::check_named(::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)))
            #configuration
            .run_repeatable_with(async |__leakcheck_fixtures: &mut (#(#fixture_types,)*)| {
                let (#(#bindings,)*) = __leakcheck_fixtures;
                #body_fn(#(#arguments),*).await
            })
            .assert_passed()
    };
    // The body lives beside the test rather than inside it, so it is type-checked in every
    // build: `#[test]` items vanish outside `cargo test`, and with them any compile error in
    // a doctest or a trybuild case.
    quote! {
        #(#cfg_attrs)*
        #(#lint_attrs)*
        #[doc(hidden)]
        #[allow(dead_code)]
        // A future created and dropped without `.await` never runs; in a test that is a bug.
        #[deny(unused_must_use)]
        async fn #body_fn(#(#parameters),*) #output #block

        #(#cfg_attrs)*
        const _: () = {
            #[allow(dead_code)]
            fn signature_is_a_leak_checked_test() {
                #(#fixture_checks)*
                #outcome_check
            }
        };

        #(#test_attrs)*
        #[::core::prelude::v1::test]
        #vis fn #name() {
            #check
        }
    }
}

/// What a `#[should_panic]` attribute expects of the panic message: `""` for any panic.
/// Whatever it holds, the compiler checks the attribute itself.
fn should_panic_expects(attr: &Attribute) -> Option<syn::LitStr> {
    if !attr.path().is_ident("should_panic") {
        return None;
    }
    let any = || syn::LitStr::new("", attr.path().span());
    Some(match &attr.meta {
        syn::Meta::Path(_) => any(),
        syn::Meta::NameValue(pair) => match &pair.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(expected),
                ..
            }) => expected.clone(),
            _ => any(),
        },
        syn::Meta::List(list) => list
            .parse_args::<syn::MetaNameValue>()
            .ok()
            .and_then(|pair| match pair.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(expected),
                    ..
                }) if pair.path.is_ident("expected") => Some(expected),
                _ => None,
            })
            .unwrap_or_else(any),
    })
}

/// Lint levels belong to the body, where the user's code is; the test function around it
/// is generated and would leave an `#[expect]` unfulfilled.
fn is_lint_attribute(attr: &Attribute) -> bool {
    ["allow", "warn", "deny", "forbid", "expect"]
        .iter()
        .any(|level| attr.path().is_ident(level))
        || attr
            .path()
            .segments
            .first()
            .is_some_and(|segment| segment.ident == "clippy")
}

fn builder_calls(options: &Options, krate: &Path) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some((flavor, _)) = options.flavor {
        let variant = match flavor {
            Flavor::CurrentThread => quote!(CurrentThread),
            Flavor::MultiThread => quote!(MultiThread),
            Flavor::Local => quote!(Local),
        };
        quote!(.flavor(#krate::Flavor::#variant)).to_tokens(&mut calls);
    }
    if let Some((mode, _)) = options.resources {
        let variant = match mode {
            Resources::Fail => quote!(Fail),
            Resources::Warn => quote!(Warn),
            Resources::Off => quote!(Off),
        };
        quote!(.resources(#krate::ResourceMode::#variant)).to_tokens(&mut calls);
    }
    if let Some((count, _)) = options.repeat {
        quote!(.repeat(#count)).to_tokens(&mut calls);
    }
    if let Some((count, _)) = options.worker_threads {
        quote!(.worker_threads(#count)).to_tokens(&mut calls);
    }
    if let Some((paused, _)) = options.start_paused {
        quote!(.start_paused(#paused)).to_tokens(&mut calls);
    }
    if let Some((rules, _)) = &options.allow_leaks {
        let count = rules.len();
        quote!(.allow_leaks::<[&'static str; #count]>([#(#rules),*])).to_tokens(&mut calls);
    }
    let durations = [
        (quote!(timeout), options.timeout),
        (quote!(teardown_timeout), options.teardown_timeout),
        (quote!(settle), options.settle),
        (quote!(max_poll), options.max_poll),
    ];
    for (method, value) in durations {
        if let Some((duration, _)) = value {
            let nanos = duration.as_nanos() as u64;
            quote!(.#method(::core::time::Duration::from_nanos(#nanos))).to_tokens(&mut calls);
        }
    }
    calls
}
