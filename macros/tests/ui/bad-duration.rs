#[leakcheck::leak_checked_test(timeout = "5 sec")]
async fn spelled_out() {}

#[leakcheck::leak_checked_test(settle = 250)]
async fn bare_number() {}

fn main() {}
