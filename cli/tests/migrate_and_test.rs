//! A `#[tokio::test]` suite taken through `cargo leakcheck migrate`, then run with
//! `cargo leakcheck test` in a default build: the leaky test's spawn line must be printed.
//! Then `cargo leakcheck report` summarises the run's report file.

mod common;

use std::path::{Path, PathBuf};

use common::{leakcheck, repository, scratch_copy};

const ORIGINAL: &str = include_str!("fixtures/tokio-suite/tests/feed.rs");

/// The migrated suite, built in a target directory kept between runs of this test.
fn suite(tag: &str) -> (PathBuf, PathBuf) {
    let root = scratch_copy("tokio-suite", tag);
    // The versions leakcheck's own tests use: no registry lookups, and the same builds.
    std::fs::copy(repository().join("Cargo.lock"), root.join("Cargo.lock")).expect("a lock file");
    // One directory for every target directory this test is built in: the suite gets none of
    // the parent build's settings (see `leakcheck`), so the default and the tokio_unstable
    // tiers build it the same, and the second reuses the first's build of tokio and
    // leakcheck, twice over (the tool's own tokio_unstable re-run), instead of repeating it.
    let target = repository().join("target/fixture-suites/tokio-suite-target");
    (root, target)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("a file of the suite")
}

#[test]
fn migrate_converts_in_place_and_then_test_prints_the_spawn_line() {
    let (root, target) = suite("tokio-suite-migrated");
    let tests = root.join("tests/feed.rs");
    let manifest_before = read(&root.join("Cargo.toml"));
    let repository = repository();
    let checkout = repository.to_str().expect("a UTF-8 path");

    let dry = leakcheck(&["migrate", "--dry-run", "--path", checkout])
        .current_dir(&root)
        .run();
    dry.assert_exit(0);
    assert!(
        dry.stdout
            .contains("--- a/tests/feed.rs\n+++ b/tests/feed.rs\n"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("-#[tokio::test]\n+#[leakcheck::test]\n"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("+leakcheck = { path = \""),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("feed: would convert 3 #[tokio::test]s to #[leakcheck::test] in 2 files"),
        "{}",
        dry.stdout
    );
    assert_eq!(read(&tests), ORIGINAL, "--dry-run changes nothing");
    assert_eq!(read(&root.join("Cargo.toml")), manifest_before);

    let migrated = leakcheck(&["migrate", "--path", checkout])
        .current_dir(&root)
        .run();
    migrated.assert_exit(0);
    for expected in [
        "feed: converted 3 #[tokio::test]s to #[leakcheck::test] in 2 files\n",
        "feed: added leakcheck to [dev-dependencies] of Cargo.toml\n",
        "left as they are:\n  tests/feed.rs:14: `crate = ..` (column 15) names tokio's path",
        "Next: `LEAKCHECK=warn cargo test`",
    ] {
        assert!(
            migrated.stdout.contains(expected),
            "{expected:?} in\n{}",
            migrated.stdout
        );
    }
    let after = read(&tests);
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines.len(), ORIGINAL.lines().count(), "no line moved");
    assert_eq!(lines[0], "#[leakcheck::test]");
    assert_eq!(
        lines[5],
        "#[leakcheck::test(flavor = \"multi_thread\", worker_threads = 2)]"
    );
    assert_eq!(
        lines[13], "#[tokio::test(crate = \"tokio\")]",
        "left as it was"
    );
    let manifest = read(&root.join("Cargo.toml"));
    let added: Vec<&str> = manifest
        .lines()
        .filter(|line| line.starts_with("leakcheck = { path = "))
        .collect();
    assert_eq!(added.len(), 1, "{manifest}");
    assert_eq!(
        manifest.replace(&format!("{}\n", added[0]), ""),
        manifest_before,
        "the rest of the manifest, comments too, as it was"
    );

    let again = leakcheck(&["migrate", "--path", checkout])
        .current_dir(&root)
        .run();
    again.assert_exit(0);
    assert!(
        again
            .stdout
            .contains("feed: no #[tokio::test] left to convert"),
        "{}",
        again.stdout
    );
    assert_eq!(read(&tests), after, "a second run changes nothing");
    assert_eq!(read(&root.join("Cargo.toml")), manifest);

    let run = leakcheck(&["test"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .run();
    run.assert_exit(101);
    assert!(
        run.stdout.contains("1 task leaked"),
        "the default build's report\n{}",
        run.stdout
    );
    // The unit tests' binary fails first; the integration tests' binary runs all the same,
    // and only the two targets holding leaky tests are built again.
    assert!(
        run.stderr
            .contains("building --lib --test feed with --cfg tokio_unstable in"),
        "{}",
        run.stderr
    );
    for expected in [
        "Where the leaked tasks were spawned (tokio_unstable build):\n",
        "\nfeed::tests::forgets_its_ticker:\n  task leaked, spawned at src/lib.rs:17:5\n",
        "\nfeed::forgets_its_pump:\n  task leaked, spawned at src/lib.rs:7:5\n",
        "cargo leakcheck: 4 tests ran in 3 binaries, 3 of them leak-checked\n",
        "leakcheck report: 3 tests from 1 file: 1 passed, 0 passed with leaks reported, 2 failed; 2 tasks leaked, 0 detached panics\n",
        "Leaks by spawn site\n  tasks  tests  site\n      1      1  src/lib.rs:17:5\n      1      1  src/lib.rs:7:5\n",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} in\n{}",
            run.stdout
        );
    }

    // Both runs' reports, as a user would pass them: the re-run refines the first run's lines
    // for its tests, it does not add to them.
    let report = target.join("leakcheck/report.jsonl");
    let rerun = target.join("leakcheck/unstable.jsonl");
    let html = target.join("leakcheck/summary.html");
    let summary = leakcheck(&[
        "report",
        report.to_str().expect("a UTF-8 path"),
        rerun.to_str().expect("a UTF-8 path"),
        "--html",
        html.to_str().expect("a UTF-8 path"),
    ])
    .run();
    summary.assert_exit(0);
    assert!(summary.stdout.contains("leakcheck report: 3 tests from 2 files: 1 passed, 0 passed with leaks reported, 2 failed; 2 tasks leaked, 0 detached panics\n"), "{}", summary.stdout);
    assert!(
        summary.stdout.contains("      1      1  src/lib.rs:17:5\n"),
        "{}",
        summary.stdout
    );
    assert!(read(&html).contains("<html"), "an HTML page");

    if Command::new("cargo-nextest")
        .arg("--version")
        .output()
        .is_ok()
    {
        let nextest = leakcheck(&["test", "--nextest"])
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target)
            .run();
        nextest.assert_exit(100);
        for expected in [
            "feed::forgets_its_pump:\n  task leaked, spawned at src/lib.rs:7:5\n",
            "feed::tests::forgets_its_ticker:\n  task leaked, spawned at src/lib.rs:17:5\n",
            "cargo leakcheck: 4 tests ran in 2 binaries, 3 of them leak-checked\n",
        ] {
            assert!(
                nextest.stdout.contains(expected),
                "{expected:?} in\n{}",
                nextest.stdout
            );
        }
    }
}

