//! Diagnostics: every problem a user can cause, with where it is and what to change.
//!
//! Stages never print or stop at the first problem: they push [`Diagnostic`]s into a
//! list, and the command decides how to show them (human, JSON, GitHub annotations).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A file the user wrote, kept whole so a diagnostic can point into it.
///
/// A content file the build cache stamped, and that still has that stamp, is not read:
/// its parse is in the cache, and its text is read only if something asks for it (a
/// diagnostic shown with its line, say). See [`crate::load::Known`].
#[derive(Debug, Default)]
pub struct SourceFile {
    /// Path relative to the site root, with `/` separators: what the user sees.
    pub path: String,
    text: std::sync::OnceLock<String>,
    /// Where the text is read from when it was not read with the file.
    origin: Option<std::path::PathBuf>,
    /// The text's fingerprint, made once: the parse cache and resolve both ask, and
    /// `serve` keeps an unchanged file's `SourceFile` from run to run.
    hash: std::sync::OnceLock<crate::fingerprint::Fingerprint>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(SourceFile { path: path.into(), text: text.into().into(), origin: None, hash: Default::default() })
    }

    /// A file known by the fingerprint of its text, read from `origin` only when asked.
    pub(crate) fn unread(path: String, origin: std::path::PathBuf, hash: crate::fingerprint::Fingerprint) -> Arc<Self> {
        Arc::new(SourceFile { path, text: Default::default(), origin: Some(origin), hash: hash.into() })
    }

    /// The file's text (read now if it was not read with the file; empty if it cannot
    /// be read any more).
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let bytes = self.origin.as_deref().and_then(|p| std::fs::read(p).ok()).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            text.strip_prefix('\u{feff}').unwrap_or(&text).to_string()
        })
    }

    /// The fingerprint of the text.
    pub fn text_hash(&self) -> crate::fingerprint::Fingerprint {
        *self.hash.get_or_init(|| crate::fingerprint::of_bytes(self.text().as_bytes()))
    }

    /// The fingerprint of the text [`Self::text`] gives. That is [`Self::text_hash`],
    /// except for a file known by its stamp and written to between the stat and the read:
    /// a parse of what was read must not be remembered as the parse of the older text.
    pub(crate) fn read_hash(&self) -> crate::fingerprint::Fingerprint {
        match self.origin {
            Some(_) => crate::fingerprint::of_bytes(self.text().as_bytes()),
            None => self.text_hash(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = text[line_start..offset].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Error,
    Warning,
    /// Worth knowing, never fails a build (a case left out by TLP, say).
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Where a problem is: a file, and where known the bytes in it.
///
/// The build cache keeps diagnostics without their file: the engine links them to the
/// file it loaded, whose text is the one they were made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Location {
    #[serde(skip)]
    pub file: Arc<SourceFile>,
    pub range: Option<Range<usize>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `technique-unknown`; documented in README. Owned only when read
    /// back from the build cache.
    pub code: Cow<'static, str>,
    pub message: String,
    /// What to change, when we can tell.
    pub hint: Option<String>,
    pub location: Option<Location>,
    /// A file that has no text to point into (a folder, a binary file).
    pub path: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code: Cow::Borrowed(code),
            message: message.into(),
            hint: None,
            location: None,
            path: None,
        }
    }
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }
    pub fn note(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, code, message)
    }
    pub fn at(mut self, file: &Arc<SourceFile>, range: Range<usize>) -> Self {
        self.location = Some(Location { file: file.clone(), range: Some(range) });
        self
    }
    pub fn in_file(mut self, file: &Arc<SourceFile>) -> Self {
        self.location = Some(Location { file: file.clone(), range: None });
        self
    }
    pub fn in_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `FILE`, `FILE:LINE:COL`, or nothing.
    pub fn position(&self) -> Option<(String, Option<(usize, usize)>)> {
        match &self.location {
            Some(loc) => Some((loc.file.path.clone(), loc.range.as_ref().map(|r| loc.file.line_col(r.start)))),
            None => self.path.clone().map(|p| (p, None)),
        }
    }
}

/// Control characters other than tab and line breaks: invalid in XML (the Atom feed),
/// parse errors in HTML, and never meant. Each is reported where it is.
pub fn control_chars(file: &Arc<SourceFile>) -> Vec<Diagnostic> {
    const MAX: usize = 20;
    // Bytes first: C0 and DEL are single bytes, C1 are 0xC2 0x80..=0x9F in UTF-8. Each
    // block is tested without branches, so that the compiler tests many bytes at once:
    // every file of the site is read through here on every build.
    let flagged = |c: u8| (c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r') | (c == 0x7f) | (c == 0xc2);
    let suspect = file.text().as_bytes().chunks(64).any(|block| block.iter().fold(false, |any, &c| any | flagged(c)));
    if !suspect {
        return Vec::new();
    }
    file.text()
        .char_indices()
        .filter(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        .take(MAX)
        .map(|(i, c)| {
            Diagnostic::error(
                "control-character",
                format!("a control character (U+{:04X}) is not allowed in the text", c as u32),
            )
            .at(file, i..i + c.len_utf8())
            .hint("delete it: it is invisible, often pasted from a PDF or a terminal, and makes the feed invalid XML")
        })
        .collect()
}

/// All diagnostics of a run, in a stable order.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }
    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
    /// `--strict`: warnings fail the run too.
    pub fn promote_warnings(&mut self) {
        for d in &mut self.items {
            if d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
        }
    }
    /// Order by file, then position, so output does not depend on thread timing. A file's
    /// notes come after its errors and warnings: they say what follows from them (a case
    /// left out as TLP:RED because its level is unknown), not what to fix first.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                let (file, lc) = d.position().unwrap_or_default();
                (file, d.severity == Severity::Note, lc.unwrap_or((0, 0)), d.severity, d.message.clone())
            };
            key(a).cmp(&key(b))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(usize, String)> {
        let file = SourceFile::new("x.md", text.to_string());
        control_chars(&file)
            .iter()
            .map(|d| {
                (d.location.as_ref().and_then(|l| l.range.clone()).map_or(usize::MAX, |r| r.start), d.message.clone())
            })
            .collect()
    }

    #[test]
    fn control_characters_are_found_wherever_they_are_and_nothing_else() {
        let long = "Tab\there, line\r\n, ©, é, 東京 ".repeat(20);
        assert!(found(&long).is_empty());
        for (c, code) in [('\u{7}', "0007"), ('\u{7f}', "007F"), ('\u{85}', "0085"), ('\u{1b}', "001B")] {
            // In the first block, in a later one, and at the very end.
            for at in [0, 70, long.len()] {
                let mut text = long.clone();
                text.insert(at, c);
                let f = found(&text);
                assert_eq!(f.len(), 1, "{code} at {at}");
                assert_eq!(f[0].0, at);
                assert!(f[0].1.contains(code), "{}", f[0].1);
            }
        }
    }
}
