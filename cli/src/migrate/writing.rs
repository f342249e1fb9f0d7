//! Writing a migration: every file or none. A file that cannot be written must not leave the
//! others rewritten and the manifest untouched, a crate that no longer builds.

use std::fs::OpenOptions;
use std::path::PathBuf;

/// Each changed file: its path, its text before and after.
pub(super) type Edit = (PathBuf, String, String);

/// Writes every edit, or none: each file is first opened for writing (a read-only file
/// refuses there, before anything changed); should a write still fail, the files written
/// before it are put back as they were. The error says which file, why, and what was done.
pub(super) fn write_all(edits: &[Edit]) -> Result<(), String> {
    for (path, _, _) in edits {
        OpenOptions::new().write(true).open(path).map_err(|error| {
            format!(
                "cannot write {}: {error}; nothing was changed",
                path.display()
            )
        })?;
    }
    for (index, (path, _, after)) in edits.iter().enumerate() {
        let Err(error) = std::fs::write(path, after) else {
            continue;
        };
        let mut message = format!("cannot write {}: {error}", path.display());
        let mut restored = 0;
        for (written, before, _) in &edits[..index] {
            match std::fs::write(written, before) {
                Ok(()) => restored += 1,
                Err(error) => message.push_str(&format!(
                    "; {} could not be put back ({error}): it holds the migrated text",
                    written.display()
                )),
            }
        }
        if restored == index {
            message.push_str("; nothing was changed");
            if index > 0 {
                message.push_str(&format!(
                    " (the {} written before it were put back as they were)",
                    crate::words::counted(index, "file", "files")
                ));
            }
        }
        return Err(message);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_written_refuses_before_any_file_changes() {
        let directory =
            std::env::temp_dir().join(format!("leakcheck-writing-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a scratch directory");
        let writable = directory.join("a.rs");
        std::fs::write(&writable, "before a").expect("a scratch file");
        // A directory where a file should be: no one can write it, root included.
        let unwritable = directory.join("b.rs");
        std::fs::create_dir_all(&unwritable).expect("a directory");
        let edits = vec![
            (
                writable.clone(),
                "before a".to_owned(),
                "after a".to_owned(),
            ),
            (
                unwritable.clone(),
                "before b".to_owned(),
                "after b".to_owned(),
            ),
        ];
        let error = write_all(&edits).expect_err("b.rs cannot be written");
        assert!(
            error.starts_with(&format!("cannot write {}: ", unwritable.display()))
                && error.ends_with("; nothing was changed"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&writable).expect("a"), "before a");
        let _ = std::fs::remove_dir_all(&directory);
    }
}
