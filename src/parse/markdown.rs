//! The Markdown pipeline: pulldown-cmark events through small adaptors, then
//! `pulldown_cmark::html::push_html`.
//!
//! Bodies come from contributed, possibly hostile write-ups, so by default raw
//! HTML is shown as text, `javascript:`/`vbscript:`/`data:` links are refused
//! and heading attributes other than id and classes are dropped.
//!
//! Internal links (`@/cases/...`, `org:...`, `attack:...`) are resolved later,
//! so their anchors carry slots that [`fill_slots`] fills in:
//!
//! * start: `<a href="\0{i}\0">` (or `<a href="\0{i}\0" title="...">`),
//! * end: `</a\0{i}\0>` — the index on the end tag lets `fill_slots` drop
//!   the matching `</a>` of an unresolved link without tracking nesting.
//!
//! NUL never appears in the output elsewhere: NULs in the body become U+FFFD
//! before parsing, so slots cannot be forged by the body.

use crate::text::Text;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

use super::highlight;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Pass raw HTML through; otherwise it is escaped and shown as text.
    pub unsafe_html: bool,
}

/// A link whose target Casebook checks and makes into a URL later (resolve stage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkTarget {
    /// `@/cases/SLUG.md` (with optional `#anchor`)
    Case { slug: String, anchor: Option<String> },
    /// `org:NAME-OR-SLUG`
    Org(String),
    /// `attack:T1078` (id as written)
    Technique(String),
    /// `/cases/x/` written from the site's root: made relative to the page, so it still
    /// works on `file://` and under a sub-path (`https://user.github.io/repo/`).
    SitePath(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InternalLink {
    pub target: LinkTarget,
    /// Byte range of the link's destination (or whole link) within the body.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// A problem found in the body (refused link scheme...): byte range within the body.
#[derive(Debug, Clone)]
pub struct Problem {
    /// A warning rather than an error (the page still works, only not everywhere).
    pub warning: bool,
    pub range: Range<usize>,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rendered {
    /// HTML where the href of internal link i is the placeholder `\0{i}\0`.
    pub html: Text,
    pub links: Vec<InternalLink>,
    pub headings: Vec<Heading>,
    /// Plain text of the body (for search, summaries), whitespace-collapsed.
    pub text: Text,
    /// Made into the file's diagnostics by parse, and read by nothing after it: the build
    /// cache keeps those diagnostics instead.
    #[serde(skip)]
    pub problems: Vec<Problem>,
    /// Relative links and images (`../x/`, `#anchor`, `diagram.png`): checked against
    /// the built site once it exists.
    pub local: Vec<LocalLink>,
    /// Absolute `http(s)` links and images, for `check --external`.
    pub external: Vec<LocalLink>,
}

/// A link as written, with its place in the body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalLink {
    pub dest: String,
    pub range: Range<usize>,
}

/// No scheme and no host: a path relative to the page, or a fragment.
fn is_local(dest: &str) -> bool {
    let d = dest.trim();
    let end = d.find(['/', '?', '#']).unwrap_or(d.len());
    !d.is_empty() && !d.starts_with("//") && !d[..end].contains(':')
}

/// `/path` (not `//host`): written from the site's root.
fn is_root_absolute(dest: &str) -> bool {
    let d = dest.trim();
    d.starts_with('/') && !d.starts_with("//") && !d.starts_with("/\\")
}

/// Problem code: an `@/...` (or `org:`/`attack:`) link Casebook cannot read.
pub const LINK_INTERNAL_INVALID: &str = "link-internal-invalid";
/// Problem code: a `javascript:`, `vbscript:` or `data:` link or image.
pub const LINK_SCHEME_REFUSED: &str = "link-scheme-refused";

pub fn render(body: &str, options: &Options) -> Rendered {
    let (clean, nuls) = replace_nul(body);
    // `[Acme](org:Example Corp)` is how writers write it; CommonMark wants `<...>`.
    let (clean, brackets) = match bracket_org_links(&clean) {
        Some((text, at)) => (Cow::Owned(text), at),
        None => (clean, Vec::new()),
    };
    let mut links = Vec::new();
    let mut local = Vec::new();
    let mut external = Vec::new();
    let mut problems = Vec::new();
    let mut headings = Vec::new();
    let mut text = String::new();
    let mut html = String::with_capacity(body.len() + body.len() / 2);

    let events = Parser::new_ext(&clean, parser_options())
        .into_offset_iter()
        .map(|(event, range)| (event, to_body_range(&nuls, to_unbracketed(&brackets, range))));
    let events = RawHtml { inner: events, unsafe_html: options.unsafe_html };
    let events = Links {
        inner: events,
        body,
        links: &mut links,
        local: &mut local,
        external: &mut external,
        problems: &mut problems,
        stack: Vec::new(),
        image_depth: 0,
    };
    let events = Headings {
        inner: events,
        headings: &mut headings,
        used: HashSet::new(),
        next_suffix: HashMap::new(),
        keep_attrs: options.unsafe_html,
        pending: VecDeque::new(),
    };
    let events = PlainText { inner: events, text: &mut text };
    let events = CodeBlocks { inner: events };
    let events = TableWrap { inner: events, pending: None };
    pulldown_cmark::html::push_html(&mut html, events);

    text.truncate(text.trim_end().len());
    // Both grew by doubling; a site holds thousands of them until it is written.
    html.shrink_to_fit();
    text.shrink_to_fit();
    Rendered { html: html.into(), links, headings, text: text.into(), problems, local, external }
}

/// Replaces each slot with its URL (attribute-escaped); `urls[i]` for link i.
/// A `None` URL turns the link into plain text (the `<a>` is dropped).
///
/// One pass over `html`: a start slot is recognised by the `<a href="` just
/// before it, an end slot by `</a` before and `>` after it. Anything else with
/// a NUL (never produced by [`render`]) becomes U+FFFD.
pub fn fill_slots(html: &str, urls: &[Option<String>]) -> String {
    let mut out = String::with_capacity(html.len());
    fill_slots_into(&mut out, html, urls);
    // Held until the page is written: no room left from growing.
    out.shrink_to_fit();
    out
}

/// [`fill_slots`], appended to `out`: a buffer used again does not allocate.
pub fn fill_slots_into(out: &mut String, html: &str, urls: &[Option<String>]) {
    const OPEN: &str = "<a href=\"";
    const CLOSE: &str = "</a";
    let start = out.len();
    let mut rest = html;
    while let Some(at) = rest.find('\0') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some((i, tail)) = parse_slot(after) else {
            out.push('\u{FFFD}');
            rest = after;
            continue;
        };
        let url = urls.get(i).and_then(Option::as_deref);
        if out[start..].ends_with(OPEN) {
            match url {
                Some(url) => {
                    crate::html::escape_into(out, url);
                    rest = tail;
                }
                None => {
                    out.truncate(out.len() - OPEN.len());
                    // The title is escaped, so the first `>` closes the tag.
                    rest = tail.find('>').map_or("", |p| &tail[p + 1..]);
                }
            }
        } else if out[start..].ends_with(CLOSE) && tail.starts_with('>') {
            if url.is_some() {
                out.push('>');
            } else {
                out.truncate(out.len() - CLOSE.len());
            }
            rest = &tail[1..];
        } else {
            out.push('\u{FFFD}');
            rest = after;
        }
    }
    out.push_str(rest);
}

/// `DIGITS\0` at the start of `s`: the index and what follows the closing NUL.
fn parse_slot(s: &str) -> Option<(usize, &str)> {
    let digits = s.bytes().take(21).take_while(u8::is_ascii_digit).count();
    if digits == 0 || s.as_bytes().get(digits) != Some(&0) {
        return None;
    }
    let i = s[..digits].parse().ok()?;
    Some((i, &s[digits + 1..]))
}

/// CSS for the classed syntax highlighting: `light` theme, `dark` theme in a
/// `prefers-color-scheme: dark` media query. Theme names from syntect/two-face.
pub fn highlight_css(light: &str, dark: &str) -> Result<String, String> {
    highlight::css(light, dark)
}

/// Lower-case slug of a heading: Unicode letters and digits kept, other runs
/// become `-`, trimmed; `section` when nothing is left.
pub fn heading_slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if gap && !slug.is_empty() {
                slug.push('-');
            }
            gap = false;
            slug.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    if slug.is_empty() {
        slug.push_str("section");
    }
    slug
}

