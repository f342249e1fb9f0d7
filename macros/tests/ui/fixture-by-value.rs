use leakcheck::{AsyncFixture, BoxError};

struct Feed;

impl AsyncFixture for Feed {
    async fn setup() -> Result<Self, BoxError> {
        Ok(Feed)
    }
    async fn teardown(self) -> Result<(), BoxError> {
        Ok(())
    }
}

#[leakcheck::leak_checked_test]
async fn owns_its_fixture(feed: Feed) {
    let _ = feed;
}

fn main() {}
