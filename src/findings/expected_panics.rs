//! Task panics a test expects and handles, declared with [`crate::expect_task_panic`].
//!
//! A panic in a task is a finding even when the test awaited the task's handle: stable tokio
//! cannot tell a handled `JoinError` from a lost one. A test that provokes a panic on purpose
//! (a pool turning a panicking callback into an error, say) declares the panic's words
//! instead; a matching panic is then not a finding, and no matching panic at all is one.

use crate::findings::finding::Finding;

/// A declared panic: its words and where the test declared it.
#[derive(Debug)]
pub(crate) struct ExpectedPanic {
    text: String,
    declared_at: String,
    seen: bool,
}

impl ExpectedPanic {
    pub(crate) fn new(text: String, declared_at: String) -> Self {
        ExpectedPanic {
            text,
            declared_at,
            seen: false,
        }
    }
}

/// The findings of a run once the declared panics are taken out of them: a task panic whose
/// message contains the words of a declaration is dropped, and a declaration no panic matched
/// becomes a finding of its own.
pub(crate) fn settle_declared_panics(
    findings: Vec<Finding>,
    mut expected: Vec<ExpectedPanic>,
) -> Vec<Finding> {
    if expected.is_empty() {
        return findings;
    }
    let mut kept: Vec<Finding> = findings
        .into_iter()
        .filter(|finding| {
            let Finding::TaskPanicked { message, .. } = finding else {
                return true;
            };
            let declared = expected
                .iter_mut()
                .filter(|expectation| message.contains(&expectation.text));
            let mut matched = false;
            for expectation in declared {
                expectation.seen = true;
                matched = true;
            }
            !matched
        })
        .collect();
    kept.extend(
        expected
            .into_iter()
            .filter(|expectation| !expectation.seen)
            .map(|expectation| Finding::ExpectedPanicMissing {
                text: expectation.text,
                declared_at: expectation.declared_at,
            }),
    );
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tasks::PanickedTask;

    fn panicked(message: &str) -> Finding {
        Finding::TaskPanicked {
            message: message.into(),
            location: None,
            task: PanickedTask::default(),
        }
    }

    #[test]
    fn a_declared_panic_is_not_a_finding_and_others_still_are() {
        let findings = settle_declared_panics(
            vec![
                panicked("pool callback failed: boom"),
                panicked("index out of bounds"),
            ],
            vec![ExpectedPanic::new(
                "boom".into(),
                "tests/pool.rs:9:5".into(),
            )],
        );
        assert_eq!(findings, vec![panicked("index out of bounds")]);
    }

    #[test]
    fn a_declaration_no_panic_matched_is_a_finding() {
        let findings = settle_declared_panics(
            vec![panicked("something else")],
            vec![ExpectedPanic::new(
                "boom".into(),
                "tests/pool.rs:9:5".into(),
            )],
        );
        assert_eq!(
            findings,
            vec![
                panicked("something else"),
                Finding::ExpectedPanicMissing {
                    text: "boom".into(),
                    declared_at: "tests/pool.rs:9:5".into()
                }
            ]
        );
    }
}
