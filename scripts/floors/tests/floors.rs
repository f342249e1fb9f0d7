//! Built against the lowest version of every dependency leakcheck declares: a clean test
//! passes, a leaky one is reported, and the provided fixtures work.

use std::future::pending;

use leakcheck::fixtures::{Loopback, TaskScope};
use leakcheck::{Check, Flavor};

#[leakcheck::test]
async fn a_clean_test_passes(scope: &TaskScope, server: &mut Loopback) {
    scope.spawn(async {});
    server.client.writable().await.expect("connected");
}

#[leakcheck::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_multi_thread_test_passes() {
    tokio::spawn(async {}).await.expect("joined");
}

#[test]
fn a_leaky_test_is_reported() {
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local] {
        let report = Check::new("leaky")
            .flavor(flavor)
            .settle(std::time::Duration::from_millis(50))
            .run(|| async {
                tokio::spawn(pending::<()>());
            });
        assert!(!report.passed(), "{report}");
        assert!(report.to_string().contains("1 task leaked"), "{report}");
    }
}
