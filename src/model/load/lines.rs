//! The lines of an input whose text was let go after reading, read again
//! from its file forward, a few at a time, for the text report: the whole
//! text read again took as much memory as the file (100 MB beside a run
//! at its budget; none at all past 256 MiB, so a stream of a million
//! objects showed no source lines).
//!
//! Lines are numbered as the loader numbered them: a lone CR ends a line as
//! `\n` does ([`super::lone_cr_to_lf`]), and a text ending with a line end
//! has one more, empty line. The file is first read through once for its
//! length and hash: lines of a file changed since it was read are not shown.

use std::collections::HashMap;
use std::io::{BufRead, Seek};
use std::path::Path;

/// Some lines of a text: each without its `\n` (a CRLF's CR stays), one
/// after the other in `text`, and where each is in it, by number (1-based).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shown {
    pub text: String,
    pub lines: HashMap<usize, (usize, usize)>,
}

/// A file read forward a line at a time.
pub struct LineReader {
    file: std::io::BufReader<std::fs::File>,
    /// The number of the next line to read.
    next: usize,
    /// The last two lines read: a batch of lines asked for may start with
    /// the last line of the batch before, or the one before it.
    recent: [(usize, Vec<u8>); 2],
    /// The rest of the last chunk read, after a lone CR that ended a line.
    rest: Vec<u8>,
    /// The last chunk read ended the text with a line end (or the text is
    /// empty): one more, empty line follows.
    ended: bool,
    done: bool,
}

impl LineReader {
    /// `path` opened to read lines from, when it still has `len` bytes of
    /// text that hash to `hash` ([`super::text_hash`] after lone CRs became
    /// line ends), as when it was read.
    pub fn open(path: &Path, len: usize, hash: u64) -> Option<LineReader> {
        let mut file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
        let (mut read, mut h, mut chunk) = (0usize, super::spans::FNV_BASIS, Vec::new());
        loop {
            chunk.clear();
            if file.read_until(b'\n', &mut chunk).ok()? == 0 {
                break;
            }
            super::documents::lone_crs_to_lf(&mut chunk);
            read += chunk.len();
            h = super::text_hash_from(h, std::str::from_utf8(&chunk).ok()?);
            if read > len {
                return None;
            }
        }
        if (read, h) != (len, hash) {
            return None;
        }
        // The same open file, from its start: not one opened again, which
        // could be another file by now.
        file.rewind().ok()?;
        Some(LineReader { file, next: 1, recent: Default::default(), rest: Vec::new(), ended: true, done: false })
    }

    /// The lines numbered `wanted` (sorted, none before the second-last line
    /// read last time) that the text has.
    pub fn take(&mut self, wanted: &[usize]) -> Shown {
        let mut shown = Shown::default();
        let mut bytes = Vec::new();
        let mut keep = |n: usize, line: &[u8], bytes: &mut Vec<u8>| {
            shown.lines.entry(n).or_insert_with(|| {
                let start = bytes.len();
                bytes.extend_from_slice(line);
                (start, bytes.len())
            });
        };
        for &n in wanted {
            if let Some((_, line)) = self.recent.iter().find(|(m, _)| *m == n && n > 0) {
                keep(n, line, &mut bytes);
                continue;
            }
            while self.next <= n {
                let Some(line) = self.line() else { break };
                let read = self.next;
                self.next += 1;
                if read == n {
                    keep(n, &line, &mut bytes);
                }
                self.recent = [std::mem::take(&mut self.recent[1]), (read, line)];
            }
        }
        // Whole lines of a text that was UTF-8 when it was loaded.
        match String::from_utf8(bytes) {
            Ok(text) => Shown { text, ..shown },
            Err(_) => Shown::default(),
        }
    }

    /// The next line without its end, if the text has one more.
    fn line(&mut self) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        let mut chunk = std::mem::take(&mut self.rest);
        if chunk.is_empty() {
            let read = self.file.read_until(b'\n', &mut chunk).unwrap_or(0);
            if read == 0 {
                // After a line end, one more, empty line; then none.
                self.done = true;
                return self.ended.then(Vec::new);
            }
            super::documents::lone_crs_to_lf(&mut chunk);
        }
        match chunk.iter().position(|&b| b == b'\n') {
            Some(end) => {
                self.rest = chunk.split_off(end + 1);
                chunk.truncate(end);
                self.ended = true;
            }
            None => self.ended = false,
        }
        Some(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines `wanted` of `text` as the whole text gives them.
    fn whole(text: &str, wanted: &[usize]) -> Vec<(usize, String)> {
        let mut text = text.to_string();
        super::super::lone_cr_to_lf(&mut text);
        let lines: Vec<&str> = text.split('\n').collect();
        wanted.iter().filter_map(|&n| Some((n, lines.get(n.checked_sub(1)?)?.to_string()))).collect()
    }

    fn read(shown: &Shown) -> Vec<(usize, String)> {
        let mut lines: Vec<(usize, String)> =
            shown.lines.iter().map(|(&n, &(s, e))| (n, shown.text[s..e].to_string())).collect();
        lines.sort();
        lines
    }

    #[test]
    fn lines_are_numbered_and_cut_as_the_loader_cut_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.yaml");
        for text in
            ["a: 1\nb: 2\n", "a: 1\r\nb: 2\r\n", "a: 1\rb: 2\rc: é\r", "a\r\rb\n\nc", "", "\n", "only", "x\n\r\n\ry\r"]
        {
            std::fs::write(&path, text).expect("write");
            let mut converted = text.to_string();
            super::super::lone_cr_to_lf(&mut converted);
            let (len, hash) = (converted.len(), super::super::text_hash(&converted));
            let all: Vec<usize> = (0..=8).collect();
            let mut reader = LineReader::open(&path, len, hash).expect("unchanged");
            assert_eq!(read(&reader.take(&all)), whole(text, &all), "{text:?}");
            // A few at a time, asking again for the last two lines read.
            let mut reader = LineReader::open(&path, len, hash).expect("unchanged");
            let mut got = Vec::new();
            for batch in [&[1, 2][..], &[1, 2, 3], &[2, 3, 5], &[4, 5, 6, 7, 8]] {
                got.extend(read(&reader.take(batch)));
            }
            got.sort();
            got.dedup();
            assert_eq!(got, whole(text, &all), "{text:?}");
            // Changed since: nothing is shown.
            assert!(LineReader::open(&path, len + 1, hash).is_none());
            assert!(LineReader::open(&path, len, hash ^ 1).is_none());
        }
    }
}
