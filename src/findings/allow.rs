//! Leaks a test may keep: `allow_leaks` rules for tasks of dependencies it cannot stop and
//! for resources.

use crate::findings::resources::{LeftResource, ResourceKind, ResourceRule};
use crate::findings::tasks::LeakedTask;
use crate::util::{packages, sites};

/// What one `allow_leaks` rule let go in a run, so that a rule's effect can be seen and
/// reviewed: in the report, its JSON line and the suite's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowedByRule {
    /// The rule as written.
    pub(crate) rule: String,
    /// Tasks still alive at the end that it let go.
    pub(crate) tasks: usize,
    /// Sockets, files, child processes and threads it let go.
    pub(crate) resources: usize,
}

/// Adds `tasks` and `resources` let go by `rule` to `allowed`.
pub(crate) fn count_allowed(
    allowed: &mut Vec<AllowedByRule>,
    rule: &AllowRule,
    tasks: usize,
    resources: usize,
) {
    match allowed.iter_mut().find(|entry| entry.rule == rule.text()) {
        Some(entry) => {
            entry.tasks += tasks;
            entry.resources += resources;
        }
        None => allowed.push(AllowedByRule {
            rule: rule.text().to_owned(),
            tasks,
            resources,
        }),
    }
}

/// An entry of `allow_leaks`: a dependency crate, or a source path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AllowRule {
    /// Tasks spawned from the sources of this crate wherever they live: a registry release
    /// (`.../bb8-0.9.0/src/inner.rs`), a git checkout, a member of the workspace under test
    /// (`pool/src/inner.rs`) or a path dependency. The nearest `Cargo.toml` above the spawn
    /// site names the crate; where the sources are not on this machine, the directory name
    /// does (`bb8-0.9.0`, `bb8-1a2b3c4d`).
    Crate(String),
    /// Tasks spawned from files whose path, as the compiler recorded it or as the report
    /// prints it, starts with this: `src/metrics.rs`, `tests/support/`, `bb8-0.9.0/src/`.
    Path(String),
    /// Tasks spawned at one spawn site, as the report prints it: `src/lib.rs:15:9` (or
    /// `src/lib.rs:15`, any column of the line).
    Site {
        text: String,
        file: String,
        line: u32,
        column: Option<u32>,
    },
    /// A socket, file, child process or thread the test may leave behind: `thread:tailer`.
    Resource(String, ResourceRule),
}

impl AllowRule {
    /// `thread:`, `socket:`, `file:`, `child:` or `descriptor:` starts a resource rule; a
    /// path with `:line` or `:line:column` after it is a spawn site; a path has a `/` or a file
    /// extension; a name of letters, digits, `-` and `_` names a crate. Anything else cannot
    /// match, and the error says what can.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(rule) = ResourceRule::parse(text) {
            if rule.text.is_empty() {
                let prefix = rule.kind.rule_prefix();
                return Err(format!(
                    "`{text}` names no {}: write `{prefix}` and what to let go, like `{prefix}{}`",
                    prefix.trim_end_matches(':'),
                    rule.kind.rule_example()
                ));
            }
            return Ok(AllowRule::Resource(text.to_owned(), rule));
        }
        if let Some(site) = site(text) {
            return Ok(site);
        }
        let is_crate_name = !text.is_empty()
            && text
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "-_".contains(character));
        if text.contains(':') || !(is_crate_name || text.contains('/') || text.contains('.')) {
            let resources: Vec<String> = ResourceKind::ALL
                .into_iter()
                .map(|kind| format!("`{}{}`", kind.rule_prefix(), kind.rule_example()))
                .collect();
            return Err(format!(
                "`{text}` is not a rule that can match: write a crate (`bb8`), a source path (`src/metrics.rs`), a spawn site as the report prints it (`src/lib.rs:15:9`) or a resource ({})",
                resources.join(", ")
            ));
        }
        if is_crate_name {
            Ok(AllowRule::Crate(text.replace('_', "-")))
        } else {
            Ok(AllowRule::Path(text.to_owned()))
        }
    }

    pub(crate) fn text(&self) -> &str {
        match self {
            AllowRule::Crate(name)
            | AllowRule::Path(name)
            | AllowRule::Site { text: name, .. }
            | AllowRule::Resource(name, _) => name,
        }
    }

    pub(crate) fn matches(&self, task: &LeakedTask) -> bool {
        let file = task.spawned_at.file();
        match self {
            AllowRule::Path(prefix) => {
                file.starts_with(prefix.as_str()) || sites::short(file).starts_with(prefix.as_str())
            }
            AllowRule::Crate(name) => match packages::owning(file) {
                Some(package) => package.name == *name,
                None => file
                    .split(['/', '\\'])
                    .any(|directory| is_source_directory_of(directory, name)),
            },
            AllowRule::Site {
                file: site_file,
                line,
                column,
                ..
            } => {
                task.spawned_at.line() == *line
                    && column.is_none_or(|column| column == task.spawned_at.column())
                    && (file == site_file
                        || sites::short(file) == site_file
                        || file.ends_with(&format!("/{site_file}")))
            }
            AllowRule::Resource(..) => false,
        }
    }

    /// Whether the rule is about tasks, not resources.
    pub(crate) fn is_for_tasks(&self) -> bool {
        !matches!(self, AllowRule::Resource(..))
    }

    pub(crate) fn matches_resource(&self, resource: &LeftResource) -> bool {
        match self {
            AllowRule::Resource(_, rule) => rule.matches(resource),
            _ => false,
        }
    }
}