use std::process::Command;

/// Makes `path` unwritable for this process: read-only, and for root, which writes read-only
/// files, immutable (`chattr +i`). Undone on drop, so the scratch copy can be removed.
struct Unwritable<'a>(&'a Path);

impl<'a> Unwritable<'a> {
    fn make(path: &'a Path) -> Self {
        let mut permissions = std::fs::metadata(path).expect("a file").permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(path, permissions).expect("made read-only");
        let writable = || std::fs::OpenOptions::new().write(true).open(path).is_ok();
        if writable() {
            let _ = Command::new("chattr").arg("+i").arg(path).status();
        }
        assert!(
            !writable(),
            "cannot make {} unwritable here: neither read-only permissions nor chattr +i hold",
            path.display()
        );
        Unwritable(path)
    }
}

impl Drop for Unwritable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).status();
        if let Ok(metadata) = std::fs::metadata(self.0) {
            let mut permissions = metadata.permissions();
            #[allow(
                clippy::permissions_set_readonly_false,
                reason = "a scratch file, put back"
            )]
            permissions.set_readonly(false);
            let _ = std::fs::set_permissions(self.0, permissions);
        }
    }
}

#[test]
fn a_file_that_cannot_be_written_makes_migrate_change_nothing() {
    let (root, _) = suite("tokio-suite-unwritable");
    let checkout = repository();
    let tests = root.join("tests/feed.rs");
    let before: Vec<(PathBuf, String)> = ["src/lib.rs", "tests/feed.rs", "Cargo.toml"]
        .iter()
        .map(|file| (root.join(file), read(&root.join(file))))
        .collect();
    let migrated = {
        let _unwritable = Unwritable::make(&tests);
        leakcheck(&[
            "migrate",
            "--path",
            checkout.to_str().expect("a UTF-8 path"),
        ])
        .current_dir(&root)
        .run()
    };
    assert_ne!(migrated.code, Some(0), "{}", migrated.stderr);
    assert!(
        migrated
            .stderr
            .contains(&format!("cannot write {}: ", tests.display()))
            && migrated.stderr.contains("; nothing was changed"),
        "{}",
        migrated.stderr
    );
    assert!(
        !migrated.stdout.contains("converted"),
        "{}",
        migrated.stdout
    );
    for (path, text) in before {
        assert_eq!(read(&path), text, "{} changed", path.display());
    }
}
