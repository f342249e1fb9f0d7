struct Suite;

impl Suite {
    #[leakcheck::leak_checked_test]
    async fn method(&self) {}
}

fn main() {}
