struct Settings;

#[leakcheck::leak_checked_test]
async fn borrows_a_plain_struct(settings: &Settings) {
    let _ = settings;
}

fn main() {}