fn parser_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options as O;
    O::ENABLE_TABLES
        | O::ENABLE_FOOTNOTES
        | O::ENABLE_STRIKETHROUGH
        | O::ENABLE_TASKLISTS
        | O::ENABLE_HEADING_ATTRIBUTES
}

// ---------------------------------------------------------------------------
// NUL

/// The body with NUL as U+FFFD, and where each U+FFFD was put (offsets in the
/// new string), to map parser ranges back onto the body.
fn replace_nul(body: &str) -> (Cow<'_, str>, Vec<usize>) {
    if !body.contains('\0') {
        return (Cow::Borrowed(body), Vec::new());
    }
    let mut clean = String::with_capacity(body.len() + 16);
    let mut at = Vec::new();
    for (n, part) in body.split('\0').enumerate() {
        if n > 0 {
            at.push(clean.len());
            clean.push('\u{FFFD}');
        }
        clean.push_str(part);
    }
    (Cow::Owned(clean), at)
}

/// Each U+FFFD before `x` is 3 bytes standing for a 1-byte NUL.
fn to_body_offset(nuls: &[usize], x: usize) -> usize {
    x.saturating_sub(2 * nuls.partition_point(|&p| p < x))
}

fn to_body_range(nuls: &[usize], r: Range<usize>) -> Range<usize> {
    if nuls.is_empty() {
        return r;
    }
    to_body_offset(nuls, r.start)..to_body_offset(nuls, r.end)
}

// ---------------------------------------------------------------------------
// org: links with spaces

