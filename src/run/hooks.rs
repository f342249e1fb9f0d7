//! Cleanup registered with [`crate::on_teardown`], run first in teardown, last registered
//! first.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::util::sync::lock;

/// A cleanup future registered with [`crate::on_teardown`], and where it was registered.
pub(crate) struct Hook {
    pub(crate) location: String,
    pub(crate) cleanup: Pin<Box<dyn Future<Output = Option<String>> + Send>>,
}

/// A run's hooks: `None` once teardown has finished and no hook can run any more.
pub(crate) struct Hooks(Mutex<Option<Vec<Hook>>>);

impl Default for Hooks {
    fn default() -> Self {
        Hooks(Mutex::new(Some(Vec::new())))
    }
}

impl Hooks {
    /// Keeps `hook` to run in teardown; gives it back when teardown has finished.
    pub(crate) fn add(&self, hook: Hook) -> Result<(), Hook> {
        match lock(&self.0).as_mut() {
            Some(hooks) => {
                hooks.push(hook);
                Ok(())
            }
            None => Err(hook),
        }
    }

    /// The hook registered last, if any is left.
    pub(crate) fn pop(&self) -> Option<Hook> {
        lock(&self.0).as_mut().and_then(Vec::pop)
    }

    /// The hook registered last, if any is left; when none is, from now on a registered
    /// hook can no longer run, and registering one is reported instead.
    pub(crate) fn pop_or_close(&self) -> Option<Hook> {
        let mut hooks = lock(&self.0);
        let hook = hooks.as_mut().and_then(Vec::pop);
        if hook.is_none() {
            *hooks = None;
        }
        hook
    }
}
