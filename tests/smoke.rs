use std::future::pending;
use leakcheck::{Check, Flavor, leak_checked_test};

#[test]
fn smoke() {
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local] {
        let r = Check::new("leak").flavor(flavor).run(|| async { tokio::spawn(pending::<()>()); });
        println!("{r}\n");
        let r = Check::new("panic").flavor(flavor).run(|| async { tokio::spawn(async { panic!("boom") }); tokio::task::yield_now().await; });
        println!("{r}\n");
        let r = Check::new("blocking").flavor(flavor).run(|| async { tokio::task::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_secs(3))); });
        println!("{r}\n");
        let r = Check::new("clean").flavor(flavor).run(|| async { tokio::spawn(async {}).await.unwrap(); });
        println!("{r}\n");
        let t = std::time::Instant::now();
        let r = Check::new("paused").flavor(if flavor == Flavor::MultiThread { Flavor::CurrentThread } else { flavor }).start_paused(true).timeout(std::time::Duration::from_millis(300)).run(|| async { tokio::time::sleep(std::time::Duration::from_secs(3600)).await; pending::<()>().await });
        println!("{r} {:?}\n", t.elapsed());
    }
}

#[leak_checked_test]
async fn via_macro() {
    tokio::spawn(async {}).await.unwrap();
}