/// `](org:NAME WITH SPACES)` in running text (not code) becomes `](<org:NAME WITH SPACES>)`;
/// the text and where each inserted byte went, or None when there is nothing to do.
fn bracket_org_links(text: &str) -> Option<(String, Vec<usize>)> {
    let lower = text.to_ascii_lowercase();
    let candidates: Vec<(usize, usize)> = lower
        .match_indices("](org:")
        .filter_map(|(at, _)| {
            let open = at + 1;
            let rest = &text[open + 1..];
            let end = rest.find([')', '\n'])?;
            let dest = &rest[..end];
            let plain = !dest.contains(['<', '>', '(', '"', '\'', '`']);
            (rest[end..].starts_with(')') && plain && dest.contains(' ')).then_some((open, open + 1 + end))
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    // Only where the parser saw plain text: inside code the writer meant it as written.
    let mut prose: Vec<Range<usize>> = Vec::new();
    for (event, r) in Parser::new_ext(text, parser_options()).into_offset_iter() {
        if let Event::Text(_) = event {
            match prose.last_mut() {
                Some(last) if last.end >= r.start => last.end = last.end.max(r.end),
                _ => prose.push(r),
            }
        }
    }
    let mut out = String::with_capacity(text.len() + 2 * candidates.len());
    let mut inserted = Vec::new();
    let mut from = 0;
    for (open, close) in candidates {
        if !prose.iter().any(|p| p.start < open && close < p.end) {
            continue;
        }
        out.push_str(&text[from..=open]);
        inserted.push(out.len());
        out.push('<');
        out.push_str(&text[open + 1..close]);
        inserted.push(out.len());
        out.push('>');
        from = close;
    }
    if inserted.is_empty() {
        return None;
    }
    out.push_str(&text[from..]);
    Some((out, inserted))
}

/// A range of the bracketed text as a range of the text before.
fn to_unbracketed(inserted: &[usize], r: Range<usize>) -> Range<usize> {
    if inserted.is_empty() {
        return r;
    }
    let back = |x: usize| x - inserted.partition_point(|&p| p < x);
    back(r.start)..back(r.end)
}

// ---------------------------------------------------------------------------
// Raw HTML

/// Raw HTML becomes text (escaped by the writer) unless `unsafe_html`.
struct RawHtml<I> {
    inner: I,
    unsafe_html: bool,
}

impl<'a, I> Iterator for RawHtml<I>
where
    I: Iterator<Item = (Event<'a>, Range<usize>)>,
{
    type Item = (Event<'a>, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let (event, range) = self.inner.next()?;
        if self.unsafe_html {
            return Some((event, range));
        }
        let event = match event {
            Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
            // The escaped block needs a block of its own.
            Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
            other => other,
        };
        Some((event, range))
    }
}

// ---------------------------------------------------------------------------
// Links and images

/// What became of a link or image start, to treat its end the same way.
enum Action {
    Keep { image: bool },
    Drop,
    Internal(usize),
}

enum Dest {
    External,
    Internal(LinkTarget),
    Invalid(String),
    Refused(String),
}

struct Links<'b, I> {
    inner: I,
    body: &'b str,
    links: &'b mut Vec<InternalLink>,
    local: &'b mut Vec<LocalLink>,
    external: &'b mut Vec<LocalLink>,
    problems: &'b mut Vec<Problem>,
    stack: Vec<Action>,
    /// Inside a kept image, only text reaches the alt attribute.
    image_depth: usize,
}

impl<'a, I> Iterator for Links<'_, I>
where
    I: Iterator<Item = (Event<'a>, Range<usize>)>,
{
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let (event, range) = self.inner.next()?;
            let out = match event {
                Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                    self.start_link(link_type, dest_url, title, id, range)
                }
                Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                    self.start_image(link_type, dest_url, title, id, range)
                }
                Event::End(end @ (TagEnd::Link | TagEnd::Image)) => match self.stack.pop() {
                    Some(Action::Keep { image }) => {
                        if image {
                            self.image_depth = self.image_depth.saturating_sub(1);
                        }
                        Some(Event::End(end))
                    }
                    Some(Action::Internal(i)) => Some(Event::InlineHtml(format!("</a\0{i}\0>").into())),
                    Some(Action::Drop) | None => None,
                },
                other => Some(other),
            };
            if out.is_some() {
                return out;
            }
        }
    }
}

impl<'a, I> Links<'_, I> {
    fn record(&mut self, dest: &str, range: Range<usize>) {
        let link = LocalLink { dest: dest.to_string(), range };
        if is_local(dest) {
            self.local.push(link);
        } else if is_http_url(dest.trim()) {
            self.external.push(link);
        }
    }

    fn start_link(
        &mut self,
        link_type: LinkType,
        dest_url: CowStr<'a>,
        title: CowStr<'a>,
        id: CowStr<'a>,
        range: Range<usize>,
    ) -> Option<Event<'a>> {
        if self.image_depth > 0 {
            // Alt text is plain text: an anchor (or its slot) has no place there.
            self.stack.push(Action::Drop);
            return None;
        }
        let dest_range = dest_range(self.body, &range, link_type, &dest_url, title.len());
        let mut dest = classify(&dest_url);
        if matches!(dest, Dest::External) && is_root_absolute(&dest_url) {
            // Still checked against the built site, as written.
            self.record(&dest_url, dest_range.clone());
            dest = Dest::Internal(LinkTarget::SitePath(dest_url.trim().trim_start_matches('/').to_string()));
        }
        match dest {
            Dest::External => {
                self.record(&dest_url, dest_range);
                self.stack.push(Action::Keep { image: false });
                Some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
            }
            Dest::Internal(target) => {
                let i = self.links.len();
                self.links.push(InternalLink { target, range: dest_range });
                self.stack.push(Action::Internal(i));
                let mut tag = format!("<a href=\"\0{i}\0\"");
                if !title.is_empty() {
                    tag.push_str(" title=\"");
                    crate::html::escape_into(&mut tag, &title);
                    tag.push('"');
                }
                tag.push('>');
                Some(Event::InlineHtml(tag.into()))
            }
            Dest::Invalid(message) => {
                self.problems.push(invalid_internal(dest_range, message));
                self.stack.push(Action::Drop);
                None
            }
            Dest::Refused(scheme) => {
                self.problems.push(refused(dest_range, &scheme, "links"));
                self.stack.push(Action::Drop);
                None
            }
        }
    }

    fn start_image(
        &mut self,
        link_type: LinkType,
        dest_url: CowStr<'a>,
        title: CowStr<'a>,
        id: CowStr<'a>,
        range: Range<usize>,
    ) -> Option<Event<'a>> {
        if self.image_depth > 0 {
            self.stack.push(Action::Drop);
            return None;
        }
        let dest_range = dest_range(self.body, &range, link_type, &dest_url, title.len());
        // Dropping the image leaves its alt text as inline content.
        match classify(&dest_url) {
            Dest::External => {
                if is_root_absolute(&dest_url) {
                    self.problems.push(Problem {
                        warning: true,
                        range: dest_range.clone(),
                        code: "image-root-absolute",
                        message: format!("`{}` starts at the site's root: it breaks when the site is opened from files or served under a sub-path", dest_url.trim()),
                        hint: Some("write the path relative to the page, e.g. `diagram.png` for a file beside a bundle's index.md, or `../../images/x.png`".into()),
                    });
                }
                self.record(&dest_url, dest_range);
                self.stack.push(Action::Keep { image: true });
                self.image_depth += 1;
                return Some(Event::Start(Tag::Image { link_type, dest_url, title, id }));
            }
            Dest::Internal(_) | Dest::Invalid(_) => {
                self.problems.push(invalid_internal(
                    dest_range,
                    format!("`{dest_url}` is not an image: internal link forms are for links, not images"),
                ));
            }
            Dest::Refused(scheme) => {
                self.problems.push(refused(dest_range, &scheme, "images"));
            }
        }
        self.stack.push(Action::Drop);
        None
    }
}

