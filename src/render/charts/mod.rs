//! Charts drawn at build time as inline SVG: the numbers come from [`stats`], the
//! drawing from [`svg`]. Each chart reaches templates as a [`chart`] value: the SVG (safe
//! HTML, with its own title and description), and a data table with the same numbers for
//! screen readers, print and tests (`data-value` on every number).
//!
//! Everything is deterministic (same site, same bytes) and linear in the number of cases.

pub mod stats;
pub mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use serde_json::{json, Value};

use self::stats::{SpanStats, Summary};
use self::svg::{marker, num, Svg};
use super::filters::group_digits;
use super::i18n::{tr, trf};
use crate::parse::date::{PartialDate, Precision, Qualifier, Span};
use crate::resolve::{Site, SiteCase};
use crate::urls::{self, Kind};

/// Per-case marks and rows a statistics chart shows at most: past this, a chart of every
/// case is a wall nobody reads (10,000 cases made /statistics/ a 12 MB page), so it
/// shows the largest and says so; `/api/cases.json` has every figure.
pub const MAX_LISTED: usize = 100;

/// `{id, title, svg, note, table: {caption, columns, rows: [[{text, url, value}]]}}`.
fn chart(id: &str, title: &str, svg: String, note: Option<String>, columns: &[&str], rows: Vec<Vec<Value>>) -> Value {
    json!({
        "id": id,
        "title": title,
        "svg": svg,
        "note": note,
        "table": {"caption": title, "columns": columns, "rows": rows},
    })
}

/// A table cell: text, optional link, optional machine value.
fn cell(text: impl Into<String>, url: Option<String>, value: Option<Value>) -> Value {
    let value = match value {
        Some(Value::String(s)) => s,
        Some(v) => v.to_string(),
        None => String::new(),
    };
    json!({"text": text.into(), "url": url, "value": value})
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t = t.trim_end().to_string();
        t.push('…');
        t
    }
}

// ---------- Dates on an axis ----------

const EPOCH: Date = Date::constant(1900, 1, 1);

/// Days since 1900-01-01.
fn day_num(d: Date) -> i32 {
    d.since(EPOCH).map(|s| s.get_days()).unwrap_or(0)
}

fn ymd(y: i16, m: i8, d: i8) -> Date {
    Date::new(y, m, d).unwrap_or(EPOCH)
}

/// First and last day the date names, ignoring the qualifier (day numbers).
fn period(d: &PartialDate) -> (i32, i32) {
    match (d.month, d.day) {
        (Some(m), Some(day)) => {
            let x = day_num(ymd(d.year, m, day));
            (x, x)
        }
        (Some(m), None) => {
            let first = ymd(d.year, m, 1);
            (day_num(first), day_num(first.last_of_month()))
        }
        _ => (day_num(ymd(d.year, 1, 1)), day_num(ymd(d.year, 12, 31))),
    }
}

/// Where a date may lie, as drawn: `lo..=hi`, and whether a side is open (`>`: open to
/// the right; `<`: open to the left). `~` widens the period a little on both sides.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    lo: i32,
    hi: i32,
    open_left: bool,
    open_right: bool,
}

fn window(d: &PartialDate) -> Window {
    let (first, last) = period(d);
    let pad = match d.precision() {
        Precision::Day => 7,
        Precision::Month => 15,
        Precision::Year => 90,
    };
    match d.qualifier {
        Qualifier::Exact => Window { lo: first, hi: last, open_left: false, open_right: false },
        Qualifier::About => Window { lo: first - pad, hi: last + pad, open_left: false, open_right: false },
        Qualifier::After => Window { lo: last + 1, hi: last + 1, open_left: false, open_right: true },
        Qualifier::Before => Window { lo: first - 1, hi: first - 1, open_left: true, open_right: false },
    }
}

/// How far back an open "before" start fades.
fn fade_len(d: &PartialDate) -> i32 {
    match d.precision() {
        Precision::Day => 60,
        Precision::Month => 120,
        Precision::Year => 365,
    }
}

/// A linear scale from day numbers to x.
#[derive(Debug, Clone, Copy)]
struct Scale {
    d0: i32,
    d1: i32,
    x0: f64,
    x1: f64,
}

impl Scale {
    fn x(&self, day: i32) -> f64 {
        let span = f64::from((self.d1 - self.d0).max(1));
        self.x0 + (f64::from(day - self.d0) / span) * (self.x1 - self.x0)
    }
}

/// The day range a case's bar covers (for the axis domain).
fn case_extent(case: &SiteCase) -> (i32, i32) {
    let mut lo = i32::MAX;
    let mut hi = i32::MIN;
    let inc = &case.case.incident;
    for (key, d) in inc.dates() {
        let w = window(&d);
        let l = if key == "started" && w.open_left { w.lo - fade_len(&d) } else { w.lo };
        lo = lo.min(l);
        hi = hi.max(w.hi);
    }
    if lo == i32::MAX {
        let (a, b) = period(&case.happened);
        return (a, b);
    }
    (lo, hi)
}

fn event_label(key: &str) -> String {
    match key {
        "started" | "detected" | "contained" | "disclosed" | "notified" => super::views::date_label(key),
        _ => tr("date.date"),
    }
}

