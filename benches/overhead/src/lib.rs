//! The suites compared by `scripts/bench-overhead.sh`: 200 small async tests, each spawning
//! four tasks and awaiting them, stamped out under a test attribute of the caller's choice.

/// The body every test of a suite runs.
pub async fn spawn_four_and_await() {
    let tasks: Vec<_> = (0..4u32)
        .map(|index| {
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                index
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.expect("a benchmark task completes");
    }
    assert_eq!(sum, 6);
}

/// Ten tests under the attribute `$attribute`.
#[macro_export]
macro_rules! ten_tests {
    ($attribute:meta) => {
        #[$attribute]
        async fn t0() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t1() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t2() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t3() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t4() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t5() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t6() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t7() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t8() {
            $crate::spawn_four_and_await().await
        }
        #[$attribute]
        async fn t9() {
            $crate::spawn_four_and_await().await
        }
    };
}

/// Two hundred tests under the attribute `$attribute`, in modules of ten.
#[macro_export]
macro_rules! two_hundred_tests {
    ($attribute:meta) => {
        $crate::two_hundred_tests!(@modules $attribute;
            m00 m01 m02 m03 m04 m05 m06 m07 m08 m09 m10 m11 m12 m13 m14 m15 m16 m17 m18 m19);
    };
    (@modules $attribute:meta; $($module:ident)*) => {
        $(mod $module {
            $crate::ten_tests!($attribute);
        })*
    };
}