fn invalid_internal(range: Range<usize>, message: String) -> Problem {
    Problem {
        warning: false,
        range,
        code: LINK_INTERNAL_INVALID,
        message,
        hint: Some("e.g. `[text](@/cases/some-case.md)`, `[text](org:Acme)`, `[text](attack:T1078)`".into()),
    }
}

fn refused(range: Range<usize>, scheme: &str, what: &str) -> Problem {
    Problem {
        warning: false,
        range,
        code: LINK_SCHEME_REFUSED,
        message: format!("the `{scheme}:` scheme is refused in {what}"),
        hint: Some("use an http(s) link".into()),
    }
}

/// Where the destination is written, for inline links and autolinks; the
/// whole link otherwise (reference links, escapes in the destination).
fn dest_range(body: &str, link: &Range<usize>, link_type: LinkType, dest: &str, title_len: usize) -> Range<usize> {
    let inline = matches!(link_type, LinkType::Inline | LinkType::Autolink | LinkType::Email);
    if inline && !dest.is_empty() {
        // The destination sits at the end (before an optional title): search
        // only the tail, so nested links and images stay linear.
        let mut from = link.end.saturating_sub(dest.len() * 4 + title_len * 6 + 16).max(link.start);
        while from < link.end && !body.is_char_boundary(from) {
            from += 1;
        }
        if let Some(at) = body.get(from..link.end).and_then(|src| src.rfind(dest)) {
            let start = from + at;
            return start..start + dest.len();
        }
    }
    link.clone()
}

const ACCEPTED_FORMS: &str = "internal links are `@/cases/SLUG.md`, `@/cases/SLUG.md#anchor` or `@/cases/SLUG/index.md`, organizations `org:NAME-OR-SLUG`, techniques `attack:T1078`";

fn classify(dest: &str) -> Dest {
    let trimmed = dest.trim();
    if let Some(path) = trimmed.strip_prefix("@/") {
        return case_link(path).unwrap_or_else(|| {
            Dest::Invalid(format!("`{trimmed}` is not a link Casebook understands: {ACCEPTED_FORMS}"))
        });
    }
    if let Some(scheme) = refused_scheme(dest) {
        return Dest::Refused(scheme);
    }
    if let Some(name) = strip_prefix_ignore_case(trimmed, "org:") {
        return match percent_decode(name) {
            Some(name) if !name.trim().is_empty() => {
                Dest::Internal(LinkTarget::Org(name.split_whitespace().collect::<Vec<_>>().join(" ")))
            }
            Some(_) => Dest::Invalid(format!("`{trimmed}` names no organization: {ACCEPTED_FORMS}")),
            None => Dest::Invalid(format!("`{trimmed}` is not valid UTF-8 once percent-decoded")),
        };
    }
    if let Some(id) = strip_prefix_ignore_case(trimmed, "attack:") {
        let id = id.trim();
        if id.is_empty() {
            return Dest::Invalid(format!("`{trimmed}` names no technique: {ACCEPTED_FORMS}"));
        }
        return Dest::Internal(LinkTarget::Technique(id.to_owned()));
    }
    Dest::External
}

/// `cases/SLUG.md`, `cases/SLUG/index.md`, either with `#anchor`.
fn case_link(path: &str) -> Option<Dest> {
    let (path, anchor) = match path.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor).filter(|a| !a.is_empty())),
        None => (path, None),
    };
    let rest = path.strip_prefix("cases/")?;
    let slug = rest.strip_suffix("/index.md").or_else(|| rest.strip_suffix(".md"))?;
    let valid = !slug.is_empty()
        && slug != "."
        && slug != ".."
        && !slug.contains(['/', '\\'])
        && !slug.chars().any(char::is_whitespace);
    // Slugs are lower case: `@/cases/NTT-2020.md` can only mean ntt-2020.
    valid.then(|| {
        Dest::Internal(LinkTarget::Case { slug: slug.to_ascii_lowercase(), anchor: anchor.map(str::to_owned) })
    })
}

/// The scheme as a browser reads it (leading controls and spaces stripped,
/// tabs and newlines ignored anywhere), if it is one we refuse.
fn refused_scheme(dest: &str) -> Option<String> {
    let mut scheme = String::new();
    for c in dest.trim_start_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')) {
        if c == ':' {
            break;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) || scheme.len() > 16 {
            return None;
        }
        scheme.push(c.to_ascii_lowercase());
    }
    matches!(scheme.as_str(), "javascript" | "vbscript" | "data").then_some(scheme)
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// `%XX` decoded (invalid escapes such as `%+2` kept as written); `None` if not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
}

// ---------------------------------------------------------------------------
// Headings

/// Gives every heading an id (slug of its text, made unique) and records it.
struct Headings<'b, 'a, I> {
    inner: I,
    headings: &'b mut Vec<Heading>,
    used: HashSet<String>,
    /// Next suffix to try per base slug, so many duplicates stay linear.
    next_suffix: HashMap<String, usize>,
    /// Custom attributes (`{onclick=...}`) only with `unsafe_html`.
    keep_attrs: bool,
    pending: VecDeque<Event<'a>>,
}