/// A case's bar on a shared scale, centred on `y`: the uncertain start (dashed window,
/// or a fade for an open-ended `>`/`<` start), the solid stretch from the start to the
/// last event, and a marker per event. `uid` makes gradient ids unique on the page.
fn draw_case_bar(s: &mut Svg, case: &SiteCase, sc: &Scale, y: f64, h: f64, uid: &str) {
    let inc = &case.case.incident;
    let events: Vec<(&str, PartialDate)> = inc.dates().collect();
    if events.is_empty() {
        let (a, b) = period(&case.happened);
        if b > a {
            s.rect(sc.x(a), y - 1.5, sc.x(b) - sc.x(a), 3.0, "tl-window");
        }
        s.circle(sc.x((a + b) / 2), y, h * 0.32, "mk mk--date");
        return;
    }
    let later: Vec<(&str, Window)> =
        events.iter().filter(|(k, _)| *k != "started").map(|(k, d)| (*k, window(d))).collect();
    let last = events.iter().map(|(_, d)| window(d).hi).max().unwrap_or(0);
    let first_later = later.iter().map(|(_, w)| w.lo).min();
    let mut solid_from = first_later.unwrap_or(last);
    if let Some(start) = inc.started {
        let w = window(&start);
        if w.open_right {
            // Some time after: fades in from the earliest day to the next known event.
            let to = first_later.unwrap_or(w.lo).max(w.lo);
            let id = format!("{uid}-fade");
            s.raw(&format!(
                r#"<defs><linearGradient id="{id}"><stop offset="0" class="fade-from"/><stop offset="1" class="fade-to"/></linearGradient></defs>"#
            ));
            s.raw(&format!(
                r#"<rect class="tl-fade" x="{}" y="{}" width="{}" height="{}" fill="url(#{id})"/>"#,
                num(sc.x(w.lo)),
                num(y - h / 2.0),
                num((sc.x(to) - sc.x(w.lo)).max(2.0)),
                num(h)
            ));
            s.line(sc.x(w.lo), y - h / 2.0 - 2.0, sc.x(w.lo), y + h / 2.0 + 2.0, "tl-edge");
            solid_from = to;
        } else if w.open_left {
            // Some time before: fades back from the latest day it can have been.
            let from = w.hi - fade_len(&start);
            let id = format!("{uid}-fade");
            s.raw(&format!(
                r#"<defs><linearGradient id="{id}"><stop offset="0" class="fade-from"/><stop offset="1" class="fade-to"/></linearGradient></defs>"#
            ));
            s.raw(&format!(
                r#"<rect class="tl-fade" x="{}" y="{}" width="{}" height="{}" fill="url(#{id})"/>"#,
                num(sc.x(from)),
                num(y - h / 2.0),
                num((sc.x(w.hi) - sc.x(from)).max(2.0)),
                num(h)
            ));
            solid_from = w.hi;
        } else {
            if w.hi > w.lo {
                s.rect(sc.x(w.lo), y - h / 2.0, sc.x(w.hi) - sc.x(w.lo), h, "tl-uncertain");
            }
            solid_from = match first_later {
                Some(f) => w.hi.min(f),
                None => w.hi,
            };
            if w.hi == w.lo {
                s.line(sc.x(w.lo), y - h / 2.0 - 2.0, sc.x(w.lo), y + h / 2.0 + 2.0, "tl-edge");
            }
        }
    }
    if last > solid_from {
        s.rect(sc.x(solid_from), y - h / 2.0, sc.x(last) - sc.x(solid_from), h, "tl-bar");
    }
    for (key, w) in &later {
        if w.hi > w.lo {
            s.rect(sc.x(w.lo), y - 1.0, sc.x(w.hi) - sc.x(w.lo), 2.0, "tl-window");
        }
        marker(s, key, sc.x((w.lo + w.hi) / 2), y, h * 0.42);
    }
}

/// Tick marks for a day range: years, or months when shorter than three years, or weeks
/// when shorter than two months. (day, label).
fn ticks(d0: i32, d1: i32) -> Vec<(i32, String)> {
    let from = EPOCH.checked_add(jiff::Span::new().days(i64::from(d0))).unwrap_or(EPOCH);
    let to = EPOCH.checked_add(jiff::Span::new().days(i64::from(d1))).unwrap_or(EPOCH);
    let range = d1 - d0;
    let mut out = Vec::new();
    if range > 3 * 366 {
        let step = ((range / 365) / 12 + 1) as i16;
        let mut y = from.year() + 1;
        if from.month() == 1 && from.day() == 1 {
            y = from.year();
        }
        while y <= to.year() {
            if y % step == 0 || step == 1 {
                out.push((day_num(ymd(y, 1, 1)), y.to_string()));
            }
            y += 1;
        }
    } else if range > 60 {
        let months = range / 30;
        let step = months / 8 + 1;
        let mut m = from.first_of_month();
        if m < from {
            m = m.checked_add(jiff::Span::new().months(1)).unwrap_or(m);
        }
        while m <= to {
            let idx = i32::from(m.year()) * 12 + i32::from(m.month()) - 1;
            if idx % step == 0 {
                let label = if m.month() == 1 || out.is_empty() {
                    trf("chart.month_year", &[("mon", short_month(m.month())), ("year", m.year().to_string())])
                } else {
                    short_month(m.month())
                };
                out.push((day_num(m), label));
            }
            m = match m.checked_add(jiff::Span::new().months(1)) {
                Ok(n) => n,
                Err(_) => break,
            };
        }
    } else {
        let mut d = d0 + 1;
        while d < d1 {
            let date = EPOCH.checked_add(jiff::Span::new().days(i64::from(d))).unwrap_or(EPOCH);
            let label = trf("chart.day_month", &[("day", date.day().to_string()), ("mon", short_month(date.month()))]);
            out.push((d, label));
            d += 7;
        }
    }
    out
}

/// "Feb", "2月": a month on an axis, in the page's language.
fn short_month(m: i8) -> String {
    tr(&format!("month.m{}", m.clamp(1, 12)))
}

/// The events of a case as the timeline lists them in words.
fn case_events(case: &SiteCase, lang: &str) -> Vec<Value> {
    case.case
        .incident
        .dates()
        .map(|(k, d)| {
            let w = window(&d);
            json!({"key": k, "label": event_label(k), "display": d.display(lang), "iso": d.to_iso(),
                   "precision": d.precision(), "qualifier": d.qualifier, "lo": w.lo, "hi": w.hi})
        })
        .collect()
}

// ---------- /timeline/ ----------

const TL_W: f64 = 1000.0;
const TL_PAD: f64 = 8.0;

/// Every counted case on one axis, grouped by the year it happened (newest first).
/// A timeline row made into HTML as soon as it is built (the built-in theme's
/// `timeline-row.html`), so a site's thousands of rows are never all held as data.
/// Draws case `i`'s row as HTML from `row()` (made only when the row is not memoized),
/// on an axis from day `d0` to day `d1`.
pub type RowHtml<'a> =
    &'a dyn Fn(usize, (i32, i32), &dyn Fn() -> Value) -> Result<String, crate::diagnostics::Diagnostic>;

