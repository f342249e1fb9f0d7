#[leakcheck::leak_checked_test(flavor = "threaded")]
async fn unknown_flavor() {}

fn main() {}
