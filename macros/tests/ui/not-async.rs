#[leakcheck::leak_checked_test]
fn forgot_async() {}

fn main() {}