/// The timeline of the cases that happened in `year`.
pub fn timeline(
    site: &Site,
    card: &dyn Fn(usize) -> Value,
    row_html: Option<RowHtml>,
    year: i16,
) -> Result<Value, crate::diagnostics::Diagnostic> {
    let lang = &super::i18n::lang();
    let shown: Vec<usize> =
        (0..site.cases.len()).filter(|&i| site.cases[i].counted && site.cases[i].happened.year == year).collect();
    if shown.is_empty() {
        return Ok(json!({"years": [], "axis": null, "legend": site_legend(), "count": 0}));
    }
    let (mut d0, mut d1) = (i32::MAX, i32::MIN);
    for &i in &shown {
        let (a, b) = case_extent(&site.cases[i]);
        d0 = d0.min(a);
        d1 = d1.max(b);
    }
    // Whole years, so the axis starts and ends on a tick.
    let y0 = EPOCH.checked_add(jiff::Span::new().days(i64::from(d0))).unwrap_or(EPOCH).year();
    let y1 = EPOCH.checked_add(jiff::Span::new().days(i64::from(d1))).unwrap_or(EPOCH).year();
    let (d0, d1) = (day_num(ymd(y0, 1, 1)), day_num(ymd(y1 + 1, 1, 1)));
    let sc = Scale { d0, d1, x0: TL_PAD, x1: TL_W - TL_PAD };
    let year_ticks: Vec<(i32, String)> = (y0..=y1 + 1).map(|y| (day_num(ymd(y, 1, 1)), y.to_string())).collect();
    let label_every = ((y1 - y0 + 2) / 12 + 1).max(1);

    let mut axis = Svg::decorative("tl-axis", TL_W, 22.0);
    // The year lines every row shares, defined once here and drawn by reference: a
    // kilobyte a row otherwise (10 MB of a 10,000-case timeline). The lines have no
    // class of their own: they take the stroke of the `<use class="grid">` in each row.
    let mut grid = String::from(r#"<defs><g id="tl-grid">"#);
    for (d, _) in &year_ticks {
        let x = num(sc.x(*d));
        let _ = write!(grid, r#"<line x1="{x}" y1="0" x2="{x}" y2="22"/>"#);
    }
    grid.push_str("</g></defs>");
    axis.raw(&grid);
    for (k, (d, label)) in year_ticks.iter().enumerate() {
        axis.line(sc.x(*d), 14.0, sc.x(*d), 22.0, "tick");
        if k + 1 < year_ticks.len() && (k as i16) % label_every == 0 {
            // The label sits in the middle of its year.
            let mid = (sc.x(*d) + sc.x(year_ticks[k + 1].0)) / 2.0;
            axis.text(mid, 12.0, "middle", "tick-label", label);
        }
    }
    let axis = axis.finish();

    let mut years: Vec<(i16, Vec<Value>)> = Vec::new();
    for &i in &shown {
        let c = &site.cases[i];
        let make = || {
            let mut s = Svg::decorative("tl-row", TL_W, 22.0);
            s.raw(r##"<use class="grid" href="#tl-grid"/>"##);
            draw_case_bar(&mut s, c, &sc, 11.0, 12.0, &format!("tl-{}", c.case.slug));
            let (lo, hi) = case_extent(c);
            json!({
                "case": card(i),
                "svg": s.finish(),
                "events": case_events(c, lang),
                "lo": lo,
                "hi": hi,
            })
        };
        let row = match row_html {
            Some(f) => Value::String(f(i, (d0, d1), &make)?),
            None => make(),
        };
        match years.last_mut() {
            Some((y, rows)) if *y == c.happened.year => rows.push(row),
            _ => years.push((c.happened.year, vec![row])),
        }
    }
    let rows_key = if row_html.is_some() { "rows_html" } else { "cases" };
    Ok(json!({
        "count": shown.len(),
        "axis": axis,
        "legend": site_legend(),
        "start_year": y0,
        "end_year": y1,
        "years": years.into_iter().map(|(y, rows)| {
            let mut year = json!({"year": y, "url": urls::term(Kind::Years, &y.to_string()), "count": rows.len()});
            year[rows_key] = Value::Array(rows);
            year
        }).collect::<Vec<_>>(),
    }))
}

/// The timeline's index: `{count, years: [{year, count, url, cases_url, share}]}`, newest
/// first; `share` is the year's count against the busiest year's (0..=1], for its bar.
pub fn timeline_index(site: &Site) -> Value {
    let mut years: BTreeMap<i16, usize> = BTreeMap::new();
    for c in site.cases.iter().filter(|c| c.counted) {
        *years.entry(c.happened.year).or_default() += 1;
    }
    let max = years.values().copied().max().unwrap_or(1).max(1) as f64;
    json!({
        "count": years.values().sum::<usize>(),
        "legend": site_legend(),
        "years": years.iter().rev().map(|(&y, &n)| json!({
            "year": y, "count": n, "url": urls::timeline_year(y),
            "cases_url": urls::term(Kind::Years, &y.to_string()),
            "share": (n as f64 / max * 100.0).round() / 100.0,
            // A site's own timeline.html may list `cases` of every year: they are on
            // the year's page.
            "cases": [],
        })).collect::<Vec<_>>(),
    })
}

/// The years above each year's page: only which years have a page, not their counts, so
/// a case added to one year does not redraw the page of every other.
pub fn timeline_years(site: &Site) -> Value {
    years(site).iter().rev().map(|&y| json!({"year": y, "url": urls::timeline_year(y)})).collect()
}

/// The years the counted cases happened in: each has a page of the timeline.
pub fn years(site: &Site) -> std::collections::BTreeSet<i16> {
    site.cases.iter().filter(|c| c.counted).map(|c| c.happened.year).collect()
}

/// The keys of /timeline/, which draws no write-up's own events.
fn site_legend() -> Vec<Value> {
    legend_svg().into_iter().filter(|k| !k["key"].as_str().unwrap_or("").starts_with("entry")).collect()
}

/// The key to the marks of a timeline bar (decorative: the legend's words are next to it
/// in the template).
pub fn legend_svg() -> Vec<Value> {
    let mut out = Vec::new();
    let mut one = |key: &str, label: &str, draw: &dyn Fn(&mut Svg)| {
        let mut s = Svg::decorative("tl-key", 28.0, 16.0);
        draw(&mut s);
        out.push(json!({"key": key, "label": label, "svg": s.finish()}));
    };
    one("bar", &tr("legend.bar"), &|s| {
        s.rect(1.0, 3.0, 26.0, 10.0, "tl-bar");
    });
    one("uncertain", &tr("legend.uncertain"), &|s| {
        s.rect(1.0, 3.0, 26.0, 10.0, "tl-uncertain");
    });
    one("open", &tr("legend.open"), &|s| {
        s.raw(r#"<defs><linearGradient id="tl-key-fade"><stop offset="0" class="fade-from"/><stop offset="1" class="fade-to"/></linearGradient></defs>"#);
        s.raw(r#"<rect class="tl-fade" x="1" y="3" width="26" height="10" fill="url(#tl-key-fade)"/>"#);
    });
    for key in ["detected", "contained", "disclosed", "notified"] {
        let label = event_label(key).to_lowercase();
        one(key, &label, &|s| marker(s, key, 14.0, 8.0, 5.0));
    }
    one("date", &tr("legend.date"), &|s| {
        s.circle(14.0, 8.0, 4.0, "mk mk--date");
    });
    one("entry", &tr("legend.entry"), &|s| {
        s.circle(14.0, 8.0, 3.5, "tl-entry");
    });
    one("entry-range", &tr("legend.entry_range"), &|s| {
        s.raw(r#"<rect class="tl-entry-range" x="2" y="5" width="24" height="6" rx="3"/>"#);
    });
    out
}

// ---------- Case page ----------

/// The case's own timeline and its techniques on a mini matrix.
pub fn case_charts(site: &Site, i: usize) -> Value {
    json!({"timeline": case_timeline(site, i), "matrix": mini_matrix(site, i)})
}

fn case_timeline(site: &Site, i: usize) -> Option<Value> {
    let c = &site.cases[i];
    let lang = &super::i18n::lang();
    let entries: Vec<(Window, &str, String)> =
        c.case.timeline.iter().map(|t| (window(&t.date), t.event.as_str(), t.date.display(lang))).collect();
    if c.case.incident.dates().next().is_none() && entries.is_empty() {
        return None;
    }
    let (mut d0, mut d1) = if c.case.incident.dates().next().is_some() { case_extent(c) } else { (i32::MAX, i32::MIN) };
    for (w, _, _) in &entries {
        d0 = d0.min(w.lo);
        d1 = d1.max(w.hi);
    }
    let pad = ((d1 - d0) / 25).max(2);
    let (d0, d1) = (d0 - pad, d1 + pad);
    let (w, h) = (480.0, 74.0);
    let sc = Scale { d0, d1, x0: 10.0, x1: w - 10.0 };
    let id = format!("case-tl-{}", c.case.slug);
    let mut desc: Vec<String> =
        c.case.incident.dates().map(|(k, d)| format!("{}: {}", event_label(k), d.display(lang))).collect();
    if !entries.is_empty() {
        desc.push(trf("chart.events_under", &[("count", entries.len().to_string())]));
    }
    let mut s = Svg::new(
        &id,
        "case-tl",
        w,
        h,
        &trf("chart.timeline_of", &[("title", c.case.title.clone())]),
        &format!("{}.", desc.join("; ")),
    );
    for (d, label) in ticks(d0, d1) {
        s.line(sc.x(d), 8.0, sc.x(d), 52.0, "grid");
        s.text(sc.x(d), 68.0, "middle", "tick-label", &label);
    }
    s.line(sc.x0, 52.0, sc.x1, 52.0, "axis");
    if c.case.incident.dates().next().is_some() {
        draw_case_bar(&mut s, c, &sc, 22.0, 14.0, &id);
    }
    for (w, event, display) in &entries {
        // A vague date is drawn as the stretch it may lie in, never as one exact day.
        let (lo, hi) = if w.open_right {
            (w.lo, (w.lo + (d1 - d0) / 8).min(d1))
        } else if w.open_left {
            ((w.hi - (d1 - d0) / 8).max(d0), w.hi)
        } else {
            (w.lo, w.hi)
        };
        let tip = svg::esc(&format!("{display}: {event}"));
        if hi > lo {
            let cls =
                if w.open_left || w.open_right { "tl-entry-range tl-entry-range--open" } else { "tl-entry-range" };
            s.raw(&format!(
                r#"<rect class="{cls}" x="{}" y="39" width="{}" height="6" rx="3"><title>{tip}</title></rect>"#,
                num(sc.x(lo)),
                num((sc.x(hi) - sc.x(lo)).max(3.0)),
            ));
        } else {
            s.raw(&format!(
                r#"<circle class="tl-entry" cx="{}" cy="42" r="3.5"><title>{tip}</title></circle>"#,
                num(sc.x(lo))
            ));
        }
    }
    let rows: Vec<Vec<Value>> = c
        .case
        .incident
        .dates()
        .map(|(k, d)| {
            vec![cell(event_label(k), None, Some(json!(k))), cell(d.display(lang), None, Some(json!(d.to_iso())))]
        })
        .collect();
    let title = tr("chart.case_timeline");
    let mut v = chart(&id, &title, s.finish(), None, &[&tr("table.event"), &tr("date.date")], rows);
    v["legend"] = json!(case_legend(c, !entries.is_empty()));
    Some(v)
}

/// The keys of the case timeline: only what this case's chart draws.
fn case_legend(c: &SiteCase, has_entries: bool) -> Vec<Value> {
    let inc = &c.case.incident;
    let drawn: Vec<&str> = inc.dates().map(|(k, _)| k).collect();
    let started = inc.started.map(|d| window(&d));
    let vague_entry = c.case.timeline.iter().any(|t| {
        let w = window(&t.date);
        w.hi > w.lo || w.open_left || w.open_right
    });
    legend_svg()
        .into_iter()
        .filter(|k| match k["key"].as_str().unwrap_or("") {
            "bar" => drawn.len() > 1,
            "uncertain" => started.is_some_and(|w| w.hi > w.lo && !w.open_left && !w.open_right),
            "open" => started.is_some_and(|w| w.open_left || w.open_right),
            "date" => drawn.is_empty(),
            "entry" => has_entries,
            "entry-range" => vague_entry,
            key => drawn.contains(&key),
        })
        .collect()
}

/// Short column heads for the 14 Enterprise tactics.
fn tactic_abbrev(shortname: &str, name: &str) -> String {
    match shortname {
        "reconnaissance" => "Recon",
        "resource-development" => "Resource",
        "initial-access" => "Initial",
        "execution" => "Exec",
        "persistence" => "Persist",
        "privilege-escalation" => "Priv esc",
        "defense-evasion" => "Evasion",
        "stealth" => "Stealth",
        "credential-access" => "Creds",
        "discovery" => "Discovery",
        "lateral-movement" => "Lateral",
        "collection" => "Collect",
        "command-and-control" => "C2",
        "exfiltration" => "Exfil",
        "impact" => "Impact",
        _ => return name.chars().take(8).collect(),
    }
    .to_string()
}

fn mini_matrix(site: &Site, i: usize) -> Option<Value> {
    let c = &site.cases[i];
    let catalog = site.catalog;
    // Per tactic, (id, name, confidence) of each use under it.
    let mut cols: Vec<Vec<(String, String, &str)>> = vec![Vec::new(); catalog.tactics.len()];
    for (u, tactics) in c.case.techniques.iter().zip(&c.tactics) {
        let Some(tech) = catalog.technique(&u.id.value) else {
            continue;
        };
        for t in tactics {
            if let Some(k) = catalog.tactics.iter().position(|x| &x.shortname == t) {
                cols[k].push((tech.id.clone(), tech.name.clone(), u.confidence.as_str()));
            }
        }
    }
    let used: usize = cols.iter().map(Vec::len).sum();
    if used == 0 {
        return None;
    }
    let n = catalog.tactics.len().max(1);
    let (w, head, cell_h, gap) = (700.0, 36.0, 14.0, 3.0);
    let rows = cols.iter().map(Vec::len).max().unwrap_or(1);
    let h = head + rows as f64 * (cell_h + gap) + 4.0;
    let col_w = w / n as f64;
    let id = format!("case-mx-{}", c.case.slug);
    let desc: Vec<String> = catalog
        .tactics
        .iter()
        .zip(&cols)
        .filter(|(_, v)| !v.is_empty())
        .map(|(t, v)| {
            format!(
                "{}: {}",
                t.name,
                v.iter()
                    .map(|(id, name, conf)| format!("{id} {name} ({})", tr(&format!("confidence.{conf}"))))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let tactic_count = cols.iter().filter(|v| !v.is_empty()).count();
    let mut s = Svg::new(
        &id,
        "mini-matrix",
        w,
        h,
        &trf(
            "chart.mini_matrix_title",
            &[("count", used.to_string()), ("tactics", tactic_count.to_string()), ("total", n.to_string())],
        ),
        &format!("{}.", desc.join("; ")),
    );
    for (k, (t, v)) in catalog.tactics.iter().zip(&cols).enumerate() {
        let x = k as f64 * col_w;
        let cls = if v.is_empty() { "mm-head" } else { "mm-head mm-head--used" };
        s.text(x + col_w / 2.0, 14.0, "middle", cls, &tactic_abbrev(&t.shortname, &t.name));
        s.text(x + col_w / 2.0, 29.0, "middle", "mm-tid", &t.id);
        if v.is_empty() {
            s.rect(x + 2.0, head, col_w - 4.0, cell_h, "mm-empty");
        }
        for (r, (tid, name, conf)) in v.iter().enumerate() {
            let y = head + r as f64 * (cell_h + gap);
            s.rect_titled(
                x + 2.0,
                y,
                col_w - 4.0,
                cell_h,
                &format!("mm-cell conf-fill--{conf}"),
                &format!("{tid} {name} ({})", tr(&format!("confidence.{conf}"))),
            );
        }
    }
    let rows: Vec<Vec<Value>> = catalog
        .tactics
        .iter()
        .zip(&cols)
        .flat_map(|(t, v)| {
            v.iter().map(move |(tid, name, conf)| {
                vec![
                    cell(t.name.clone(), Some(urls::term(Kind::Tactics, &t.shortname)), Some(json!(t.shortname))),
                    cell(format!("{tid} {name}"), Some(urls::term(Kind::Techniques, tid)), Some(json!(tid))),
                    cell(tr(&format!("confidence.{conf}")), None, Some(json!(conf))),
                ]
            })
        })
        .collect();
    Some(chart(
        &id,
        &tr("chart.mini_matrix"),
        s.finish(),
        Some(tr("chart.mini_matrix_note")),
        &[&tr("table.tactic"), &tr("table.technique"), &tr("table.confidence")],
        rows,
    ))
}

// ---------- Organization page ----------

/// Its incidents over time, and how announced counts were revised. `cases`: oldest first.
pub fn org_charts(site: &Site, slug: &str, cases: &[usize]) -> Value {
    let lang = &super::i18n::lang();
    let incidents = (!cases.is_empty()).then(|| {
        let years: Vec<i16> = cases.iter().map(|&i| site.cases[i].happened.year).collect();
        let (y0, y1) =
            (years.iter().min().copied().unwrap_or(2000) - 1, years.iter().max().copied().unwrap_or(2000) + 1);
        let (d0, d1) = (day_num(ymd(y0, 1, 1)), day_num(ymd(y1, 12, 31)));
        let (w, h) = (320.0, 64.0);
        let sc = Scale { d0, d1, x0: 10.0, x1: w - 10.0 };
        let id = format!("org-inc-{slug}");
        let mut s = Svg::new(
            &id,
            "org-incidents",
            w,
            h,
            &trf("chart.incidents_over_time_n", &[("count", cases.len().to_string())]),
            &format!(
                "{}.",
                cases
                    .iter()
                    .map(|&i| format!("{}: {}", site.cases[i].happened.display(lang), site.cases[i].case.title))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        let label_every = ((y1 - y0 + 1) / 12 + 1).max(1);
        for y in y0..=y1 {
            let x = sc.x(day_num(ymd(y, 1, 1)));
            s.line(x, 6.0, x, 40.0, "grid");
            if (y - y0) % label_every == 0 {
                s.text(sc.x(day_num(ymd(y, 7, 1))), 58.0, "middle", "tick-label", &y.to_string());
            }
        }
        s.line(sc.x0, 40.0, sc.x1, 40.0, "axis");
        let mut stack: BTreeMap<i16, usize> = BTreeMap::new();
        for &i in cases {
            let c = &site.cases[i];
            let w = window(&c.happened);
            let level = stack.entry(c.happened.year).or_default();
            let y = 30.0 - *level as f64 * 11.0;
            *level += 1;
            s.raw(&format!(
                r#"<circle class="dot" cx="{}" cy="{}" r="5"><title>{}</title></circle>"#,
                num(sc.x((w.lo + w.hi) / 2)),
                num(y),
                svg::esc(&format!("{}: {}", c.happened.display(lang), c.case.title))
            ));
        }
        let rows = cases
            .iter()
            .map(|&i| {
                let c = &site.cases[i];
                vec![
                    cell(c.happened.display(lang), None, Some(json!(c.happened.to_iso()))),
                    cell(c.case.title.clone(), Some(c.url.clone()), None),
                ]
            })
            .collect();
        chart(&id, &tr("chart.incidents_over_time"), s.finish(), None, &[&tr("table.when"), &tr("table.case")], rows)
    });
    let mut revisions = Vec::new();
    for &i in cases {
        let c = &site.cases[i];
        if c.case.impact.revisions.is_empty() {
            continue;
        }
        for (key, latest) in c.case.impact.counts.iter() {
            let points: Vec<(&PartialDate, u64, Option<&str>)> = c
                .case
                .impact
                .revisions
                .iter()
                .filter_map(|r| r.counts.iter().find(|(k, _)| *k == key).map(|(_, v)| (&r.date, v, r.note.as_deref())))
                .collect();
            if points.is_empty() {
                continue;
            }
            revisions.push(step_chart(c, key, latest, &points));
        }
    }
    json!({"incidents": incidents, "revisions": revisions})
}

fn step_chart(c: &SiteCase, key: &str, latest: u64, points: &[(&PartialDate, u64, Option<&str>)]) -> Value {
    let lang = &super::i18n::lang();
    let latest_figure = tr("chart.latest_figure");
    let mut pts: Vec<(Option<&PartialDate>, u64, Option<&str>)> =
        points.iter().map(|&(d, v, n)| (Some(d), v, n)).collect();
    if pts.last().map(|p| p.1) != Some(latest) {
        pts.push((None, latest, Some(&latest_figure)));
    }
    let (w, h, left, top, bottom) = (440.0, 180.0, 70.0, 16.0, 150.0);
    // Announcements evenly spaced, in order: their dates are labels, not a time scale
    // (two figures a week apart would otherwise overlap).
    let step = (w - 20.0 - left - 60.0) / (pts.len().max(2) - 1) as f64;
    let max = pts.iter().map(|p| p.1).max().unwrap_or(1).max(1) as f64;
    let yv = |v: u64| bottom - (v as f64 / (max * 1.15)) * (bottom - top);
    let id = format!("rev-{}-{key}", c.case.slug);
    let label = tr(&format!("impact_word.{key}"));
    let latest_word = tr("date.latest");
    let words: Vec<String> = pts
        .iter()
        .map(|(d, v, _)| format!("{} {}", d.map_or(latest_word.clone(), |d| d.display(lang)), group_digits(*v as i128)))
        .collect();
    let mut s = Svg::new(
        &id,
        "step-chart",
        w,
        h,
        &trf("chart.announced_in", &[("label", label.clone()), ("title", c.case.title.clone())]),
        &trf("chart.announced_desc", &[("label", label.clone()), ("list", words.join(&tr("chart.then")))]),
    );
    for t in nice_ticks(0.0, max * 1.15, 4) {
        let y = bottom - (t / (max * 1.15)) * (bottom - top);
        s.line(left, y, w - 20.0, y, "grid");
        s.text(left - 6.0, y + 4.0, "end", "tick-label", &short_number(t));
    }
    s.line(left, bottom, w - 20.0, bottom, "axis");
    let xs: Vec<f64> = (0..pts.len()).map(|k| left + 40.0 + k as f64 * step).collect();
    let mut line = Vec::new();
    for (k, p) in pts.iter().enumerate() {
        if k > 0 {
            line.push((xs[k], yv(pts[k - 1].1)));
        }
        line.push((xs[k], yv(p.1)));
    }
    s.path(&line, false, "step");
    for (k, p) in pts.iter().enumerate() {
        s.circle(xs[k], yv(p.1), 4.0, "dot");
        s.text(xs[k], yv(p.1) - 8.0, "middle", "value-label", &group_digits(p.1 as i128));
        if let Some(d) = p.0 {
            s.text(xs[k], bottom + 16.0, "middle", "tick-label", &d.display(lang));
        } else {
            s.text(xs[k], bottom + 16.0, "middle", "tick-label", &latest_word);
        }
    }
    let rows = pts
        .iter()
        .map(|(d, v, note)| {
            vec![
                cell(d.map_or(latest_word.clone(), |d| d.display(lang)), None, d.map(|d| json!(d.to_iso()))),
                cell(group_digits(*v as i128), None, Some(json!(v))),
                cell(note.unwrap_or(""), None, None),
            ]
        })
        .collect();
    let mut v = chart(
        &id,
        &trf("chart.announced_title", &[("label", label.clone()), ("title", c.case.title.clone())]),
        s.finish(),
        None,
        &[&tr("date.date"), &super::views::count_label(key), &tr("table.note")],
        rows,
    );
    v["case"] = json!({"title": c.case.title, "url": c.url});
    v["key"] = json!(key);
    v
}

// ---------- /statistics/ ----------

/// `1200` -> `1.2k`, `147000000` -> `147M`.
fn short_number(v: f64) -> String {
    let (d, suffix) = if v >= 1e9 {
        (1e9, "B")
    } else if v >= 1e6 {
        (1e6, "M")
    } else if v >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let x = v / d;
    let t = if (x - x.round()).abs() < 0.05 { format!("{}", x.round()) } else { format!("{x:.1}") };
    format!("{t}{suffix}")
}

/// About `n` round tick values from `lo` to `hi` (1, 2, 5 times a power of ten).
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let range = (hi - lo).max(1.0);
    let raw = range / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag).max(1.0);
    let mut out = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi + 1e-9 {
        out.push(t);
        t += step;
    }
    out
}

/// Horizontal bars with labels and values.
fn hbar(id: &str, title: &str, desc_unit: &str, bars: &[stats::Bar], label_w: f64) -> String {
    let (w, row, top) = (320.0, 22.0, 6.0);
    let h = top * 2.0 + row * bars.len().max(1) as f64;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(1).max(1) as f64;
    let (x0, x1) = (label_w, w - 44.0);
    let desc = bars
        .iter()
        .map(|b| format!("{}: {}", b.label, trf(desc_unit, &[("count", group_digits(b.value as i128))])))
        .collect::<Vec<_>>()
        .join("; ");
    let mut s = Svg::new(id, "hbar", w, h, title, &format!("{desc}."));
    s.line(x0, 0.0, x0, h, "axis");
    for (k, b) in bars.iter().enumerate() {
        let y = top + k as f64 * row;
        s.text(x0 - 8.0, y + row / 2.0 + 4.0, "end", "bar-label", &truncate(&b.label, (label_w / 7.6) as usize));
        let bw = (b.value as f64 / max) * (x1 - x0);
        s.rect(x0, y + 3.0, bw, row - 6.0, "bar");
        s.text(x0 + bw + 6.0, y + row / 2.0 + 4.0, "start", "value-label", &group_digits(b.value as i128));
    }
    s.finish()
}

/// Table rows of a bar chart: (label with its key, count).
fn bar_rows(bars: &[stats::Bar]) -> Vec<Vec<Value>> {
    bars.iter()
        .map(|b| {
            vec![
                cell(b.label.clone(), b.url.clone(), Some(json!(b.key))),
                cell(group_digits(b.value as i128), None, Some(json!(b.value))),
            ]
        })
        .collect()
}

/// Days as a figure: `76`, `5.5`, and in words for long spans.
fn days_text(d: f64) -> String {
    let n = if (d - d.round()).abs() < 1e-9 { group_digits(d.round() as i128) } else { format!("{d:.1}") };
    let days = trf("chart.days", &[("count", n)]);
    if d >= 60.0 {
        let human = Span { days: d.round() as i32, bound: crate::parse::date::Bound::Exact, precision: Precision::Day }
            .display(&super::i18n::lang());
        trf("chart.days_human", &[("days", days), ("human", human)])
    } else {
        days
    }
}

fn days_value(d: f64) -> Value {
    if (d - d.round()).abs() < 1e-9 {
        json!(d.round() as i64)
    } else {
        json!(d)
    }
}

/// Fewer values than this get dots and their median, no box.
const BOX_MIN: usize = 20;

/// A box plot (quartiles, median, min/max whiskers) over the cases' dots; dots alone
/// below [`BOX_MIN`] values.
fn box_plot(site: &Site, id: &str, title: &str, what: &str, st: &SpanStats) -> String {
    let (w, h, x0, x1) = (320.0, 120.0, 16.0, 304.0);
    let Some(sum) = st.summary else {
        let mut s = Svg::new(id, "boxplot", w, 40.0, title, &trf("chart.no_span", &[("what", what.to_string())]));
        s.text(w / 2.0, 24.0, "middle", "tick-label", &tr("chart.no_figures"));
        return s.finish();
    };
    let hi = sum.max.max(1.0);
    let ticks = nice_ticks(0.0, hi, 6);
    let top_tick = ticks.last().copied().unwrap_or(hi).max(hi);
    let x = |d: f64| x0 + (d / top_tick) * (x1 - x0);
    let desc = trf(
        "chart.box_desc",
        &[
            ("what", what.to_string()),
            ("count", sum.n.to_string()),
            ("min", days_text(sum.min)),
            ("q1", days_text(sum.q1)),
            ("median", days_text(sum.median)),
            ("q3", days_text(sum.q3)),
            ("max", days_text(sum.max)),
        ],
    );
    let mut s = Svg::new(id, "boxplot", w, h, title, &desc);
    for t in &ticks {
        s.line(x(*t), 10.0, x(*t), 92.0, "grid");
        s.text(x(*t), 108.0, "middle", "tick-label", &group_digits(*t as i128));
    }
    s.text(x1, 108.0 + 10.0, "end", "tick-label", &tr("chart.days_axis"));
    s.line(x0, 92.0, x1, 92.0, "axis");
    // Quartiles of a handful of values mislead: below BOX_MIN values, the dots alone
    // (larger, with the median marked) tell it.
    let boxed = sum.n >= BOX_MIN;
    if boxed {
        s.line(x(sum.min), 32.0, x(sum.q1), 32.0, "whisker");
        s.line(x(sum.q3), 32.0, x(sum.max), 32.0, "whisker");
        s.line(x(sum.min), 24.0, x(sum.min), 40.0, "whisker");
        s.line(x(sum.max), 24.0, x(sum.max), 40.0, "whisker");
        s.rect(x(sum.q1), 20.0, (x(sum.q3) - x(sum.q1)).max(1.0), 24.0, "box");
        s.line(x(sum.median), 18.0, x(sum.median), 46.0, "median");
    } else {
        s.line(x(sum.median), 30.0, x(sum.median), 88.0, "median");
        s.text(
            x(sum.median),
            24.0,
            "middle",
            "tick-label",
            &format!("median {}", group_digits(sum.median.round() as i128)),
        );
    }
    // One dot per case, rows alternating so equal values stay visible; past
    // MAX_LISTED cases the box alone says it (thousands of dots are one smear).
    let dots = if st.included.len() <= MAX_LISTED { st.included.as_slice() } else { &[] };
    for (k, e) in dots.iter().enumerate() {
        let y = if boxed { 62.0 + (k % 3) as f64 * 9.0 } else { 50.0 + (k % 4) as f64 * 10.0 };
        s.raw(&format!(
            r#"<circle class="dot" cx="{}" cy="{}" r="4"><title>{}</title></circle>"#,
            num(x(f64::from(e.span.days))),
            num(y),
            svg::esc(&format!("{}: {}", site.cases[e.case].case.title, e.span.display(&super::i18n::lang())))
        ));
    }
    s.finish()
}

fn span_section(site: &Site, id: &str, title: &str, what: &str, ends: (&str, &str), st: &SpanStats) -> Value {
    let svg = box_plot(site, id, title, what, st);
    // Past MAX_LISTED cases, the longest spans are listed.
    let mut listed: Vec<usize> = (0..st.included.len()).collect();
    let note = (listed.len() > MAX_LISTED).then(|| {
        listed.sort_by_key(|&k| std::cmp::Reverse(st.included[k].span.days));
        listed.truncate(MAX_LISTED);
        listed.sort_unstable();
        trf("chart.box_note", &[("count", group_digits(st.included.len() as i128)), ("listed", MAX_LISTED.to_string())])
    });
    let rows: Vec<Vec<Value>> = listed
        .into_iter()
        .map(|k| &st.included[k])
        .map(|e| {
            let c = &site.cases[e.case];
            vec![
                cell(c.case.title.clone(), Some(c.url.clone()), Some(json!(c.case.slug))),
                cell(days_text(f64::from(e.span.days)), None, Some(json!(e.span.days))),
                cell(
                    tr(if e.span.bound == crate::parse::date::Bound::Exact {
                        "chart.exact"
                    } else {
                        "chart.approximate"
                    }),
                    None,
                    None,
                ),
            ]
        })
        .collect();
    let mut v = chart(id, title, svg, note, &[&tr("table.case"), &tr("chart.days_head"), &tr("chart.precision")], rows);
    let summary = |s: &Summary| {
        json!({
            "n": s.n,
            "min": days_value(s.min), "q1": days_value(s.q1), "median": days_value(s.median),
            "q3": days_value(s.q3), "max": days_value(s.max),
            "min_text": days_text(s.min), "q1_text": days_text(s.q1), "median_text": days_text(s.median),
            "q3_text": days_text(s.q3), "max_text": days_text(s.max),
        })
    };
    v["summary"] = st.summary.as_ref().map(summary).unwrap_or(Value::Null);
    v["included"] = json!(st.included.len());
    v["left_out"] = json!(st.left_out.len());
    v["reasons"] = json!(st
        .reasons()
        .into_iter()
        .map(|(r, n)| {
            let cases: Vec<Value> = st
                .left_out
                .iter()
                .filter(|(_, x)| *x == r)
                .take(MAX_LISTED)
                .map(|&(i, _)| json!({"title": site.cases[i].case.title, "url": site.cases[i].url}))
                .collect();
            json!({"key": r.key(), "text": r.text(ends.0, ends.1), "count": n, "cases": cases})
        })
        .collect::<Vec<_>>());
    v
}

/// Dots on a log scale: how many were affected, per case. One panel, with its own axis,
/// per unit (people, records, accounts, organizations): never two units on one axis.
fn log_dots(site: &Site, rows: &[stats::Affected]) -> String {
    let (w, row, head, axis_h, label_w) = (320.0, 22.0, 26.0, 30.0, 130.0);
    let units = ["people", "records", "accounts", "organizations"];
    let groups: Vec<(&str, Vec<&stats::Affected>)> = units
        .iter()
        .map(|&u| (u, rows.iter().filter(|r| r.key == u).collect::<Vec<_>>()))
        .filter(|(_, g)| !g.is_empty())
        .collect();
    let h = groups.iter().map(|(_, g)| head + row * g.len() as f64 + axis_h).sum::<f64>().max(40.0);
    let id = "chart-affected";
    let desc = rows
        .iter()
        .map(|r| {
            let what = tr(&format!("impact_word.{}", r.key));
            format!("{}: {} {what}", site.cases[r.case].case.title, group_digits(r.value as i128))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut s = Svg::new(id, "logdots", w, h, &tr("chart.affected_svg"), &format!("{desc}."));
    let (x0, x1) = (label_w, w - 70.0);
    let mut top = 0.0;
    for (unit, g) in &groups {
        let lo = g.iter().map(|r| r.value).min().unwrap_or(1).max(1) as f64;
        let hi = g.iter().map(|r| r.value).max().unwrap_or(10).max(10) as f64;
        let (e0, e1) = (lo.log10().floor() as i32, (hi.log10().ceil() as i32).max(lo.log10().floor() as i32 + 1));
        let x = |v: f64| x0 + ((v.max(1.0).log10() - f64::from(e0)) / f64::from(e1 - e0)) * (x1 - x0);
        s.text(0.0, top + head - 8.0, "start", "group-label", &tr(&format!("chart.affected_{unit}")));
        let body = top + head;
        let bottom = body + row * g.len() as f64;
        for e in e0..=e1 {
            let v = 10f64.powi(e);
            s.line(x(v), body, x(v), bottom, "grid");
            s.text(x(v), bottom + 16.0, "middle", "tick-label", &short_number(v));
        }
        s.line(x0, bottom, x1, bottom, "axis");
        for (k, r) in g.iter().enumerate() {
            let y = body + k as f64 * row + row / 2.0;
            let c = &site.cases[r.case];
            let label = c.terms[Kind::Organizations.index()]
                .first()
                .map(|&t| site.taxonomy(Kind::Organizations).terms[t].name.clone())
                .unwrap_or_else(|| c.case.title.clone());
            s.text(x0 - 8.0, y + 4.0, "end", "bar-label", &truncate(&format!("{label} {}", c.happened.year), 16));
            s.line(x0, y, x(r.value as f64), y, "stem");
            s.circle(x(r.value as f64), y, 5.0, &format!("dot dot--{}", r.key));
            s.text(x(r.value as f64) + 9.0, y + 4.0, "start", "value-label", &short_number(r.value as f64));
        }
        top = bottom + axis_h;
    }
    s.finish()
}

/// Everything /statistics/ shows. `counts`: the matrix counts (counted cases).
pub fn statistics(site: &Site, counts: &BTreeMap<(String, String), usize>) -> Value {
    let counted = site.cases.iter().filter(|c| c.counted).count();
    let bars = |id: &str, title: &str, head: &str, b: Vec<stats::Bar>, label_w: f64| {
        let rows = bar_rows(&b);
        let svg = hbar(id, title, "count.cases", &b, label_w);
        chart(id, title, svg, None, &[head, &tr("cases.title")], rows)
    };
    let per_year = bars("chart-years", &tr("chart.per_year"), &tr("taxonomy_one.years"), stats::per_year(site), 60.0);
    let per_sector = bars(
        "chart-sectors",
        &tr("chart.per_sector"),
        &tr("taxonomy_one.sectors"),
        stats::per_term(site, Kind::Sectors),
        130.0,
    );
    let per_country = bars(
        "chart-countries",
        &tr("chart.per_country"),
        &tr("taxonomy_one.countries"),
        stats::per_term(site, Kind::Countries),
        130.0,
    );

    let affected = stats::affected(site);
    let missing = stats::affected_missing(site);
    // Largest first: past MAX_LISTED, the largest are shown.
    let shown = &affected[..affected.len().min(MAX_LISTED)];
    let rows: Vec<Vec<Value>> = shown
        .iter()
        .map(|r| {
            let c = &site.cases[r.case];
            vec![
                cell(c.case.title.clone(), Some(c.url.clone()), Some(json!(c.case.slug))),
                cell(group_digits(r.value as i128), None, Some(json!(r.value))),
                cell(tr(&format!("impact_word.{}", r.key)), None, Some(json!(r.key))),
            ]
        })
        .collect();
    let note = format!(
        "{}{}{}",
        tr("chart.affected_note"),
        if missing.is_empty() {
            String::new()
        } else {
            trf("chart.affected_missing", &[("count", group_digits(missing.len() as i128))])
        },
        if shown.len() < affected.len() {
            let all = group_digits(affected.len() as i128);
            trf("chart.affected_shown", &[("shown", shown.len().to_string()), ("all", all)])
        } else {
            String::new()
        }
    );
    let mut affected_chart = chart(
        "chart-affected",
        &tr("chart.affected"),
        log_dots(site, shown),
        Some(note),
        &[&tr("table.case"), &tr("chart.affected_head"), &tr("chart.counted_as")],
        rows,
    );
    affected_chart["left_out"] = json!(missing.len());

    let dwell = span_section(
        site,
        "chart-dwell",
        &tr("chart.dwell"),
        &tr("case.dwell_time"),
        (tr("chart.end_start").as_str(), tr("chart.end_detection").as_str()),
        &stats::dwell_time(site),
    );
    let lag = span_section(
        site,
        "chart-lag",
        &tr("chart.lag"),
        &tr("case.disclosure_lag"),
        (tr("chart.end_detection").as_str(), tr("chart.end_disclosure").as_str()),
        &stats::disclosure_lag(site),
    );

    let top = stats::top_techniques(site, counts, 3);
    let top_rows: Vec<Vec<Value>> = top
        .iter()
        .flat_map(|t| {
            t.techniques.iter().enumerate().map(move |(k, b)| {
                vec![
                    cell(
                        if k == 0 { t.name.clone() } else { String::new() },
                        (k == 0).then(|| t.url.clone()),
                        Some(json!(t.shortname)),
                    ),
                    cell(b.label.clone(), b.url.clone(), Some(json!(b.key))),
                    cell(group_digits(b.value as i128), None, Some(json!(b.value))),
                ]
            })
        })
        .collect();
    let top_svg = grouped_hbar(
        "chart-top-techniques",
        &tr("chart.top_svg"),
        &top.iter().map(|t| (t.name.as_str(), t.techniques.as_slice())).collect::<Vec<_>>(),
    );
    let top_chart = chart(
        "chart-top-techniques",
        &tr("chart.top"),
        top_svg,
        Some(tr("chart.top_note")),
        &[&tr("table.tactic"), &tr("table.technique"), &tr("cases.title")],
        top_rows,
    );

    json!({
        "counted": counted,
        "per_year": per_year,
        "per_sector": per_sector,
        "per_country": per_country,
        "affected": affected_chart,
        "spans": [dwell, lag],
        "top_techniques": top_chart,
    })
}

/// Horizontal bars in groups, each under a heading row.
fn grouped_hbar(id: &str, title: &str, groups: &[(&str, &[stats::Bar])]) -> String {
    let (w, row, head, top, label_w) = (560.0, 20.0, 24.0, 4.0, 280.0);
    let n_bars: usize = groups.iter().map(|g| g.1.len()).sum();
    let h = top * 2.0 + head * groups.len() as f64 + row * n_bars.max(1) as f64;
    let max = groups.iter().flat_map(|g| g.1.iter()).map(|b| b.value).max().unwrap_or(1).max(1) as f64;
    let (x0, x1) = (label_w, w - 40.0);
    let desc = groups
        .iter()
        .map(|(name, bars)| {
            format!(
                "{name}: {}",
                bars.iter()
                    .map(|b| format!(
                        "{} ({})",
                        b.label,
                        trf("count.cases", &[("count", group_digits(b.value as i128))])
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut s = Svg::new(id, "hbar hbar--grouped", w, h, title, &format!("{desc}."));
    let mut y = top;
    for (name, bars) in groups {
        s.text(0.0, y + head - 7.0, "start", "group-label", name);
        s.line(0.0, y + head - 2.0, w - 40.0, y + head - 2.0, "grid");
        y += head;
        for b in bars.iter() {
            s.text(x0 - 8.0, y + row / 2.0 + 4.0, "end", "bar-label", &truncate(&b.label, 38));
            let bw = (b.value as f64 / max) * (x1 - x0);
            s.rect(x0, y + 3.0, bw, row - 6.0, "bar");
            s.text(x0 + bw + 6.0, y + row / 2.0 + 4.0, "start", "value-label", &group_digits(b.value as i128));
            y += row;
        }
    }
    s.finish()
}

/// Heat legend for the matrix: `[{level, label}]`.
pub fn heat_legend(counts: &BTreeMap<(String, String), usize>) -> Value {
    let scale = stats::HeatScale::from_counts(counts.values().copied());
    json!(scale.legend().iter().map(|(l, t)| json!({"level": l, "label": t})).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PartialDate {
        PartialDate::parse(s).unwrap()
    }

    #[test]
    fn windows_show_uncertainty() {
        let after = window(&p(">2019-09"));
        assert_eq!(after.lo, day_num(ymd(2019, 10, 1)));
        assert!(after.open_right && !after.open_left);
        let month = window(&p("2019-09"));
        assert_eq!((month.lo, month.hi), (day_num(ymd(2019, 9, 1)), day_num(ymd(2019, 9, 30))));
        let about = window(&p("~2019-09"));
        assert_eq!(about.lo, day_num(ymd(2019, 9, 1)) - 15);
        let year = window(&p("2019"));
        assert_eq!(year.hi - year.lo, 364);
        let before = window(&p("<2019-09-14"));
        assert_eq!(before.hi, day_num(ymd(2019, 9, 13)));
        assert!(before.open_left);
    }

    #[test]
    fn nice_ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 100.0, 5), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(short_number(147_000_000.0), "147M");
        assert_eq!(short_number(1_500.0), "1.5k");
        assert_eq!(days_text(5.5), "5.5 days");
        assert_eq!(days_text(1.0), "1 day");
    }
}
