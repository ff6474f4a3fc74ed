//! Parse: front matter (TOML) and Markdown of each file, checked on its own.
//!
//! Everything that needs only the file itself is validated here; what needs other
//! files or the ATT&CK catalog (does that case exist? is T1078 real?) is for `resolve`.

pub mod case;
pub mod date;
pub mod highlight;
pub mod markdown;
pub mod org;
pub mod page;

use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::diagnostics::{Diagnostic, Severity, SourceFile};

/// A file split at its `+++` fences.
pub struct Split<'a> {
    pub toml: &'a str,
    /// Byte offset of the TOML in the file, to turn TOML spans into file spans.
    pub toml_offset: usize,
    pub body: &'a str,
    pub body_offset: usize,
}

/// Splits `+++\nTOML\n+++\nBODY`.
pub fn split_front_matter(file: &Arc<SourceFile>) -> Result<Split<'_>, Diagnostic> {
    let text = file.text();
    let missing = || {
        Diagnostic::error("front-matter-missing", "the file must start with TOML front matter between two `+++` lines")
            .at(file, 0..text.lines().next().map_or(0, str::len))
            .hint("begin the file with a line `+++`, the TOML keys, and another line `+++`")
    };
    let first_len = text.find('\n').map_or(text.len(), |i| i + 1);
    if text[..first_len].trim_end() != "+++" {
        return Err(missing());
    }
    let mut pos = first_len;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        if text[pos..end].trim_end() == "+++" {
            return Ok(Split {
                toml: &text[first_len..pos],
                toml_offset: first_len,
                body: &text[end..],
                body_offset: end,
            });
        }
        pos = end;
    }
    Err(Diagnostic::error("front-matter-unclosed", "the front matter is not closed by a `+++` line")
        .at(file, 0..first_len.saturating_sub(1))
        .hint("add a line `+++` after the last TOML key"))
}

/// Splits a file at its fences and reads the front matter into `T`: the first step of
/// every content file, whatever its kind. Every problem of the front matter is reported.
///
/// When some entries are wrong but the rest reads, that rest comes back with the errors,
/// so the file's other problems are reported in the same run.
pub fn front_matter<T: DeserializeOwned>(
    file: &Arc<SourceFile>,
) -> Result<(T, Split<'_>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let split = split_front_matter(file).map_err(|d| vec![d])?;
    match crate::toml_input::read_partial(file, split.toml, split.toml_offset, "front-matter-invalid") {
        (Some(raw), errors) => Ok((raw, split, errors)),
        (None, errors) => Err(errors),
    }
}

/// Collects the diagnostics of one file, with the front matter's offset applied.
pub struct Checker<'a> {
    pub file: &'a Arc<SourceFile>,
    pub offset: usize,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub fn new(file: &'a Arc<SourceFile>, offset: usize) -> Self {
        Checker { file, offset, diags: Vec::new() }
    }
    /// A span of the TOML as a span of the file.
    pub fn span(&self, r: Range<usize>) -> Range<usize> {
        self.offset + r.start..self.offset + r.end
    }
    pub fn error(&mut self, code: &'static str, span: Range<usize>, message: impl Into<String>, hint: Option<&str>) {
        let mut d = Diagnostic::error(code, message).at(self.file, self.span(span));
        if let Some(h) = hint {
            d = d.hint(h);
        }
        self.diags.push(d);
    }
    /// A string with its span made absolute in the file.
    pub fn located(&self, s: toml::Spanned<String>) -> case::Located {
        let span = self.span(s.span());
        case::Located { value: s.into_inner().trim().to_string(), span }
    }

    /// A required text: trimmed, and an error when empty.
    pub fn text(&mut self, s: toml::Spanned<String>, what: &str) -> String {
        if s.get_ref().trim().is_empty() {
            self.error("value-empty", s.span(), format!("{what} is empty"), None);
        }
        s.into_inner().trim().to_string()
    }

    /// A list of names: each non-empty, duplicates (ignoring case) dropped.
    pub fn names(&mut self, items: Vec<toml::Spanned<String>>, what: &str) -> Vec<case::Located> {
        let mut out: Vec<case::Located> = Vec::with_capacity(items.len());
        for s in items {
            if s.get_ref().trim().is_empty() {
                self.error("value-empty", s.span(), format!("{what} is empty"), None);
                continue;
            }
            let l = self.located(s);
            if !out.iter().any(|o| o.value.to_lowercase() == l.value.to_lowercase()) {
                out.push(l);
            }
        }
        out
    }

    /// ISO 3166-1 alpha-2 codes, upper-cased.
    pub fn countries(&mut self, items: Vec<toml::Spanned<String>>) -> Vec<case::Located> {
        let mut out = Vec::new();
        for cc in items {
            let code = cc.get_ref().trim().to_ascii_uppercase();
            if crate::countries::country_name(&code).is_none() {
                let msg = format!("{:?} is not an ISO 3166-1 alpha-2 country code", cc.get_ref());
                let written = cc.get_ref().trim();
                let names = crate::countries::COUNTRIES.iter().map(|(_, name)| *name);
                let hint = match crate::toml_input::did_you_mean(written, names) {
                    Some(name) => {
                        let code = crate::countries::COUNTRIES.iter().find(|(_, n)| *n == name).map_or("", |(c, _)| c);
                        format!("{name} is written \"{code}\"")
                    }
                    None => "use two letters, e.g. \"JP\" for Japan or \"US\" for the United States".to_string(),
                };
                self.error("country-invalid", cc.span(), msg, Some(&hint));
            } else if !out.iter().any(|o: &case::Located| o.value == code) {
                out.push(case::Located { value: code, span: self.span(cc.span()) });
            }
        }
        out
    }

    /// Problems the Markdown pipeline found in the body, placed in the file.
    pub fn body_problems(&mut self, body: &markdown::Rendered, body_offset: usize) {
        for p in &body.problems {
            let range = body_offset + p.range.start..body_offset + p.range.end;
            let severity = if p.warning { Severity::Warning } else { Severity::Error };
            let mut d = Diagnostic::new(severity, p.code, p.message.clone()).at(self.file, range);
            if let Some(h) = &p.hint {
                d = d.hint(h.clone());
            }
            self.diags.push(d);
        }
    }
}

/// Everything parsed, each file on its own. Shared with the engine's cache of parsed
/// files, so a run does not copy what it did not parse again.
#[derive(Debug, Default)]
pub struct Parsed {
    pub cases: Vec<Arc<case::Case>>,
    pub organizations: Vec<Arc<org::OrgProfile>>,
    pub pages: Vec<Arc<page::Page>>,
}
