//! A case write-up: its front matter (FORMAT.md section 2) checked field by field.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::date::PartialDate;
use super::markdown::{self, Rendered};
use super::{front_matter, Checker};
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::ContentFile;

/// TLP 2.0 levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Tlp {
    #[serde(rename = "clear")]
    Clear,
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    pub fn parse(s: &str) -> Option<Tlp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

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
    title: Spanned<String>,
    date: Spanned<toml::Value>,
    organizations: Spanned<Vec<Spanned<String>>>,
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
#[derive(Debug, Clone)]
pub struct Located {
    pub value: String,
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub slug: String,
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
}

#[derive(Debug, Clone, Default)]
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

#[derive(Debug, Clone, Default)]
pub struct Impact {
    pub counts: Counts,
    pub data_types: Vec<Located>,
    pub revisions: Vec<Revision>,
}

#[derive(Debug, Clone)]
pub struct Revision {
    pub date: PartialDate,
    pub counts: Counts,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TechniqueUse {
    pub id: Located,
    pub tactic: Option<Located>,
    pub confidence: Confidence,
    pub name: Option<Located>,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub date: PartialDate,
    pub event: String,
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub kind: IndicatorType,
    pub value: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Reference {
    pub url: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub date: Option<PartialDate>,
    pub lang: Option<String>,
}

impl Case {
    /// When the case happened, for ordering and `/years/`: the first known of
    /// detected, started, disclosed, then the write-up's date.
    pub fn happened(&self) -> PartialDate {
        let i = &self.incident;
        i.detected.or(i.started).or(i.disclosed).unwrap_or_else(|| exact_day(self.date))
    }
}

/// Parses and checks one case file on its own.
pub fn parse(content: &ContentFile, md: &markdown::Options) -> (Option<Case>, Vec<Diagnostic>) {
    let file = &content.file;
    let (raw, split) = match front_matter::<RawCase>(file) {
        Ok(v) => v,
        Err(d) => return (None, vec![d]),
    };
    let mut c = Checker::new(file, split.toml_offset);

    let title = c.text(raw.title, "title");
    let date = civil_date(&mut c, &raw.date, "date");
    if raw.organizations.get_ref().is_empty() {
        c.error(
            "organizations-missing",
            raw.organizations.span(),
            "a case needs at least one organization (the victim)",
            Some("write organizations = [\"Example Corp\"]"),
        );
    }
    let organizations = c.names(raw.organizations.into_inner(), "organization");
    let lang = raw.lang.map(|l| checked_lang(&mut c, l));
    let translation_of = raw.translation_of.map(|s| c.located(s));
    let updated = raw.updated.as_ref().and_then(|v| civil_date(&mut c, v, "updated"));
    let publish_after = raw.publish_after.as_ref().and_then(|v| instant(&mut c, v));
    let tlp = match raw.tlp {
        None => Tlp::Clear,
        Some(s) => Tlp::parse(s.get_ref()).unwrap_or_else(|| {
            c.error(
                "tlp-invalid",
                s.span(),
                format!("unknown TLP level {:?}", s.get_ref()),
                Some("use clear, green, amber, amber+strict or red"),
            );
            // An unknown level must never be published: treat it as the strictest.
            Tlp::Red
        }),
    };
    let tags = c.names(raw.tags, "tag");
    let related = c.names(raw.related, "related case");

    let ri = raw.incident;
    let countries = c.countries(ri.countries);
    let pdate = |c: &mut Checker, v: &Option<Spanned<toml::Value>>| v.as_ref().and_then(|v| partial_date(c, v));
    let actors = c.names(ri.actors, "actor");
    let mut individuals = Vec::new();
    for s in ri.individuals {
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
        sectors: c.names(ri.sectors, "sector"),
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
        let value = c.text(i.value, "indicator value");
        indicators.push(Indicator { kind: i.kind, value, note: i.note });
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
        let date = r.date.as_ref().and_then(|d| partial_date(&mut c, d));
        let lang = r.lang.map(|l| checked_lang(&mut c, l));
        references.push(Reference { url: url.to_string(), title: r.title, publisher: r.publisher, date, lang });
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
    };
    (Some(value), c.diags)
}

/// A calendar day as a partial date of day precision.
pub fn exact_day(d: jiff::civil::Date) -> PartialDate {
    PartialDate { qualifier: super::date::Qualifier::Exact, year: d.year(), month: Some(d.month()), day: Some(d.day()) }
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

pub fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !url.chars().any(|c| c.is_whitespace() || c.is_control()))
}

/// BCP 47, loosely: letters, digits and `-`, starting with 2-3 letters.
fn checked_lang(c: &mut Checker, s: Spanned<String>) -> String {
    let v = s.get_ref().trim();
    let primary = v.split('-').next().unwrap_or("");
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|ch| ch.is_ascii_alphabetic())
        && v.split('-').all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|ch| ch.is_ascii_alphanumeric()));
    if !ok {
        c.error(
            "lang-invalid",
            s.span(),
            format!("{v:?} is not a language tag"),
            Some("use a BCP 47 tag such as \"en\", \"zh\", \"ja\" or \"zh-Hant\""),
        );
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
    match parsed.and_then(|(y, m, d)| jiff::civil::Date::new(y, m, d).ok()) {
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
    let parsed = text.parse::<jiff::Timestamp>().ok().or_else(|| {
        text.parse::<jiff::civil::Date>()
            .ok()
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

    #[test]
    fn unknown_tlp_is_never_published() {
        let (case, diags) =
            parse_text("+++\ntitle = \"t\"\ndate = 2025-01-01\norganizations = [\"A\"]\ntlp = \"purple\"\n+++\n");
        assert_eq!(case.unwrap().tlp, Tlp::Red);
        assert_eq!(diags[0].code, "tlp-invalid");
    }
}