impl<'a, I> Iterator for Headings<'_, 'a, I>
where
    I: Iterator<Item = Event<'a>>,
{
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(event) = self.pending.pop_front() {
            return Some(event);
        }
        let event = self.inner.next()?;
        let Event::Start(Tag::Heading { level, id, classes, attrs }) = event else {
            return Some(event);
        };
        // The id depends on the whole heading text: hold its events back.
        let mut text = String::new();
        for event in self.inner.by_ref() {
            let end = matches!(event, Event::End(TagEnd::Heading(_)));
            match &event {
                Event::Text(s) | Event::Code(s) => push_collapsed(&mut text, s),
                Event::SoftBreak | Event::HardBreak => push_collapsed(&mut text, " "),
                _ => {}
            }
            self.pending.push_back(event);
            if end {
                break;
            }
        }
        text.truncate(text.trim_end().len());
        let id = match id {
            Some(id) => {
                self.used.insert(id.to_string());
                id.to_string()
            }
            None => self.unique(heading_slug(&text)),
        };
        self.headings.push(Heading { level: level as u8, id: id.clone(), text });
        let attrs = if self.keep_attrs { attrs } else { Vec::new() };
        Some(Event::Start(Tag::Heading { level, id: Some(id.into()), classes, attrs }))
    }
}

impl<I> Headings<'_, '_, I> {
    fn unique(&mut self, base: String) -> String {
        if self.used.insert(base.clone()) {
            return base;
        }
        let n = self.next_suffix.entry(base.clone()).or_insert(1);
        loop {
            let candidate = format!("{base}-{n}");
            *n += 1;
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Plain text

/// Collects text, code and inline code; block boundaries become spaces.
struct PlainText<'b, I> {
    inner: I,
    text: &'b mut String,
}

impl<'a, I> Iterator for PlainText<'_, I>
where
    I: Iterator<Item = Event<'a>>,
{
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let event = self.inner.next()?;
        match &event {
            Event::Text(s) | Event::Code(s) => push_collapsed(self.text, s),
            Event::SoftBreak | Event::HardBreak | Event::Rule => push_collapsed(self.text, " "),
            Event::Start(tag) if !is_inline_start(tag) => push_collapsed(self.text, " "),
            Event::End(tag) if !is_inline(tag) => push_collapsed(self.text, " "),
            _ => {}
        }
        Some(event)
    }
}

fn is_inline_start(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn is_inline(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// Appends `s` with whitespace runs as one space, none at the start.
fn push_collapsed(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

// ---------------------------------------------------------------------------
// Code blocks

/// Replaces each code block by `<pre class="code" data-lang="..."><code>`
/// with highlighted (or escaped plain) content.
struct CodeBlocks<I> {
    inner: I,
}

impl<'a, I> Iterator for CodeBlocks<I>
where
    I: Iterator<Item = Event<'a>>,
{
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let event = self.inner.next()?;
        let Event::Start(Tag::CodeBlock(kind)) = event else {
            return Some(event);
        };
        let lang = match &kind {
            CodeBlockKind::Fenced(info) => {
                info.split(|c: char| c.is_whitespace() || c == ',').next().filter(|l| !l.is_empty())
            }
            CodeBlockKind::Indented => None,
        };
        let mut code = String::new();
        for event in self.inner.by_ref() {
            match event {
                Event::End(TagEnd::CodeBlock) => break,
                Event::Text(s) => code.push_str(&s),
                _ => {}
            }
        }
        let mut html = String::from("<pre class=\"code\"");
        if let Some(lang) = lang {
            html.push_str(" data-lang=\"");
            crate::html::escape_into(&mut html, lang);
            html.push('"');
        }
        html.push_str("><code>");
        match lang.and_then(|lang| highlight::highlight(&code, lang)) {
            Some(highlighted) => html.push_str(&highlighted),
            None => crate::html::escape_into(&mut html, &code),
        }
        html.push_str("</code></pre>\n");
        Some(Event::Html(html.into()))
    }
}

// ---------------------------------------------------------------------------
// Tables

/// Wraps tables in `<div class="table-wrap">` so wide ones scroll on phones.
struct TableWrap<'a, I> {
    inner: I,
    pending: Option<Event<'a>>,
}

impl<'a, I> Iterator for TableWrap<'a, I>
where
    I: Iterator<Item = Event<'a>>,
{
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(event) = self.pending.take() {
            return Some(event);
        }
        let event = self.inner.next()?;
        match event {
            Event::Start(Tag::Table(_)) => {
                self.pending = Some(event);
                Some(Event::Html("<div class=\"table-wrap\">".into()))
            }
            Event::End(TagEnd::Table) => {
                self.pending = Some(Event::Html("</div>\n".into()));
                Some(event)
            }
            other => Some(other),
        }
    }
}

/// An absolute `http` or `https` URL with a host: what references, websites and
/// external links may be.
pub fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !url.chars().any(|c| c.is_whitespace() || c.is_control()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn md(body: &str) -> Rendered {
        render(body, &Options::default())
    }

    fn only_link(body: &str) -> InternalLink {
        let r = md(body);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.links.len(), 1, "{:?}", r.links);
        r.links[0].clone()
    }