/// `src/lib.rs:15:9` or `src/lib.rs:15` as a site rule: a Rust file, a line, a column.
fn site(text: &str) -> Option<AllowRule> {
    let number = |part: &str| part.parse::<u32>().ok();
    let (rest, last) = text.rsplit_once(':')?;
    let last = number(last)?;
    let (file, line, column) = match rest.rsplit_once(':') {
        Some((file, line)) if number(line).is_some() => (file, number(line)?, Some(last)),
        _ => (rest, last, None),
    };
    file.ends_with(".rs").then(|| AllowRule::Site {
        text: text.to_owned(),
        file: file.to_owned(),
        line,
        column,
    })
}

/// `bb8-0.9.0` (a registry release) or `bb8-1a2b3c4d` (a git checkout) for crate `bb8`.
fn is_source_directory_of(directory: &str, crate_name: &str) -> bool {
    let directory = directory.replace('_', "-");
    let Some(suffix) = directory
        .strip_prefix(crate_name)
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return false;
    };
    // A version or a commit hash follows the name, never more words of a longer name:
    // `bb8-postgres-0.9.0` is not the source of `bb8`.
    let is_version = suffix.starts_with(|first: char| first.is_ascii_digit());
    let is_commit = suffix.len() >= 7 && suffix.chars().all(|digit| digit.is_ascii_hexdigit());
    is_version || is_commit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_rule_matches_its_sources_whatever_the_version_or_checkout() {
        let bb8 = AllowRule::parse("bb8").expect("a rule");
        assert_eq!(bb8, AllowRule::Crate("bb8".into()));
        for directory in ["bb8-0.9.0", "bb8-1.0.0-beta.1", "bb8-1a2b3c4d5e6f7a8b"] {
            assert!(is_source_directory_of(directory, "bb8"), "{directory}");
        }
        for directory in ["bb8-postgres-0.9.0", "bb8", "bb9-0.9.0", "xbb8-0.9.0"] {
            assert!(!is_source_directory_of(directory, "bb8"), "{directory}");
        }
        assert!(is_source_directory_of(
            "tokio_postgres-0.7.0",
            "tokio-postgres"
        ));
    }

    #[test]
    fn a_path_rule_is_anything_with_a_slash_or_an_extension() {
        assert_eq!(
            AllowRule::parse("src/metrics.rs").expect("a rule"),
            AllowRule::Path("src/metrics.rs".into())
        );
        assert_eq!(
            AllowRule::parse("tests/support/").expect("a rule"),
            AllowRule::Path("tests/support/".into())
        );
        assert_eq!(
            AllowRule::parse(" tokio_postgres ").expect("a rule"),
            AllowRule::Crate("tokio-postgres".into())
        );
    }

    #[test]
    fn a_spawn_site_as_the_report_prints_it_is_a_rule_for_that_site() {
        assert_eq!(
            AllowRule::parse("src/lib.rs:15:9"),
            Ok(AllowRule::Site {
                text: "src/lib.rs:15:9".into(),
                file: "src/lib.rs".into(),
                line: 15,
                column: Some(9),
            })
        );
        assert_eq!(
            AllowRule::parse("tests/feed.rs:7"),
            Ok(AllowRule::Site {
                text: "tests/feed.rs:7".into(),
                file: "tests/feed.rs".into(),
                line: 7,
                column: None,
            })
        );
        let here = std::panic::Location::caller();
        let id = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(async { tokio::spawn(async { tokio::task::id() }).await })
            .expect("the task ran");
        let task = LeakedTask {
            id,
            spawned_at: here,
            name: None,
            spawned_by: None,
            spawned_by_at: None,
            waiting_on: None,
        };
        let printed = format!("{}:{}:{}", here.file(), here.line(), here.column());
        assert!(AllowRule::parse(&printed).expect("a rule").matches(&task));
        let other_line = format!("{}:{}:{}", here.file(), here.line() + 1, here.column());
        assert!(
            !AllowRule::parse(&other_line)
                .expect("a rule")
                .matches(&task)
        );
    }

    #[test]
    fn a_rule_that_cannot_match_is_refused_with_what_to_write() {
        let empty = AllowRule::parse("thread:").expect_err("names no thread");
        assert_eq!(
            empty,
            "`thread:` names no thread: write `thread:` and what to let go, like `thread:tailer`"
        );
        let bogus = AllowRule::parse("bogus:thing").expect_err("no such kind");
        assert!(
            bogus.starts_with("`bogus:thing` is not a rule that can match: write a crate (`bb8`), a source path (`src/metrics.rs`), a spawn site as the report prints it (`src/lib.rs:15:9`) or a resource (`socket:127.0.0.1:8080`, "),
            "{bogus}"
        );
        assert!(AllowRule::parse("two words").is_err());
        assert!(AllowRule::parse("socket:127.0.0.1:8080").is_ok());
    }
}
