//! A case write-up: its front matter (FORMAT.md section 2) checked field by field.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::date::PartialDate;
use super::markdown::{self, is_http_url, Rendered};
use super::{front_matter, Checker};
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::ContentFile;

// TLP is the site's setting first (`[publish] tlp`); a case names one of its levels.
pub use crate::config::Tlp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Confirmed,
    Suspected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    #[default]
    Confirmed,
    Likely,
    Possible,
    Unconfirmed,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Confirmed => "confirmed",
            Confidence::Likely => "likely",
            Confidence::Possible => "possible",
            Confidence::Unconfirmed => "unconfirmed",
        }
    }
    /// Confirmed or likely: what counts as a case using a technique where counts are
    /// "confirmed and likely".
    pub fn is_firm(self) -> bool {
        matches!(self, Confidence::Confirmed | Confidence::Likely)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorType {
    Domain,
    Ip,
    Url,
    Email,
    Sha256,
    Sha1,
    Md5,
    File,
}

/// Counts of what was exposed. Each is optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub records: Option<u64>,
    pub people: Option<u64>,
    pub organizations: Option<u64>,
    pub accounts: Option<u64>,
}

impl Counts {
    /// (key, value) of the counts given, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("records", self.records),
            ("people", self.people),
            ("organizations", self.organizations),
            ("accounts", self.accounts),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }
}

