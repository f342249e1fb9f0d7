//! Leaks a test may keep: `allow_leaks` rules for tasks of dependencies it cannot stop and
//! for resources.

use crate::findings::resources::{LeftResource, ResourceRule};
use crate::findings::tasks::LeakedTask;
use crate::util::{packages, sites};

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
    /// A socket, file, child process or thread the test may leave behind: `thread:tailer`.
    Resource(String, ResourceRule),
}

impl AllowRule {
    /// `thread:`, `socket:`, `file:`, `child:` or `descriptor:` starts a resource rule; a path
    /// has a `/` or a file extension; anything else names a crate.
    pub(crate) fn parse(text: &str) -> Self {
        let text = text.trim();
        if let Some(rule) = ResourceRule::parse(text) {
            AllowRule::Resource(text.to_owned(), rule)
        } else if text.contains('/') || text.contains('.') {
            AllowRule::Path(text.to_owned())
        } else {
            AllowRule::Crate(text.replace('_', "-"))
        }
    }

    pub(crate) fn text(&self) -> &str {
        match self {
            AllowRule::Crate(name) | AllowRule::Path(name) | AllowRule::Resource(name, _) => name,
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
        let bb8 = AllowRule::parse("bb8");
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
            AllowRule::parse("src/metrics.rs"),
            AllowRule::Path("src/metrics.rs".into())
        );
        assert_eq!(
            AllowRule::parse("tests/support/"),
            AllowRule::Path("tests/support/".into())
        );
        assert_eq!(
            AllowRule::parse(" tokio_postgres "),
            AllowRule::Crate("tokio-postgres".into())
        );
    }
}