    #[test]
    fn case_links_and_ranges() {
        let body = "See [it](@/cases/acme-2023.md) now.";
        let link = only_link(body);
        assert_eq!(link.target, LinkTarget::Case { slug: "acme-2023".into(), anchor: None });
        assert_eq!(&body[link.range], "@/cases/acme-2023.md");

        let body = "[x](@/cases/acme.md#timeline)";
        let link = only_link(body);
        assert_eq!(link.target, LinkTarget::Case { slug: "acme".into(), anchor: Some("timeline".into()) });
        assert_eq!(&body[link.range], "@/cases/acme.md#timeline");

        let body = "[x](@/cases/bundle/index.md)";
        let link = only_link(body);
        assert_eq!(link.target, LinkTarget::Case { slug: "bundle".into(), anchor: None });
        assert_eq!(&body[link.range], "@/cases/bundle/index.md");
    }

    #[test]
    fn org_and_technique_links() {
        let body = "[NTT](org:NTT%20Communications) and [NTT](<org:NTT Communications>)";
        let r = md(body);
        assert!(r.problems.is_empty());
        assert_eq!(r.links.len(), 2);
        for link in &r.links {
            assert_eq!(link.target, LinkTarget::Org("NTT Communications".into()));
        }
        assert_eq!(&body[r.links[0].range.clone()], "org:NTT%20Communications");
        assert_eq!(&body[r.links[1].range.clone()], "org:NTT Communications");
        // As writers write it: spaces, no brackets; in code it stays as written.
        let body = "See [NTT](org:NTT Communications) and `[x](org:A B)`.";
        let r = md(body);
        assert_eq!(r.links.len(), 1, "{:?}", r.links);
        assert_eq!(r.links[0].target, LinkTarget::Org("NTT Communications".into()));
        assert_eq!(&body[r.links[0].range.clone()], "org:NTT Communications");
        assert!(r.html.contains("<code>[x](org:A B)</code>"), "{}", r.html);

        let body = "[valid accounts](attack:T1078) [cloud](attack:T1078.004)";
        let r = md(body);
        assert_eq!(r.links[0].target, LinkTarget::Technique("T1078".into()));
        assert_eq!(r.links[1].target, LinkTarget::Technique("T1078.004".into()));
        assert_eq!(&body[r.links[1].range.clone()], "attack:T1078.004");
    }

    #[test]
    fn range_with_title_and_dest_in_text() {
        let body = "x [@/cases/a.md](@/cases/a.md 'a long title (with parens)') y";
        let link = only_link(body);
        assert_eq!(&body[link.range.clone()], "@/cases/a.md");
        assert_eq!(link.range.start, body.find("](").map_or(0, |i| i + 2));
        let body = "<attack:T1078>";
        assert_eq!(&body[only_link(body).range], "attack:T1078");
    }

    #[test]
    fn reference_link_range_is_whole_link() {
        let body = "See [acme][a].\n\n[a]: @/cases/acme.md\n";
        let link = only_link(body);
        assert_eq!(&body[link.range], "[acme][a]");
    }