// ---- The front matter as written (serde), before checking. ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    // Required, but checked by us: a missing one must not hide the file's other problems.
    title: Option<Spanned<String>>,
    date: Option<Spanned<toml::Value>>,
    organizations: Option<Spanned<Vec<Spanned<String>>>>,
    summary: Option<String>,
    lang: Option<Spanned<String>>,
    translation_of: Option<Spanned<String>>,
    updated: Option<Spanned<toml::Value>>,
    #[serde(default)]
    draft: bool,
    publish_after: Option<Spanned<toml::Value>>,
    tlp: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    related: Vec<Spanned<String>>,
    #[serde(default)]
    incident: RawIncident,
    #[serde(default)]
    impact: RawImpact,
    #[serde(default)]
    techniques: Vec<RawTechnique>,
    #[serde(default)]
    timeline: Vec<RawTimeline>,
    #[serde(default)]
    indicators: Vec<RawIndicator>,
    #[serde(default)]
    references: Vec<RawReference>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIncident {
    #[serde(default)]
    status: Status,
    #[serde(default)]
    sectors: Vec<Spanned<String>>,
    #[serde(default)]
    countries: Vec<Spanned<String>>,
    #[serde(default)]
    actors: Vec<Spanned<String>>,
    /// Which of `actors` are individual people (optional; see FORMAT.md).
    #[serde(default)]
    individuals: Vec<Spanned<String>>,
    ransomware: Option<bool>,
    started: Option<Spanned<toml::Value>>,
    detected: Option<Spanned<toml::Value>>,
    contained: Option<Spanned<toml::Value>>,
    disclosed: Option<Spanned<toml::Value>>,
    notified: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawImpact {
    records: Option<u64>,
    people: Option<u64>,
    organizations: Option<u64>,
    accounts: Option<u64>,
    #[serde(default)]
    data_types: Vec<Spanned<String>>,
    #[serde(default)]
    revisions: Vec<RawRevision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRevision {
    date: Spanned<toml::Value>,
    records: Option<u64>,
    people: Option<u64>,
    organizations: Option<u64>,
    accounts: Option<u64>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTechnique {
    id: Spanned<String>,
    tactic: Option<Spanned<String>>,
    #[serde(default)]
    confidence: Confidence,
    name: Option<Spanned<String>>,
    evidence: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeline {
    date: Spanned<toml::Value>,
    event: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    #[serde(rename = "type")]
    kind: IndicatorType,
    value: Spanned<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    url: Spanned<String>,
    title: Option<String>,
    publisher: Option<String>,
    date: Option<Spanned<toml::Value>>,
    lang: Option<Spanned<String>>,
}

// ---- The checked case, handed to resolve. ----

/// A string with its byte range in the file, for messages from later stages.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Located {
    pub value: String,
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    pub slug: String,
    /// Not in the build cache, which keeps the parse by the text's hash: the engine links
    /// the file it loaded.
    #[serde(skip)]
    pub file: Arc<SourceFile>,
    pub title: String,
    pub date: jiff::civil::Date,
    pub organizations: Vec<Located>,
    pub summary: Option<String>,
    pub lang: Option<String>,
    pub translation_of: Option<Located>,
    pub updated: Option<jiff::civil::Date>,
    pub draft: bool,
    pub publish_after: Option<jiff::Timestamp>,
    pub tlp: Tlp,
    pub tags: Vec<Located>,
    pub related: Vec<Located>,
    pub incident: Incident,
    pub impact: Impact,
    pub techniques: Vec<TechniqueUse>,
    pub timeline: Vec<TimelineEntry>,
    pub indicators: Vec<Indicator>,
    pub references: Vec<Reference>,
    pub body: Rendered,
    /// Where the body starts in the file: Markdown ranges are relative to it.
    pub body_offset: usize,
    /// The front matter could not be read at all: only the slug and file are real. Kept so
    /// that what refers to it is not reported as a second, misleading error.
    pub unreadable: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Incident {
    pub status: Status,
    pub sectors: Vec<Located>,
    /// Upper-case ISO 3166-1 alpha-2 codes.
    pub countries: Vec<Located>,
    pub actors: Vec<Located>,
    /// The `actors` that are individual people, as written in `individuals`.
    pub individuals: Vec<Located>,
    pub ransomware: Option<bool>,
    pub started: Option<PartialDate>,
    pub detected: Option<PartialDate>,
    pub contained: Option<PartialDate>,
    pub disclosed: Option<PartialDate>,
    pub notified: Option<PartialDate>,
}

impl Incident {
    /// The incident dates in their natural order, as (key, date).
    pub fn dates(&self) -> impl Iterator<Item = (&'static str, PartialDate)> + '_ {
        [
            ("started", self.started),
            ("detected", self.detected),
            ("contained", self.contained),
            ("disclosed", self.disclosed),
            ("notified", self.notified),
        ]
        .into_iter()
        .filter_map(|(k, d)| d.map(|d| (k, d)))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Impact {
    pub counts: Counts,
    pub data_types: Vec<Located>,
    pub revisions: Vec<Revision>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revision {
    pub date: PartialDate,
    pub counts: Counts,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TechniqueUse {
    pub id: Located,
    pub tactic: Option<Located>,
    pub confidence: Confidence,
    pub name: Option<Located>,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub date: PartialDate,
    pub event: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Indicator {
    pub kind: IndicatorType,
    pub value: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reference {
    pub url: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub date: Option<PartialDate>,
    pub lang: Option<String>,
}

impl Case {
    /// A case whose front matter could not be read: its slug and file only.
    fn unreadable(content: &ContentFile) -> Case {
        Case {
            slug: content.slug.clone(),
            file: content.file.clone(),
            title: String::new(),
            date: jiff::civil::date(1970, 1, 1),
            organizations: Vec::new(),
            summary: None,
            lang: None,
            translation_of: None,
            updated: None,
            draft: true,
            publish_after: None,
            tlp: Tlp::Red,
            tags: Vec::new(),
            related: Vec::new(),
            incident: Incident::default(),
            impact: Impact::default(),
            techniques: Vec::new(),
            timeline: Vec::new(),
            indicators: Vec::new(),
            references: Vec::new(),
            body: Rendered::default(),
            body_offset: 0,
            unreadable: true,
        }
    }

    /// Whether parsing the file on `day` says what parsing it on `parsed_on` said. Parse
    /// warns of the dates after the day it runs ([`date_order`]): the same, unless one
    /// of them falls between the two days.
    pub fn reads_the_same_on(&self, parsed_on: jiff::civil::Date, day: jiff::civil::Date) -> bool {
        let (from, to) = (parsed_on.min(day), parsed_on.max(day));
        let firsts = self.incident.dates().filter_map(|(_, d)| d.earliest());
        !std::iter::once(self.date).chain(firsts).any(|d| from < d && d <= to)
    }

    /// When the case happened, for ordering and `/years/`: the first known of
    /// detected, started, disclosed, then the write-up's date.
    pub fn happened(&self) -> PartialDate {
        let i = &self.incident;
        i.detected.or(i.started).or(i.disclosed).unwrap_or_else(|| exact_day(self.date))
    }
}

/// What `casebook new case` writes for the writer to replace: title, organization,
/// summary, reference URL and title, body. Left in a case that is not a draft, each is
/// an error (`placeholder-left`).
pub const PLACEHOLDERS: [&str; 6] = [
    "Organization: what was exposed",
    "Organization name",
    "One or two sentences: who was hit, what was exposed, how it was found.",
    "https://example.org/announcement",
    "The organization's announcement",
    "What happened, how it was found, what was exposed, how the organization responded.",
];

/// Placeholder text of `casebook new case` left in a case about to be published.
fn placeholders(case: &Case, c: &mut Checker) {
    let [title, org, summary, url, ref_title, body] = PLACEHOLDERS;
    let file = case.file.clone();
    let mut left = |what: &str, at: Option<std::ops::Range<usize>>| {
        let d =
            Diagnostic::error("placeholder-left", format!("{what} is still the placeholder of `casebook new case`"))
                .hint("write the case's own, or keep `draft = true` until it is ready");
        c.diags.push(match at {
            Some(r) => d.at(&file, r),
            None => d.in_file(&file),
        });
    };
    let find = |needle: &str| file.text().find(needle).map(|i| i..i + needle.len());
    if case.title == title {
        left("the title", find(title));
    }
    if case.organizations.iter().any(|o| o.value == org) {
        left("the organization", find(org));
    }
    if case.summary.as_deref() == Some(summary) {
        left("the summary", find(summary));
    }
    if case.references.iter().any(|r| r.url == url || r.title.as_deref() == Some(ref_title)) {
        left("a reference", find(url).or_else(|| find(ref_title)));
    }
    if let Some(r) = file.text().get(case.body_offset..).and_then(|b| b.find(body)) {
        let start = case.body_offset + r;
        left("the text", Some(start..start + body.len()));
    }
}

/// Parses and checks one case file on its own.
pub fn parse(content: &ContentFile, md: &markdown::Options) -> (Option<Case>, Vec<Diagnostic>) {
    let file = &content.file;
    let (raw, split, toml_errors) = match front_matter::<RawCase>(file) {
        Ok(v) => v,
        Err(ds) => return (Some(Case::unreadable(content)), ds),
    };
    let mut c = Checker::new(file, split.toml_offset);
    c.diags.extend(toml_errors);

    let fences = 0..3;
    let missing = |c: &mut Checker, key: &str, example: &str| {
        // Taken out for a wrong value: that error says so already.
        if c.diags.iter().any(|d| d.message.starts_with(&format!("`{key}` "))) {
            return;
        }
        c.diags.push(
            Diagnostic::error("front-matter-invalid", format!("`{key}` is missing: every case needs one"))
                .at(file, fences.clone())
                .hint(format!("add a line such as {example}")),
        );
    };
    if raw.title.is_none() {
        missing(&mut c, "title", "title = \"Acme: customer records exposed\"");
    }
    if raw.date.is_none() {
        missing(&mut c, "date", "date = 2025-03-14 (when this write-up was published)");
    }
    if raw.organizations.is_none() {
        missing(&mut c, "organizations", "organizations = [\"Acme\"] (the victims)");
    }
    let title = raw.title.map(|t| c.text(t, "title")).unwrap_or_default();
    let date = raw.date.as_ref().and_then(|d| civil_date(&mut c, d, "date"));
    let given_organizations = raw.organizations.is_some();
    let raw_organizations = raw.organizations.unwrap_or_else(|| Spanned::new(0..0, Vec::new()));
    if given_organizations && raw_organizations.get_ref().is_empty() {
        c.error(
            "organizations-missing",
            raw_organizations.span(),
            "a case needs at least one organization (the victim)",
            Some("write organizations = [\"Example Corp\"]"),
        );
    }
    let organizations = c.names(raw_organizations.into_inner(), "organization");
    let lang = raw.lang.map(|l| checked_lang(&mut c, l));
    let translation_of = raw.translation_of.map(|s| case_slug(c.located(s)));
    let updated = raw.updated.as_ref().and_then(|v| civil_date(&mut c, v, "updated"));
    let publish_after = raw.publish_after.as_ref().and_then(|v| instant(&mut c, v));
    let tlp = match raw.tlp {
        None => Tlp::Clear,
        Some(s) => Tlp::parse(s.get_ref()).unwrap_or_else(|| {
            let levels = ["clear", "green", "amber", "amber+strict", "red"];
            let hint = match crate::toml_input::did_you_mean(s.get_ref(), levels) {
                // TLP 1.0's WHITE is 2.0's CLEAR, but the writer says which they mean.
                _ if s.get_ref().eq_ignore_ascii_case("white") => "TLP 2.0 calls TLP 1.0's WHITE \"clear\": write \
                     tlp = \"clear\"; until then the case is treated as TLP:RED"
                    .to_string(),
                Some(near) => format!(
                    "did you mean \"{near}\"? the levels are clear, green, amber, amber+strict, red; \
                     until then the case is treated as TLP:RED"
                ),
                None => "use clear, green, amber, amber+strict or red; until then the case is treated as TLP:RED"
                    .to_string(),
            };
            c.error("tlp-invalid", s.span(), format!("unknown TLP level {:?}", s.get_ref()), Some(&hint));
            // An unknown level must never be published: treat it as the strictest.
            Tlp::Red
        }),
    };
    let tags = c.names(raw.tags, "tag");
    let related: Vec<Located> = c.names(raw.related, "related case").into_iter().map(case_slug).collect();

    let mut ri = raw.incident;
    let countries = c.countries(std::mem::take(&mut ri.countries));
    let pdate = |c: &mut Checker, v: &Option<Spanned<toml::Value>>| v.as_ref().and_then(|v| partial_date(c, v));
    let actors = c.names(std::mem::take(&mut ri.actors), "actor");
    let mut individuals = Vec::new();
    for s in std::mem::take(&mut ri.individuals) {
        if actors.iter().any(|a| a.value.trim().eq_ignore_ascii_case(s.get_ref().trim())) {
            individuals.push(c.located(s));
        } else {
            c.error(
                "individual-not-actor",
                s.span(),
                format!("individual {:?} is not one of this case's actors", s.get_ref()),
                Some("list the person in `actors` too; `individuals` only says which actors are people"),
            );
        }
    }
    let incident = Incident {
        status: ri.status,
        sectors: c.names(std::mem::take(&mut ri.sectors), "sector"),
        countries,
        actors,
        individuals,
        ransomware: ri.ransomware,
        started: pdate(&mut c, &ri.started),
        detected: pdate(&mut c, &ri.detected),
        contained: pdate(&mut c, &ri.contained),
        disclosed: pdate(&mut c, &ri.disclosed),
        notified: pdate(&mut c, &ri.notified),
    };

    let date_at = date.zip(raw.date.as_ref().map(|d| d.span()));
    date_order(&mut c, &incident, &ri, updated.zip(raw.updated.as_ref()), date_at);

    let rimp = raw.impact;
    let mut revisions = Vec::new();
    for r in rimp.revisions {
        if let Some(date) = partial_date(&mut c, &r.date) {
            let counts =
                Counts { records: r.records, people: r.people, organizations: r.organizations, accounts: r.accounts };
            revisions.push(Revision { date, counts, note: r.note });
        }
    }
    revisions.sort_by(|a, b| a.date.sort_cmp(&b.date));
    let impact = Impact {
        counts: Counts {
            records: rimp.records,
            people: rimp.people,
            organizations: rimp.organizations,
            accounts: rimp.accounts,
        },
        data_types: c.names(rimp.data_types, "data type"),
        revisions,
    };

    let mut techniques = Vec::new();
    for t in raw.techniques {
        let id = t.id.get_ref().trim().to_ascii_uppercase();
        if !is_technique_id(&id) {
            c.error(
                "technique-id-invalid",
                t.id.span(),
                format!("{:?} is not an ATT&CK technique id", t.id.get_ref()),
                Some("technique ids look like T1078 or T1078.004"),
            );
            continue;
        }
        techniques.push(TechniqueUse {
            id: Located { value: id, span: c.span(t.id.span()) },
            tactic: t.tactic.map(|s| c.located(s)),
            confidence: t.confidence,
            name: t.name.map(|s| c.located(s)),
            evidence: t.evidence.filter(|e| !e.trim().is_empty()),
        });
    }

    let mut timeline = Vec::new();
    for t in raw.timeline {
        if let Some(date) = partial_date(&mut c, &t.date) {
            let event = c.text(t.event, "timeline event");
            timeline.push(TimelineEntry { date, event });
        }
    }
    // Stable sort: entries on the same date keep the order they were written in.
    timeline.sort_by(|a, b| a.date.sort_cmp(&b.date));

    let mut indicators = Vec::new();
    for i in raw.indicators {
        let span = i.value.span();
        let value = c.text(i.value, "indicator value");
        if value.is_empty() {
            continue;
        }
        // Stored fanged, once: the page defangs it, the exports need it as it is.
        let value = refang(&value);
        match check_indicator(i.kind, &value) {
            Ok(value) => indicators.push(Indicator { kind: i.kind, value, note: i.note }),
            Err((message, hint)) => c.error("indicator-invalid", span, message, Some(&hint)),
        }
    }

    let mut references = Vec::new();
    for r in raw.references {
        let url = r.url.get_ref().trim();
        if !is_http_url(url) {
            c.error(
                "reference-url-invalid",
                r.url.span(),
                format!("reference URL {url:?} is not an http or https URL"),
                Some("references take absolute http:// or https:// URLs only"),
            );
            continue;
        }
        let title = r.title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        if title.is_none() {
            // Readers get a bare address instead of "Title, Publisher, date".
            let mut d = Diagnostic::warning("reference-untitled", format!("reference {url} has no title"))
                .at(c.file, c.span(r.url.span()));
            d = d.hint("add `title = \"...\"` as the source itself titles it, so the reference reads \"Title, Publisher, date\"");
            c.diags.push(d);
        }
        let date = r.date.as_ref().and_then(|d| partial_date(&mut c, d));
        let lang = r.lang.map(|l| checked_lang(&mut c, l));
        references.push(Reference { url: url.to_string(), title, publisher: r.publisher, date, lang });
    }

    let body = markdown::render(split.body, md);
    c.body_problems(&body, split.body_offset);

    // Kept even with errors, so later stages report theirs too; errors stop the write.
    let value = Case {
        slug: content.slug.clone(),
        file: file.clone(),
        title,
        date: date.unwrap_or(jiff::civil::date(1970, 1, 1)),
        organizations,
        summary: raw.summary.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        lang,
        translation_of,
        updated,
        draft: raw.draft,
        publish_after,
        tlp,
        tags,
        related,
        incident,
        impact,
        techniques,
        timeline,
        indicators,
        references,
        body,
        body_offset: split.body_offset,
        unreadable: false,
    };
    if !value.draft {
        placeholders(&value, &mut c);
    }
    (Some(value), c.diags)
}

/// Dates that cannot be: found before it began, disclosed before found, in the future.
/// Warnings (errors under `--strict`): a source may really say so, but usually it is a typo.
/// The dates compared with today are those [`Case::reads_the_same_on`] looks at.
fn date_order(
    c: &mut Checker,
    incident: &Incident,
    raw: &RawIncident,
    updated: Option<(jiff::civil::Date, &Spanned<toml::Value>)>,
    date: Option<(jiff::civil::Date, std::ops::Range<usize>)>,
) {
    let span = |v: &Option<Spanned<toml::Value>>| v.as_ref().map_or(0..0, |v| v.span());
    let warn = |c: &mut Checker, at: std::ops::Range<usize>, message: String, hint: &str| {
        c.diags.push(Diagnostic::warning("date-order", message).at(c.file, c.span(at)).hint(hint));
    };
    let i = incident;
    let pairs = [
        (i.detected, &raw.detected, "detected", i.started, "started"),
        (i.disclosed, &raw.disclosed, "disclosed", i.detected, "detected"),
        (i.disclosed, &raw.disclosed, "disclosed", i.started, "started"),
        (i.contained, &raw.contained, "contained", i.started, "started"),
        (i.notified, &raw.notified, "notified", i.started, "started"),
    ];
    for (late, late_raw, late_key, early, early_key) in pairs {
        if let (Some(l), Some(e)) = (late, early) {
            if l.surely_before(&e) {
                let message = format!("{late_key} ({}) is before {early_key} ({})", l.to_iso(), e.to_iso());
                warn(c, span(late_raw), message, "check both dates against the sources; one of them is likely a typo");
            }
        }
    }
    let today = jiff::Zoned::now().date();
    for (key, d, raw) in [
        ("started", i.started, &raw.started),
        ("detected", i.detected, &raw.detected),
        ("contained", i.contained, &raw.contained),
        ("disclosed", i.disclosed, &raw.disclosed),
        ("notified", i.notified, &raw.notified),
    ] {
        if let Some(d) = d.filter(|d| d.earliest().is_some_and(|f| f > today)) {
            warn(
                c,
                span(raw),
                format!("{key} ({}) is in the future", d.to_iso()),
                "an incident date is when it happened; check the year",
            );
        }
    }
    if let Some((d, at)) = date.clone().filter(|(d, _)| *d > today) {
        warn(
            c,
            at,
            format!("date ({d}) is in the future"),
            "date is when the write-up was published; to publish it later, use publish_after",
        );
    }
    if let (Some((u, raw)), Some((d, _))) = (updated, date) {
        if u < d {
            warn(
                c,
                raw.span(),
                format!("updated ({u}) is before the write-up's date ({d})"),
                "updated is when the write-up was last changed",
            );
        }
    }
}

/// A case named as writers name it: `NTT-2020`, `ntt-2020.md` are the slug `ntt-2020`
/// (slugs are lower case, so nothing else could be meant).
fn case_slug(mut l: Located) -> Located {
    l.value = l.value.strip_suffix(".md").unwrap_or(&l.value).to_ascii_lowercase();
    l
}

/// A calendar day as a partial date of day precision.
pub fn exact_day(d: jiff::civil::Date) -> PartialDate {
    PartialDate { qualifier: super::date::Qualifier::Exact, year: d.year(), month: Some(d.month()), day: Some(d.day()) }
}

/// An indicator as it really is, whether written fanged (`203.0.113.7`) or defanged
/// (`203.0.113[.]7`, `hxxps://evil[.]example`, `ops[@]example.org`).
pub fn refang(value: &str) -> String {
    let mut v = value.trim().to_string();
    for (from, to) in [
        ("[://]", "://"),
        ("[:]", ":"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("\\.", "."),
        ("[@]", "@"),
        ("[at]", "@"),
        ("(at)", "@"),
    ] {
        if v.contains(from) {
            v = v.replace(from, to);
        }
    }
    let lower = v.to_ascii_lowercase();
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://"), ("fxp://", "ftp://")] {
        if lower.starts_with(from) {
            v = format!("{to}{}", &v[from.len()..]);
        }
    }
    v
}

/// Checks an indicator of its type; the value as kept (hashes lower-case).
fn check_indicator(kind: IndicatorType, v: &str) -> Result<String, (String, String)> {
    let bad = |what: &str, hint: &str| Err((format!("{v:?} is not {what}"), hint.to_string()));
    if v.chars().any(char::is_whitespace) && kind != IndicatorType::File {
        return bad("one indicator: it has a space", "write one indicator per [[indicators]] entry");
    }
    match kind {
        IndicatorType::Ip => {
            if is_ip(v) {
                Ok(v.to_string())
            } else {
                bad("an IP address", "write an IPv4 or IPv6 address (203.0.113.7, 2001:db8::1), optionally /prefix")
            }
        }
        IndicatorType::Domain => {
            if is_domain(v) {
                Ok(v.to_string())
            } else if is_ip(v) {
                bad("a domain name", "this is an IP address: write type = \"ip\"")
            } else if v.contains("://") || v.contains('/') {
                bad("a domain name", "this is a URL: write type = \"url\", or keep only the host name")
            } else {
                bad("a domain name", "write a host name such as evil.example.com")
            }
        }
        IndicatorType::Url => {
            let (scheme, rest) = v.split_once("://").unwrap_or(("", v));
            let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let host = match host.strip_prefix('[').and_then(|h| h.split_once(']')) {
                Some((v6, _)) => v6,
                None => host
                    .rsplit_once(':')
                    .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
                    .map_or(host, |(h, _)| h),
            };
            if scheme_ok && (is_domain(host) || is_ip(host) || host == "localhost") {
                Ok(v.to_string())
            } else {
                bad("a URL", "write the whole URL with its scheme, e.g. https://evil.example/login.php")
            }
        }
        IndicatorType::Email => match v.rsplit_once('@') {
            Some((user, host)) if !user.is_empty() && is_domain(host) => Ok(v.to_string()),
            _ => bad("an email address", "write e.g. ops@evil.example"),
        },
        IndicatorType::Md5 | IndicatorType::Sha1 | IndicatorType::Sha256 => {
            let (name, len) = match kind {
                IndicatorType::Md5 => ("an MD5 hash", 32),
                IndicatorType::Sha1 => ("a SHA-1 hash", 40),
                _ => ("a SHA-256 hash", 64),
            };
            let hex = v.chars().all(|c| c.is_ascii_hexdigit());
            if hex && v.len() == len {
                return Ok(v.to_ascii_lowercase());
            }
            let actual = match (hex, v.len()) {
                (true, 32) => " (32 hex digits: an MD5 hash, type = \"md5\")",
                (true, 40) => " (40 hex digits: a SHA-1 hash, type = \"sha1\")",
                (true, 64) => " (64 hex digits: a SHA-256 hash, type = \"sha256\")",
                _ => "",
            };
            Err((format!("{v:?} is not {name}{actual}"), format!("{name} is {len} hexadecimal digits (0-9, a-f)")))
        }
        IndicatorType::File => Ok(v.to_string()),
    }
}

/// IPv4 or IPv6, with an optional `/prefix` (a network).
fn is_ip(v: &str) -> bool {
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (v, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|n| n <= max))
}

/// A host name of two or more labels (letters of any script, digits, `-`, `_`).
fn is_domain(v: &str) -> bool {
    let v = v.strip_suffix('.').unwrap_or(v);
    let labels: Vec<&str> = v.split('.').collect();
    labels.len() >= 2
        && v.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
        && !labels.last().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
}

pub fn is_technique_id(id: &str) -> bool {
    let b = id.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

/// A BCP 47 tag from the IANA registry (the same rule as the site's `language`).
fn checked_lang(c: &mut Checker, s: Spanned<String>) -> String {
    let v = s.get_ref().trim();
    if let Err((message, hint)) = crate::config::language_tag(v) {
        c.error("lang-invalid", s.span(), message, Some(&hint));
    }
    v.to_string()
}

/// A TOML date (or a `YYYY-MM-DD` string) as a calendar day.
fn civil_date(c: &mut Checker, v: &Spanned<toml::Value>, what: &str) -> Option<jiff::civil::Date> {
    let hint = Some("write a date such as 2025-03-14 (no quotes)");
    let parsed = match v.get_ref() {
        toml::Value::Datetime(dt) => dt.date.map(|d| (d.year as i16, d.month as i8, d.day as i8)),
        toml::Value::String(s) => PartialDate::parse(s)
            .ok()
            .filter(|d| d.precision() == super::date::Precision::Day && d.qualifier == super::date::Qualifier::Exact)
            .map(|d| (d.year, d.month.unwrap_or(1), d.day.unwrap_or(1))),
        _ => None,
    };
    use super::date::{MAX_YEAR, MIN_YEAR};
    match parsed.and_then(|(y, m, d)| jiff::civil::Date::new(y, m, d).ok()) {
        // The same years as incident dates: outside them, a typo (`0202`, `20025`).
        Some(d) if !(MIN_YEAR..=MAX_YEAR).contains(&d.year()) => {
            let message = format!("{what}: the year {} is not between {MIN_YEAR} and {MAX_YEAR}", d.year());
            c.error("date-invalid", v.span(), message, Some("a typo in the year?"));
            None
        }
        Some(d) => Some(d),
        None => {
            c.error("date-invalid", v.span(), format!("{what} must be a calendar date"), hint);
            None
        }
    }
}

/// An incident or timeline date: a TOML date or a partial-date string.
fn partial_date(c: &mut Checker, v: &Spanned<toml::Value>) -> Option<PartialDate> {
    let result = match v.get_ref() {
        toml::Value::Datetime(dt) => PartialDate::from_toml_datetime(dt),
        toml::Value::String(s) => PartialDate::parse(s),
        toml::Value::Integer(y) => PartialDate::parse(&y.to_string()),
        _ => Err("expected a date such as 2019, \"2019-09\" or 2019-09-14".to_string()),
    };
    match result {
        Ok(d) => Some(d),
        Err(msg) => {
            c.error(
                "date-invalid",
                v.span(),
                msg,
                Some("partial dates are strings: \"2019\", \"2019-09\", \"~2019-09\", \">2019-09\", \"<2020\""),
            );
            None
        }
    }
}

/// `publish_after`: an RFC 3339 instant, or a date (midnight UTC).
fn instant(c: &mut Checker, v: &Spanned<toml::Value>) -> Option<jiff::Timestamp> {
    let text = match v.get_ref() {
        toml::Value::Datetime(dt) => dt.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => String::new(),
    };
    // A date alone is midnight UTC; a date and time without a zone is no instant at all
    // (jiff would read its date and drop the time: an embargo lifted hours early).
    let parsed = text.parse::<jiff::Timestamp>().ok().or_else(|| {
        (text.len() == "YYYY-MM-DD".len())
            .then(|| text.parse::<jiff::civil::Date>().ok())
            .flatten()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    });
    if parsed.is_none() {
        c.error(
            "date-invalid",
            v.span(),
            "publish_after must be an instant with a time zone, or a date",
            Some("write e.g. publish_after = 2025-03-05T09:00:00Z"),
        );
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_text(text: &str) -> (Option<Case>, Vec<Diagnostic>) {
        let content = ContentFile { slug: "x".into(), file: SourceFile::new("content/cases/x.md", text) };
        parse(&content, &markdown::Options::default())
    }

    const KEYS: &[&str] = &[
        "title = \"t\"",
        "date = 2025-01-01",
        "organizations = [\"A\"]",
        "tlp = \"amber\"",
        "[incident]",
        "started = \">2019-09\"",
        "detected = \"2019-13\"",
        "countries = [\"JP\", \"zz\"]",
        "[[techniques]]",
        "id = \"T1078\"",
        "id = \"x\"",
        "[[references]]",
        "url = \"https://a.example\"",
        "url = 3",
        "[impact]",
        "people = -1",
        "records = 5",
        "[[timeline]]",
        "date = 2020",
        "event = \"\"",
        "publish_after = 2999-01-01",
    ];

    proptest! {
        /// Any text: a case or diagnostics, never a panic, and every span inside the file.
        #[test]
        fn any_text_gives_a_result(text in "\\PC{0,300}") {
            let (_, diags) = parse_text(&text);
            for d in diags {
                if let Some(loc) = d.location {
                    if let Some(r) = loc.range { prop_assert!(r.end <= text.len()); }
                }
            }
        }

        /// Front matter made of real keys in any order and combination.
        #[test]
        fn any_front_matter_gives_a_result(lines in proptest::collection::vec(proptest::sample::select(KEYS), 0..20), body in "\\PC{0,100}") {
            let text = format!("+++\n{}\n+++\n{body}", lines.join("\n"));
            let (case, diags) = parse_text(&text);
            prop_assert!(case.is_some() || !diags.is_empty());
        }
    }

    /// Each date parse compares with today: a parse warned of it while it was to come, and
    /// reads otherwise from the day it comes.
    #[test]
    fn a_parse_reads_the_same_until_a_date_it_warned_of_comes() {
        let today = jiff::Zoned::now().date();
        let tomorrow = today.tomorrow().unwrap();
        let keys = ["date", "started", "detected", "contained", "disclosed", "notified"];
        for key in keys {
            let (date, incident) =
                if key == "date" { (tomorrow, String::new()) } else { (today, format!("{key} = {tomorrow}")) };
            let text =
                format!("+++\ntitle = \"t\"\ndate = {date}\norganizations = [\"A\"]\n[incident]\n{incident}\n+++\n");
            let (case, diags) = parse_text(&text);
            assert!(diags.iter().any(|d| d.message.contains("in the future")), "{key}: {diags:?}");
            let case = case.unwrap();
            assert!(case.reads_the_same_on(today, today), "{key}");
            assert!(!case.reads_the_same_on(today, tomorrow), "{key}: the warning goes tomorrow");
        }
        let (case, _) = parse_text("+++\ntitle = \"t\"\ndate = 2020-01-01\norganizations = [\"A\"]\n+++\n");
        assert!(case.unwrap().reads_the_same_on(today, tomorrow.tomorrow().unwrap()));
    }

    #[test]
    fn indicators_are_refanged_once_and_checked() {
        assert_eq!(refang("198.51.100[.]23"), "198.51.100.23");
        assert_eq!(refang("hxxps://evil[.]example/a"), "https://evil.example/a");
        assert_eq!(refang("ops[@]evil[.]example"), "ops@evil.example");
        assert_eq!(refang("2001[:]db8::1"), "2001:db8::1");
        let ok = |k, v: &str| check_indicator(k, v).is_ok();
        assert!(ok(IndicatorType::Ip, "198.51.100.23") && ok(IndicatorType::Ip, "2001:db8::1"));
        assert!(ok(IndicatorType::Ip, "203.0.113.0/24") && !ok(IndicatorType::Ip, "203.0.113.0/33"));
        assert!(!ok(IndicatorType::Ip, "198.51.100.300") && !ok(IndicatorType::Ip, "evil.example"));
        assert!(ok(IndicatorType::Domain, "evil.example.com") && !ok(IndicatorType::Domain, "evil"));
        assert!(ok(IndicatorType::Url, "http://x.example/<script>") && !ok(IndicatorType::Url, "x"));
        assert!(
            ok(IndicatorType::Url, "https://[2001:db8::1]:8443/x")
                && ok(IndicatorType::Url, "http://198.51.100.7:8080/")
        );
        assert!(ok(IndicatorType::Email, "a@b.example") && !ok(IndicatorType::Email, "a@b"));
        assert!(ok(IndicatorType::Md5, &"A".repeat(32)) && !ok(IndicatorType::Md5, &"a".repeat(40)));
        assert!(!ok(IndicatorType::Sha256, &"g".repeat(64)));
        assert_eq!(check_indicator(IndicatorType::Sha1, &"AB".repeat(20)).unwrap(), "ab".repeat(20));
    }

    #[test]
    fn unknown_tlp_is_never_published() {
        let (case, diags) =
            parse_text("+++\ntitle = \"t\"\ndate = 2025-01-01\norganizations = [\"A\"]\ntlp = \"purple\"\n+++\n");
        assert_eq!(case.unwrap().tlp, Tlp::Red);
        assert_eq!(diags[0].code, "tlp-invalid");
    }

    #[test]
    fn an_embargo_is_an_instant_or_a_date() {
        let embargo = |v: &str| {
            let (case, diags) = parse_text(&format!(
                "+++\ntitle = \"t\"\ndate = 2025-01-01\norganizations = [\"A\"]\npublish_after = {v}\n+++\n"
            ));
            (
                case.and_then(|c| c.publish_after).map(|t| t.to_string()),
                diags.iter().map(|d| d.code.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(embargo("2099-01-01T09:00:00+09:00"), (Some("2099-01-01T00:00:00Z".into()), vec![]));
        assert_eq!(embargo("\"2099-01-01T09:00:00Z\""), (Some("2099-01-01T09:00:00Z".into()), vec![]));
        assert_eq!(embargo("2099-01-01"), (Some("2099-01-01T00:00:00Z".into()), vec![]));
        // No zone: which instant is meant is unknown, so it is an error, not UTC.
        for local in ["2099-01-01T09:00:00", "\"2099-01-01T09:00:00\"", "\"2099-01-01 09:00\""] {
            let (_, codes) = embargo(local);
            assert_eq!(codes, ["date-invalid"], "{local}");
        }
    }

    #[test]
    fn a_write_up_date_is_within_the_years_of_incidents() {
        for year in ["0000-01-01", "1066-10-14", "2999-01-01"] {
            let (_, diags) = parse_text(&format!("+++\ntitle = \"t\"\ndate = {year}\norganizations = [\"A\"]\n+++\n"));
            assert!(diags.iter().any(|d| d.message.contains("is not between 1900 and 2200")), "{year}: {diags:?}");
        }
    }
}
