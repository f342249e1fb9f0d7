//! What a panic carries, and its text.

use std::any::Any;

/// What a panic carries: usually a `&str` or a `String`.
pub(crate) type PanicPayload = Box<dyn Any + Send>;

/// The text of a panic, as `panic!` formatted it.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<a panic payload that is not a string>".to_owned()
    }
}
