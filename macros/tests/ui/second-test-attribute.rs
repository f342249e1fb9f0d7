#[leakcheck::leak_checked_test]
#[tokio::test]
async fn tested_twice() {}

fn main() {}
