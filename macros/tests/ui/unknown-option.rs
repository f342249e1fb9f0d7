#[leakcheck::leak_checked_test(flavour = "multi_thread")]
async fn misspelled() {}

fn main() {}
