//! [`SharedStr`]: a string handed around without copying.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A string shared without copying: a literal as it is, anything else behind one `Arc`.
///
/// A test's name is a literal for every `#[leak_checked_test]`, and is shared by the run, the
/// watchdog and the report: a literal needs no allocation at all, which on a test's fresh
/// thread is the dearest thing a run does.
#[derive(Clone)]
pub(crate) enum SharedStr {
    Literal(&'static str),
    Shared(Arc<str>),
}

impl SharedStr {
    pub(crate) fn copied(text: &str) -> Self {
        SharedStr::Shared(Arc::from(text))
    }
}

impl From<&'static str> for SharedStr {
    fn from(text: &'static str) -> Self {
        SharedStr::Literal(text)
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            SharedStr::Literal(text) => text,
            SharedStr::Shared(text) => text,
        }
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
