//! Counts in words, one way for every command: `1 file`, `2 files`.

use std::fmt::Display;

/// `count` with `one` or `many` after it: `counted(1, "task", "tasks")` is `1 task`.
pub(crate) fn counted(count: impl Display, one: &str, many: &str) -> String {
    let count = count.to_string();
    let thing = if count == "1" { one } else { many };
    format!("{count} {thing}")
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1_u64, "task", "tasks"), "1 task");
        assert_eq!(counted(0_usize, "task", "tasks"), "0 tasks");
        assert_eq!(counted(11_u64, "test", "tests"), "11 tests");
    }
}
