//! The Markdown pipeline: pulldown-cmark events through small adaptors. STUB.

use std::ops::Range;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Pass raw HTML through; otherwise it is escaped and shown as text.
    pub unsafe_html: bool,
}

/// A link whose target Casebook checks and makes into a URL later (resolve stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// `@/cases/SLUG.md` (with optional `#anchor`)
    Case { slug: String, anchor: Option<String> },
    /// `org:NAME-OR-SLUG`
    Org(String),
    /// `attack:T1078` (id as written)
    Technique(String),
}

#[derive(Debug, Clone)]
pub struct InternalLink {
    pub target: LinkTarget,
    /// Byte range of the link's destination (or whole link) within the body.
    pub range: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Heading { pub level: u8, pub id: String, pub text: String }

/// A problem found in the body (refused link scheme...): byte range within the body.
#[derive(Debug, Clone)]
pub struct Problem { pub range: Range<usize>, pub code: &'static str, pub message: String, pub hint: Option<String> }

#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// HTML where the href of internal link i is the placeholder `slot(i)`.
    pub html: String,
    pub links: Vec<InternalLink>,
    pub headings: Vec<Heading>,
    /// Plain text of the body (for search, summaries), whitespace-collapsed.
    pub text: String,
    pub problems: Vec<Problem>,
}

pub fn render(_body: &str, _options: &Options) -> Rendered { todo!() }

/// Replaces each slot with its URL (attribute-escaped); `urls[i]` for link i.
/// A `None` URL turns the link into plain text (the `<a>` is dropped).
pub fn fill_slots(_html: &str, _urls: &[Option<String>]) -> String { todo!() }

/// CSS for the classed syntax highlighting: `light` theme, `dark` theme in a
/// `prefers-color-scheme: dark` media query. Theme names from syntect/two-face.
pub fn highlight_css(_light: &str, _dark: &str) -> Result<String, String> { todo!() }

/// Names of the highlight themes available (for validating site.toml).
pub fn highlight_themes() -> Vec<String> { todo!() }
