//! A scanned file's text with its lines found once, so that a finding's line is one lookup: a
//! generated file with tens of thousands of findings must not be read from the top for each.

/// A file's text and where each of its lines starts.
#[derive(Debug)]
pub(crate) struct Source {
    text: String,
    /// The byte offset of each line's start; line 1 first.
    starts: Vec<usize>,
}

impl Source {
    pub(crate) fn new(text: String) -> Source {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .filter(|start| *start < text.len())
            .collect();
        Source { text, starts }
    }

    /// Line `number` (1-based) without its line ending; empty past the end.
    pub(crate) fn line(&self, number: usize) -> &str {
        let Some(start) = number
            .checked_sub(1)
            .and_then(|index| self.starts.get(index))
        else {
            return "";
        };
        let end = self.starts.get(number).copied().unwrap_or(self.text.len());
        self.text[*start..end].trim_end_matches(['\n', '\r'])
    }

    /// How many lines it has.
    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::Source;

    #[test]
    fn lines_are_found_as_str_lines_finds_them() {
        for text in ["", "a", "a\n", "a\r\nb\n\nc", "\n\n"] {
            let source = Source::new(text.to_owned());
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(source.line_count(), lines.len(), "{text:?}");
            for (index, line) in lines.iter().enumerate() {
                assert_eq!(source.line(index + 1), *line, "{text:?}");
            }
            assert_eq!(source.line(0), "");
            assert_eq!(source.line(lines.len() + 1), "");
        }
    }
}
