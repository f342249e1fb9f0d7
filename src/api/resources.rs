//! [`keep_resources`]: what a process-wide pool keeps on purpose.

use std::future::Future;

use crate::observe::resources;

/// Declares that what `acquire` opens and keeps is kept on purpose for the whole process: a
/// server from a process-wide pool, a client in a `static`. Gives what `acquire` returns.
///
/// The resource check then counts none of it as left behind, in this test or any later one
/// of the process. Where nothing is checked (a parallel run, another platform), it only calls
/// `acquire`.
///
/// # Examples
///
/// ```
/// # struct Pool; impl Pool { fn take() -> std::net::TcpListener { std::net::TcpListener::bind("127.0.0.1:0").unwrap() } }
/// // A pool that hands out servers and keeps each one for the next test.
/// let server = leakcheck::keep_resources(Pool::take);
/// # drop(server);
/// ```
pub fn keep_resources<T>(acquire: impl FnOnce() -> T) -> T {
    let before = resources::holdings();
    let acquired = acquire();
    resources::keep_new(before.as_ref());
    acquired
}

/// [`keep_resources`] for an async acquisition, such as `wiremock::MockServer::start()`.
///
/// What anything else in the process opens while `acquire` runs is kept too: await it before
/// starting other work.
///
/// # Examples
///
/// ```
/// # async fn start_pooled_server() {}
/// # async fn test() {
/// let server = leakcheck::keep_resources_async(start_pooled_server()).await;
/// # }
/// ```
pub async fn keep_resources_async<F: Future>(acquire: F) -> F::Output {
    let before = resources::holdings();
    let acquired = acquire.await;
    resources::keep_new(before.as_ref());
    acquired
}