    #[test]
    fn internal_link_emits_slots() {
        let r = md("[a **b**](@/cases/x.md \"T <1>\")");
        assert!(
            r.html.contains("<a href=\"\u{0}0\u{0}\" title=\"T &lt;1&gt;\">a <strong>b</strong></a\u{0}0\u{0}>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn invalid_internal_links() {
        for dest in ["@/cases/x", "@/posts/x.md", "@/cases/a/b.md", "@/cases/.md", "@/"] {
            let body = format!("[t]({dest})");
            let r = md(&body);
            assert!(r.links.is_empty(), "{dest}");
            assert_eq!(r.problems.len(), 1, "{dest}");
            let p = &r.problems[0];
            assert_eq!(p.code, LINK_INTERNAL_INVALID);
            assert!(p.message.contains("@/cases/SLUG.md"), "{}", p.message);
            assert_eq!(&body[p.range.clone()], dest);
            assert!(!r.html.contains("<a"), "{}", r.html);
            assert!(r.html.contains('t'));
        }
    }

    #[test]
    fn fill_slots_some_and_none() {
        let body = "[one](@/cases/a.md) [*two* `x`](org:B \"t\") [three](attack:T1)";
        let r = md(body);
        assert_eq!(r.links.len(), 3);
        let filled = fill_slots(&r.html, &[Some("/cases/a/?q=1&r=\"".into()), None, Some("/t/T1/".into())]);
        assert_eq!(
            filled,
            "<p><a href=\"/cases/a/?q=1&amp;r=&quot;\">one</a> <em>two</em> <code>x</code> \
             <a href=\"/t/T1/\">three</a></p>\n"
        );
        let none = fill_slots(&r.html, &[None, None, None]);
        assert_eq!(none, "<p>one <em>two</em> <code>x</code> three</p>\n");
        // Missing entries count as None.
        assert_eq!(fill_slots(&r.html, &[]), none);
    }

    #[test]
    fn fill_slots_link_in_heading_and_image_in_link() {
        let r = md("# See [![logo](logo.png) Acme](@/cases/acme.md)\n");
        let none = fill_slots(&r.html, &[None]);
        assert_eq!(none, "<h1 id=\"see-logo-acme\">See <img src=\"logo.png\" alt=\"logo\" /> Acme</h1>\n");
        let some = fill_slots(&r.html, &[Some("/a/".into())]);
        assert!(some.contains("<a href=\"/a/\"><img"), "{some}");
        assert!(some.ends_with("Acme</a></h1>\n"), "{some}");
    }

    #[test]
    fn link_inside_image_alt_is_text() {
        let r = md("![see [x](@/cases/a.md)](pic.png)");
        assert!(r.links.is_empty());
        assert!(!r.html.contains('\0'));
        assert!(r.html.contains("alt=\"see x\""), "{}", r.html);
    }

    #[test]
    fn fill_slots_stray_nul_is_replaced() {
        assert_eq!(fill_slots("a\0b\u{0}12\u{0}c", &[]), "a\u{FFFD}b\u{FFFD}12\u{FFFD}c");
    }

    #[test]
    fn refused_schemes() {
        let cases = [
            ("javascript:alert(1)", "javascript"),
            ("JavaScript:alert(1)", "javascript"),
            ("<java\tscript:alert(1)>", "javascript"),
            ("<\u{1}javascript:alert(1)>", "javascript"),
            ("&#x20;javascript:alert(1)", "javascript"),
            ("java&#10;script:alert(1)", "javascript"),
            ("jav&#x09;ascript&colon;alert(1)", "javascript"),
            ("vbscript:msgbox", "vbscript"),
            ("DATA:text/html;base64,PHNjcmlwdD4=", "data"),
        ];
        for (dest, scheme) in cases {
            for body in [format!("[click *me*]({dest})"), format!("![alt text]({dest})")] {
                let r = md(&body);
                assert_eq!(r.problems.len(), 1, "{body}: {:?}", r.problems);
                let p = &r.problems[0];
                assert_eq!(p.code, LINK_SCHEME_REFUSED);
                assert!(p.message.contains(&format!("`{scheme}:`")), "{}", p.message);
                assert_eq!(p.hint.as_deref(), Some("use an http(s) link"));
                assert!(!r.html.contains("href"), "{}", r.html);
                assert!(!r.html.contains("<img"), "{}", r.html);
                assert!(r.html.contains("click <em>me</em>") || r.html.contains("alt text"));
            }
        }
        let r = md("<javascript:alert(1)>");
        assert_eq!(r.problems[0].code, LINK_SCHEME_REFUSED);
        assert!(!r.html.contains("<a"));
    }

    #[test]
    fn allowed_links_and_relative_images() {
        let r = md("[a](https://x.org) [b](http://x) [c](mailto:a@b.c) [d](../x) [e](#f) ![i](img/shot.png)");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        for part in [
            "href=\"https://x.org\"",
            "href=\"http://x\"",
            "href=\"mailto:a@b.c\"",
            "href=\"../x\"",
            "href=\"#f\"",
            "src=\"img/shot.png\"",
        ] {
            assert!(r.html.contains(part), "{part} in {}", r.html);
        }
    }

    #[test]
    fn internal_forms_in_images_are_problems() {
        let r = md("![alt](@/cases/a.md)");
        assert_eq!(r.problems[0].code, LINK_INTERNAL_INVALID);
        assert!(!r.html.contains("<img"));
        assert!(r.links.is_empty());
    }

    #[test]
    fn raw_html_escaped_by_default() {
        let body = "<script>alert(1)</script>\n\nHi <b onclick=\"x\">there</b>\n";
        let r = md(body);
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", r.html);
        assert!(
            r.html.contains("&lt;b onclick=\"x\"&gt;there&lt;/b&gt;")
                || r.html.contains("&lt;b onclick=&quot;x&quot;&gt;"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<b "));

        let r = render(body, &Options { unsafe_html: true });
        assert!(r.html.contains("<script>alert(1)</script>"), "{}", r.html);
        assert!(r.html.contains("<b onclick=\"x\">there</b>"), "{}", r.html);
    }

    #[test]
    fn script_in_code_block_stays_escaped() {
        for body in [
            "```html\n<script>alert(1)</script>\n```\n",
            "```\n<script>alert(1)</script>\n```\n",
            "```nosuchlang\n<script>alert(1)</script>\n```\n",
            "    <script>alert(1)</script>\n",
            "`<script>`",
        ] {
            for unsafe_html in [false, true] {
                let r = render(body, &Options { unsafe_html });
                assert!(!r.html.contains("<script"), "{body}: {}", r.html);
            }
        }
    }

    #[test]
    fn heading_attributes_other_than_id_and_class_dropped() {
        let r = md("# Hi {#top .big onclick=alert(1)}\n");
        assert_eq!(r.html, "<h1 id=\"top\" class=\"big\">Hi</h1>\n");
        let r = render("# Hi {data-x=1}\n", &Options { unsafe_html: true });
        assert!(r.html.contains("data-x=\"1\""), "{}", r.html);
    }

    #[test]
    fn heading_ids() {
        let r = md("# Initial Access\n\n## 初始访问 与 横向移动\n\n## Initial access\n\n### Initial_Access!\n\n## Explicit {#my-id}\n\n## ???\n\n## `code` & *emph*\n");
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "initial-access",
                "初始访问-与-横向移动",
                "initial-access-1",
                "initial-access-2",
                "my-id",
                "section",
                "code-emph"
            ]
        );
        assert_eq!(r.headings[0].level, 1);
        assert_eq!(r.headings[3].level, 3);
        assert_eq!(r.headings[6].text, "code & emph");
        assert!(r.html.contains("<h2 id=\"初始访问-与-横向移动\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"my-id\">Explicit</h2>"), "{}", r.html);
    }

    #[test]
    fn duplicate_ids_skip_taken_suffixes() {
        let r = md("# A-1\n\n# A\n\n# A\n\n# A\n");
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a-1", "a", "a-2", "a-3"]);
    }

    fn assert_highlighted(lang: &str, code: &str) {
        let r = md(&format!("```{lang}\n{code}\n```\n"));
        assert!(
            r.html.starts_with(&format!("<pre class=\"code\" data-lang=\"{lang}\"><code><span class=\"hl-")),
            "{}",
            r.html
        );
        assert!(r.html.contains("hl-"), "{}", r.html);
        assert!(r.html.ends_with("</code></pre>\n"));
    }

    #[test]
    fn highlighting() {
        assert_highlighted("rust", "fn main() { let x = \"<hi>\"; }");
        assert_highlighted("toml", "[server]\nport = 8080");
        assert_highlighted("tf", "resource \"aws_s3_bucket\" \"b\" {}");
        assert_highlighted("shell", "curl -s https://x | sh");
        // PowerShell is why we build syntect with Oniguruma: two-face has it only there.
        assert_highlighted("powershell", "Get-Process | Where-Object { $_.CPU -gt 10 }");
        let r = md("```rust\nlet s = \"<script>\";\n```\n");
        assert!(r.html.contains("&lt;script&gt;"), "{}", r.html);
    }

    #[test]
    fn plain_code_blocks() {
        let r = md("```\na < b\n```\n");
        assert_eq!(r.html, "<pre class=\"code\"><code>a &lt; b\n</code></pre>\n");
        let r = md("```nosuch\"lang\nx\n```\n");
        assert_eq!(r.html, "<pre class=\"code\" data-lang=\"nosuch&quot;lang\"><code>x\n</code></pre>\n");
    }

    #[test]
    fn css_and_themes() {
        let themes = highlight::theme_names();
        assert!(themes.contains(&"InspiredGitHub".to_string()));
        assert!(themes.contains(&"Nord".to_string()));
        assert!(themes.windows(2).all(|w| w[0] < w[1]));
        let css = highlight_css("InspiredGitHub", "Nord").expect("known themes");
        assert!(css.contains("@media (prefers-color-scheme: dark) {"));
        assert!(css.contains(".hl-"));
        assert!(css.contains("pre.code {"));
        let err = highlight_css("NoSuchTheme", "Nord").unwrap_err();
        assert!(err.contains("NoSuchTheme") && err.contains("Nord"), "{err}");
    }

    #[test]
    fn tables_wrapped() {
        let r = md("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(r.html.starts_with("<div class=\"table-wrap\"><table>"), "{}", r.html);
        assert!(r.html.ends_with("</table>\n</div>\n"), "{}", r.html);
    }

    #[test]
    fn nul_replaced_and_ranges_kept() {
        let body = "a\0b [x](\0@/cases/q.md) [y](@/cases/q.md)\0";
        let r = md(body);
        assert!(!r.html.contains('\0') || r.html.matches('\0').count() == 4, "{:?}", r.html);
        assert!(r.html.contains("a\u{FFFD}b"));
        let filled = fill_slots(&r.html, &[None, None]);
        assert!(!filled.contains('\0'));
        assert_eq!(r.links.len(), 1);
        assert_eq!(&body[r.links[0].range.clone()], "@/cases/q.md");
        assert_eq!(r.links[0].range.start, body.rfind("@/").unwrap_or(0));
        // A NUL cannot forge a slot.
        let r = md("<a href=\"\u{0}0\u{0}\">x</a\u{0}0\u{0}>");
        assert_eq!(fill_slots(&r.html, &[Some("/ok/".into())]), r.html);
    }

    #[test]
    fn plain_text() {
        let r = md("# Title\n\nSome *emphasis*\nand `code`.\n\n```sh\nrm -rf  /\n```\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n");
        assert_eq!(r.text, "Title Some emphasis and code. rm -rf / a b x y 1 2");
    }

    #[test]
    fn footnotes_strikethrough_tasks() {
        let r = md("~~gone~~ [^1]\n\n- [x] done\n\n[^1]: note\n");
        assert!(r.html.contains("<del>gone</del>"));
        assert!(r.html.contains("footnote-reference"));
        assert!(r.html.contains("checkbox"));
        let r = md("\"quotes\" -- dash");
        assert!(r.html.contains("&quot;quotes&quot; -- dash") || r.html.contains("\"quotes\" -- dash"));
    }

    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("<script>".to_string()),
            Just("<SCRIPT ".to_string()),
            Just("<scr".to_string()),
            Just("ipt>".to_string()),
            Just("[".to_string()),
            Just("](".to_string()),
            Just(")".to_string()),
            Just("![".to_string()),
            Just("@/cases/a.md".to_string()),
            Just("org:".to_string()),
            Just("attack:".to_string()),
            Just("javascript:".to_string()),
            Just("\0".to_string()),
            Just("\u{0}0\u{0}".to_string()),
            Just("```".to_string()),
            Just("`".to_string()),
            Just("\n".to_string()),
            Just("# ".to_string()),
            Just("{#".to_string()),
            Just("}".to_string()),
            Just("|".to_string()),
            Just("|---|".to_string()),
            Just("<".to_string()),
            Just(">".to_string()),
            Just("\"".to_string()),
            Just("&lt;".to_string()),
            Just("[^1]".to_string()),
            Just("    ".to_string()),
            any::<String>(),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn render_never_panics(body in any::<String>(), unsafe_html in any::<bool>()) {
            let r = render(&body, &Options { unsafe_html });
            let _ = fill_slots(&r.html, &[]);
        }

        #[test]
        fn safe_output_has_no_script_and_no_nul(body in hostile()) {
            let r = md(&body);
            prop_assert!(!r.html.to_ascii_lowercase().contains("<script"), "{:?}", r.html);
            let filled = fill_slots(&r.html, &vec![None; r.links.len()]);
            prop_assert!(!filled.contains('\0'), "{:?}", filled);
            prop_assert!(!filled.to_ascii_lowercase().contains("<script"));
            for link in &r.links {
                prop_assert!(body.get(link.range.clone()).is_some());
            }
            for p in &r.problems {
                prop_assert!(body.get(p.range.clone()).is_some());
            }
        }

        #[test]
        fn arbitrary_output_has_no_script(body in any::<String>()) {
            let r = md(&body);
            let filled = fill_slots(&r.html, &vec![None; r.links.len()]);
            prop_assert!(!filled.to_ascii_lowercase().contains("<script"));
            prop_assert!(!filled.contains('\0'));
        }
    }
}
