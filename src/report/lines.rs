//! Finding line `n` of a file in constant time. Every output quotes the line a finding or a
//! diagnostic is on; scanning the text from its start for each one made a file with thousands
//! of findings quadratic in every format. The texts are borrowed for `'a`, so the index of a
//! text is kept by its address while the borrow lasts: no two live texts share one.

use std::cell::RefCell;
use std::collections::HashMap;

/// The byte offset at which each line of `text` starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The line indexes of the texts seen so far, built on first use.
#[derive(Default)]
pub struct LineIndex<'a> {
    known: RefCell<HashMap<(usize, usize), Vec<usize>>>,
    _texts: std::marker::PhantomData<&'a str>,
}

impl<'a> LineIndex<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Line `number` (1-based) of `text` as `str::lines` gives it: without its line break
    /// (`\n` or `\r\n`), and none after a final line break.
    pub fn line(&self, text: &'a str, number: u32) -> Option<&'a str> {
        let line = self.segment(text, number)?;
        if line.is_empty() && self.is_after_last_break(text, number) {
            return None;
        }
        // A `\r` is part of the break only before a `\n`, which every line but the last has.
        let ends_text = line.as_ptr() as usize + line.len() == text.as_ptr() as usize + text.len();
        Some(match line.strip_suffix('\r') {
            Some(stripped) if !ends_text => stripped,
            _ => line,
        })
    }

    /// Segment `number` (1-based) of `text` split at `\n`, as `str::split('\n')` gives it: the
    /// empty segment after a final line break counts, and a `\r` before the break is kept.
    pub fn segment(&self, text: &'a str, number: u32) -> Option<&'a str> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        let key = (text.as_ptr() as usize, text.len());
        let mut known = self.known.borrow_mut();
        let starts = known.entry(key).or_insert_with(|| line_starts(text));
        let start = *starts.get(index)?;
        let end = starts.get(index + 1).map_or(text.len(), |next| next - 1);
        text.get(start..end)
    }

    /// Whether segment `number` is the empty one after the text's final line break.
    fn is_after_last_break(&self, text: &str, number: u32) -> bool {
        let key = (text.as_ptr() as usize, text.len());
        self.known
            .borrow()
            .get(&key)
            .is_some_and(|starts| usize::try_from(number).ok() == Some(starts.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_segments_match_the_standard_library() {
        let texts = [
            "",
            "one",
            "one\n",
            "one\ntwo",
            "one\r\ntwo\r\n",
            "\n\n",
            "a\n\nb\n",
            "é\n日本\r\nx",
            "a\r",
            "a\r\nb\r",
        ];
        let index = LineIndex::new();
        for text in texts {
            for n in 0..6u32 {
                let wanted_line = n.checked_sub(1).and_then(|i| text.lines().nth(i as usize));
                assert_eq!(index.line(text, n), wanted_line, "{text:?} line {n}");
                let wanted_segment = n
                    .checked_sub(1)
                    .and_then(|i| text.split('\n').nth(i as usize));
                assert_eq!(
                    index.segment(text, n),
                    wanted_segment,
                    "{text:?} segment {n}"
                );
            }
        }
    }

    #[test]
    fn a_slice_of_another_text_is_indexed_on_its_own() {
        let whole = "a\nb\nc\n";
        let index = LineIndex::new();
        assert_eq!(index.line(whole, 2), Some("b"));
        // Same start, other length: its own entry.
        assert_eq!(index.line(&whole[..3], 2), Some("b"));
        assert_eq!(index.line(&whole[..1], 2), None);
        assert_eq!(index.line(&whole[2..], 1), Some("b"));
    }
}
