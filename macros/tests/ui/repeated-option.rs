#[leakcheck::leak_checked_test(timeout = "5s", timeout = "10s")]
async fn twice() {}

fn main() {}
