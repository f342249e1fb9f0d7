use std::time::Duration;

#[leakcheck::leak_checked_test]
async fn forgets_to_await() {
    tokio::time::sleep(Duration::from_millis(10));
}

fn main() {}
