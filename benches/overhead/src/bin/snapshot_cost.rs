//! What one look at `/proc/self` costs (`leakcheck::keep_resources` around nothing takes
//! two): warm, in a process that has looked many times, and as the first look of a fresh
//! process after a runtime was built, as under nextest, where every test is the first.

use std::process::Command;
use std::time::Instant;

const FIRST_LOOK: &str = "first-look";

fn main() {
    if std::env::args().nth(1).as_deref() == Some(FIRST_LOOK) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        drop(runtime);
        let started = Instant::now();
        leakcheck::keep_resources(|| ());
        println!("{}", started.elapsed().as_nanos() / 2);
        return;
    }
    const LOOKS: u32 = 2000;
    let started = Instant::now();
    for _ in 0..LOOKS / 2 {
        leakcheck::keep_resources(|| ());
    }
    println!(
        "one look at /proc/self, warm: {:.1} us",
        started.elapsed().as_secs_f64() * 1e6 / f64::from(LOOKS)
    );
    let own = std::env::current_exe().expect("the path of this program");
    let mut first: Vec<u64> = (0..21)
        .map(|_| {
            let output = Command::new(&own)
                .arg(FIRST_LOOK)
                .output()
                .expect("this program runs again");
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .expect("a count of nanoseconds")
        })
        .collect();
    first.sort_unstable();
    println!(
        "one look at /proc/self, the first of a fresh process (median of {}): {:.1} us",
        first.len(),
        first[first.len() / 2] as f64 / 1e3
    );
}
