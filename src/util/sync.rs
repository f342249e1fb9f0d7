//! Locks that outlive a panic.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, also after a thread panicked while holding it.
///
/// leakcheck never holds one of its locks while user code runs, and none of its critical
/// sections can panic half-way through an update, so a poisoned lock still guards whole data;
/// refusing it would turn one test's panic into every later test's harness failure.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
