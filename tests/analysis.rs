//! The analysis views: the numbers behind every chart, checked against a fixture site
//! whose dates and counts are known (a chart with wrong numbers is worse than none).

mod common;

use common::*;
use scraper::{ElementRef, Html};

/// Five counted cases and one translation (which must never be counted twice).
///
/// | case    | happened   | started   | detected   | disclosed  | dwell        | lag |
/// |---------|------------|-----------|------------|------------|--------------|-----|
/// | alpha   | 2018-01-31 | 2018-01-01| 2018-01-31 | 2018-02-10 | 30 exact     | 10  |
/// | bravo   | 2019-03-01 | >2018-09  | 2019-03-01 | 2019-03-21 | upper bound  | 20  |
/// | charlie | 2019-08-01 | 2019-05   | 2019-08-01 | 2019-08-31 | 92 about     | 30  |
/// | delta   | 2025-03-14 | —         | —          | —          | no start     | no detection |
/// | echo    | 2022-06-01 | 2022      | 2022-06-01 | 2022-06-11 | year only    | 10  |
fn site() -> Fixture {
    let f = Fixture::new();
    f.case(
        "alpha-2018",
        "Alpha breach",
        r#"organizations = ["Acme"]
[incident]
sectors = ["Finance"]
countries = ["US"]
started = 2018-01-01
detected = 2018-01-31
disclosed = 2018-02-10
[impact]
people = 1000
[[techniques]]
id = "T1078"
tactic = "initial-access"
confidence = "confirmed"
[[techniques]]
id = "T1190"
tactic = "initial-access"
confidence = "likely"
[[timeline]]
date = 2018-01-15
event = "Something odd in the logs."
"#,
        "Alpha.",
    );
    f.case(
        "alpha-2018-zh",
        "Alpha 事件",
        r#"organizations = ["Acme"]
lang = "zh"
translation_of = "alpha-2018"
[incident]
sectors = ["Finance"]
countries = ["US"]
started = 2018-01-01
detected = 2018-01-31
disclosed = 2018-02-10
[impact]
people = 1000
[[techniques]]
id = "T1078"
tactic = "initial-access"
confidence = "confirmed"
"#,
        "Alpha in Chinese.",
    );
    f.case(
        "bravo-2019",
        "Bravo breach",
        r#"organizations = ["Bravo Bank"]
[incident]
sectors = ["Finance"]
countries = ["GB"]
started = ">2018-09"
detected = 2019-03-01
disclosed = 2019-03-21
[impact]
records = 50000
[[impact.revisions]]
date = 2019-03-21
records = 20000
note = "First count."
[[impact.revisions]]
date = 2019-06-01
records = 50000
[[techniques]]
id = "T1078"
tactic = "initial-access"
confidence = "possible"
[[techniques]]
id = "T1566"
tactic = "initial-access"
confidence = "unconfirmed"
"#,
        "Bravo.",
    );
    f.case(
        "charlie-2019",
        "Charlie breach",
        r#"organizations = ["Acme"]
[incident]
sectors = ["Health"]
countries = ["US"]
started = "2019-05"
detected = 2019-08-01
disclosed = 2019-08-31
[impact]
people = 2000000
[[techniques]]
id = "T1078"
tactic = "initial-access"
confidence = "likely"
"#,
        "Charlie.",
    );
    f.case(
        "delta",
        "Delta breach",
        r#"organizations = ["Delta Co"]
[incident]
sectors = ["Health"]
countries = ["JP"]
"#,
        "Delta.",
    );
    f.case(
        "echo-2022",
        "Echo breach",
        r#"organizations = ["Echo Retail"]
[incident]
sectors = ["Retail"]
countries = ["FR"]
started = "2022"
detected = 2022-06-01
disclosed = 2022-06-11
[impact]
organizations = 12
[[techniques]]
id = "T1190"
tactic = "initial-access"
confidence = "confirmed"
"#,
        "Echo.",
    );
    build(&f);
    f
}

/// Builds in-process with the library (the shared target folder's binary may belong to
/// another checkout while tests run).
fn build(f: &Fixture) {
    let report = casebook::engine::run(
        &casebook::engine::Options {
            root: f.root().to_path_buf(),
            overrides: casebook::config::Overrides { output: Some(f.out()), ..Default::default() },
            write: true,
            ..Default::default()
        },
        false,
    );
    assert!(!report.diagnostics.has_errors(), "{:?}", report.diagnostics);
}

fn one<'a>(doc: &'a Html, selector: &str) -> ElementRef<'a> {
    doc.select(&sel(selector)).next().unwrap_or_else(|| panic!("no {selector}"))
}

fn attr(e: ElementRef, name: &str) -> String {
    e.value().attr(name).unwrap_or_else(|| panic!("no {name} on {:?}", e.value())).to_string()
}

/// The `data-value` of every cell of every row of a chart's data table.
fn table(doc: &Html, chart: &str) -> Vec<Vec<String>> {
    doc.select(&sel(&format!("#{chart} table tbody tr")))
        .map(|tr| tr.select(&sel("th, td")).map(|c| c.value().attr("data-value").unwrap_or("").to_string()).collect())
        .collect()
}

fn pairs(rows: &[Vec<String>]) -> Vec<(String, String)> {
    rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect()
}

fn p(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// Every chart is an accessible SVG: `role="img"` labelled by its own title and desc.
fn assert_accessible_svgs(doc: &Html, at_least: usize) {
    let svgs: Vec<ElementRef> = doc.select(&sel("figure.chart .chart__svg > svg")).collect();
    assert!(svgs.len() >= at_least, "expected {at_least} charts, found {}", svgs.len());
    for s in svgs {
        assert_eq!(s.value().attr("role"), Some("img"));
        let ids = attr(s, "aria-labelledby");
        for id in ids.split_whitespace() {
            let label = one(doc, &format!("[id=\"{id}\"]"));
            assert!(!label.text().collect::<String>().trim().is_empty(), "{id} is empty");
        }
    }
}

#[test]
fn statistics_numbers() {
    let f = site();
    let doc = f.page("statistics/");
    assert_accessible_svgs(&doc, 7);
    assert_eq!(attr(one(&doc, "[data-stat=counted]"), "data-stat"), "counted");
    assert_eq!(texts(&doc, "[data-stat=counted]"), ["5"], "the translation counts once");

    // Cases per year, gaps as zero.
    assert_eq!(
        pairs(&table(&doc, "chart-years")),
        [
            p("2018", "1"),
            p("2019", "2"),
            p("2020", "0"),
            p("2021", "0"),
            p("2022", "1"),
            p("2023", "0"),
            p("2024", "0"),
            p("2025", "1")
        ]
    );
    // Per sector and country, most first then by name.
    assert_eq!(pairs(&table(&doc, "chart-sectors")), [p("finance", "2"), p("health", "2"), p("retail", "1")]);
    assert_eq!(
        pairs(&table(&doc, "chart-countries")),
        [p("us", "2"), p("fr", "1"), p("jp", "1"), p("gb", "1")],
        "by name: France, Japan, United Kingdom"
    );

    // Affected: people, else records, else organizations; largest first; Delta has none.
    let affected = table(&doc, "chart-affected");
    assert_eq!(
        affected.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect::<Vec<_>>(),
        [
            ("charlie-2019", "2000000", "people"),
            ("bravo-2019", "50000", "records"),
            ("alpha-2018", "1000", "people"),
            ("echo-2022", "12", "organizations")
        ]
    );
    assert!(text(&doc).contains("1 case gives no count and is left out"));

    // Dwell time: alpha 30 (exact), charlie 92 (month precision: about); three left out.
    let dwell = one(&doc, "section[data-chart=chart-dwell]");
    assert_eq!(attr(dwell, "data-included"), "2");
    assert_eq!(attr(dwell, "data-left-out"), "3");
    let stat =
        |sec: ElementRef, k: &str| attr(sec.select(&sel(&format!("[data-stat={k}]"))).next().unwrap(), "data-value");
    assert_eq!(stat(dwell, "median"), "61");
    assert_eq!(stat(dwell, "q1"), "45.5");
    assert_eq!(stat(dwell, "q3"), "76.5");
    assert_eq!(stat(dwell, "min"), "30");
    assert_eq!(stat(dwell, "max"), "92");
    assert_eq!(stat(dwell, "n"), "2");
    assert_eq!(stat(dwell, "left-out"), "3");
    let reasons: Vec<(String, String)> =
        dwell.select(&sel("li[data-reason]")).map(|li| (attr(li, "data-reason"), attr(li, "data-value"))).collect();
    assert_eq!(reasons, [p("missing-start", "1"), p("year-only", "1"), p("upper-bound", "1")]);
    assert_eq!(pairs(&table(&doc, "chart-dwell")), [p("alpha-2018", "30"), p("charlie-2019", "92")]);
    let dwell_text = dwell.text().collect::<String>();
    assert!(dwell_text.contains("3 cases were left out"), "{dwell_text}");
    assert!(dwell_text.contains("only “after” a date, so the figure is an upper bound"));

    // Disclosure lag: 10, 10, 20, 30; Delta has no detection date.
    let lag = one(&doc, "section[data-chart=chart-lag]");
    assert_eq!((attr(lag, "data-included"), attr(lag, "data-left-out")), ("4".into(), "1".into()));
    assert_eq!(stat(lag, "median"), "15");
    assert_eq!(stat(lag, "q1"), "10");
    assert_eq!(stat(lag, "q3"), "22.5");
    assert_eq!((stat(lag, "min"), stat(lag, "max")), ("10".into(), "30".into()));
    let lag_reasons: Vec<String> = lag.select(&sel("li[data-reason]")).map(|li| attr(li, "data-reason")).collect();
    assert_eq!(lag_reasons, ["missing-start"]);
    assert!(lag.text().collect::<String>().contains("no detection date"));

    // Top techniques per tactic: counted cases only, every confidence.
    let top = table(&doc, "chart-top-techniques");
    assert_eq!(
        top.iter().map(|r| (r[1].as_str(), r[2].as_str())).collect::<Vec<_>>(),
        [("T1078", "3"), ("T1190", "2"), ("T1566", "1")]
    );
    assert_eq!(top[0][0], "initial-access");
}

#[test]
fn heatmap_levels_and_confidence_filter() {
    let f = site();
    let cell = |doc: &Html, id: &str| -> Option<(String, String)> {
        doc.select(&sel(&format!(".matrix__col[data-tactic=initial-access] li.cell[data-id=\"{id}\"]")))
            .next()
            .map(|e| (attr(e, "data-count"), attr(e, "class")))
    };
    let all = f.page("techniques/");
    // Shades are quartiles of this site's counts (1, 1, 2, 3 ...): the most used darkest.
    assert_eq!(cell(&all, "T1078"), Some(("3".into(), "cell heat-4".into())));
    assert_eq!(cell(&all, "T1190"), Some(("2".into(), "cell heat-3".into())));
    assert_eq!(cell(&all, "T1566"), Some(("1".into(), "cell heat-2".into())));
    let confirmed = f.page("techniques/confirmed/");
    // Bravo's possible T1078 and unconfirmed T1566 are left out.
    assert_eq!(cell(&confirmed, "T1078"), Some(("2".into(), "cell heat-4".into())));
    assert_eq!(cell(&confirmed, "T1190"), Some(("2".into(), "cell heat-4".into())));
    assert_eq!(cell(&confirmed, "T1566"), None);
    // Each view links the other, and marks itself.
    for (doc, url, current) in
        [(&all, "techniques/", "techniques/"), (&confirmed, "techniques/confirmed/", "techniques/confirmed/")]
    {
        assert!(links_to(doc, url, "techniques/") && links_to(doc, url, "techniques/confirmed/"));
        let cur = one(doc, ".matrix-filter a[aria-current=page]");
        assert_eq!(resolve_href(url, &attr(cur, "href")).as_deref(), Some(current));
        let legend = texts(doc, ".legend__item");
        assert_eq!(legend, if url == "techniques/" { vec!["1", "2", "3"] } else { vec!["2"] }, "{url}");
    }
    assert!(f.read("sitemap.xml").contains("/techniques/confirmed/"));
}

fn texts_attr(doc: &Html, selector: &str, name: &str) -> Vec<String> {
    doc.select(&sel(selector)).map(|e| attr(e, name)).collect()
}

fn days(y: i16, m: i8, d: i8) -> i32 {
    jiff::civil::date(y, m, d).since(jiff::civil::date(1900, 1, 1)).unwrap().get_days()
}

#[test]
fn timeline_rows_and_uncertainty() {
    let f = site();
    // /timeline/ is an index of years, newest first, each linking its own page.
    let index = f.page("timeline/");
    let years = texts(&index, ".tl-index__year");
    assert_eq!(years, ["2025", "2022", "2019", "2018"]);
    for y in &years {
        assert!(links_to(&index, "timeline/", &format!("timeline/{y}/")), "{y}");
    }
    let pages: Vec<(String, Html)> =
        years.iter().map(|y| (format!("timeline/{y}/"), f.page(&format!("timeline/{y}/")))).collect();
    let counts: Vec<(String, String)> = pages
        .iter()
        .flat_map(|(_, d)| {
            d.select(&sel("section.tl-year")).map(|s| (attr(s, "data-year"), attr(s, "data-count"))).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(counts, [p("2025", "1"), p("2022", "1"), p("2019", "2"), p("2018", "1")]);
    let slugs: Vec<String> = pages.iter().flat_map(|(_, d)| texts_attr(d, "li.tl-case", "data-slug")).collect();
    assert_eq!(slugs, ["delta", "echo-2022", "charlie-2019", "bravo-2019", "alpha-2018"]);
    // Every row links its case; the translation is linked from its original's row.
    let page_of = |slug: &str| -> &(String, Html) {
        pages.iter().find(|(_, d)| d.select(&sel(&format!("li.tl-case[data-slug={slug}]"))).next().is_some()).unwrap()
    };
    for s in &slugs {
        let (url, doc) = page_of(s);
        assert!(links_to(doc, url, &format!("cases/{s}/")), "{s}");
    }
    let (url, doc) = page_of("alpha-2018");
    assert!(links_to(doc, url, "cases/alpha-2018-zh/"));
    let ev = |slug: &str, key: &str| {
        let e = one(&page_of(slug).1, &format!("li.tl-case[data-slug={slug}] li.tl-ev[data-key={key}]"));
        (attr(e, "data-iso"), attr(e, "data-lo").parse::<i32>().unwrap(), attr(e, "data-hi").parse::<i32>().unwrap())
    };
    // "after September 2019" starts on 1 October, open to the right.
    assert_eq!(ev("bravo-2019", "started"), (">2018-09".into(), days(2018, 10, 1), days(2018, 10, 1)));
    assert!(texts(&page_of("bravo-2019").1, "li.tl-case[data-slug=bravo-2019] li.tl-ev[data-key=started]")[0]
        .contains("after September 2018"));
    // Month and year precision span their month and year.
    assert_eq!(ev("charlie-2019", "started"), ("2019-05".into(), days(2019, 5, 1), days(2019, 5, 31)));
    assert_eq!(ev("echo-2022", "started"), ("2022".into(), days(2022, 1, 1), days(2022, 12, 31)));
    assert_eq!(ev("alpha-2018", "disclosed"), ("2018-02-10".into(), days(2018, 2, 10), days(2018, 2, 10)));
    // The fade of an open start is drawn; a case without dates is a point.
    assert!(one(&page_of("bravo-2019").1, "li.tl-case[data-slug=bravo-2019] svg").inner_html().contains("tl-fade"));
    assert!(one(&page_of("delta").1, "li.tl-case[data-slug=delta] svg").inner_html().contains("mk--date"));
    assert_eq!(texts(&page_of("delta").1, "li.tl-case[data-slug=delta] li.tl-ev").len(), 1);
    // In the site navigation, with statistics.
    let home = f.page("");
    assert!(links_to(&home, "", "timeline/") && links_to(&home, "", "statistics/"));
}

#[test]
fn case_and_organization_charts() {
    let f = site();
    let doc = f.page("cases/alpha-2018/");
    assert_accessible_svgs(&doc, 2);
    assert_eq!(
        pairs(&table(&doc, "case-tl-alpha-2018")),
        [p("started", "2018-01-01"), p("detected", "2018-01-31"), p("disclosed", "2018-02-10")]
    );
    let mx = table(&doc, "case-mx-alpha-2018");
    assert_eq!(
        mx.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect::<Vec<_>>(),
        [("initial-access", "T1078", "confirmed"), ("initial-access", "T1190", "likely")]
    );
    let svg = one(&doc, "#case-mx-alpha-2018 svg").html();
    assert_eq!(svg.matches("class=\"mm-cell").count(), 2);
    assert_eq!(svg.matches("class=\"mm-empty\"").count(), 13, "14 tactic columns, one used");
    // The timeline entry is drawn under the line.
    assert_eq!(one(&doc, "#case-tl-alpha-2018 svg").html().matches("tl-entry").count(), 1);

    let org = f.page("organizations/acme/");
    assert_eq!(pairs(&table(&org, "org-inc-acme")), [p("2018-01-31", ""), p("2019-08-01", "")], "oldest first");
    let bank = f.page("organizations/bravo-bank/");
    assert_accessible_svgs(&bank, 1);
    let rev = table(&bank, "rev-bravo-2019-records");
    assert_eq!(pairs(&rev), [p("2019-03-21", "20000"), p("2019-06-01", "50000")]);
    assert!(one(&bank, "#rev-bravo-2019-records svg").html().contains("class=\"step\""));
}

/// Past 100 cases, the per-case charts of /statistics/ show the largest and say so,
/// while the summaries still cover every case (a wall of 10,000 dots helps nobody).
#[test]
fn statistics_lists_at_most_a_hundred_cases_but_counts_all() {
    let f = Fixture::new();
    for k in 1..=105u32 {
        f.case(
            &format!("case-{k:03}"),
            &format!("Case {k}"),
            &format!(
                "organizations = [\"Org {k}\"]\n[incident]\nstarted = 2020-01-01\ndetected = {}\ndisclosed = 2021-01-01\n[impact]\npeople = {}",
                jiff::civil::date(2020, 1, 1).checked_add(jiff::Span::new().days(i64::from(k))).unwrap(),
                k * 10
            ),
            "Body.",
        );
    }
    f.build_ok();
    let doc = f.page("statistics/");

    // Affected: the 100 largest (1,050 people down to 60), and the note says so.
    let affected = table(&doc, "chart-affected");
    assert_eq!(affected.len(), 100);
    assert_eq!((affected[0][0].as_str(), affected[0][1].as_str()), ("case-105", "1050"));
    assert_eq!((affected[99][0].as_str(), affected[99][1].as_str()), ("case-006", "60"));
    assert_eq!(doc.select(&sel("#chart-affected svg circle")).count(), 100);
    assert!(text(&doc).contains("The 100 largest of 105 counts are shown"), "{}", text(&doc));

    // Dwell time: the summary is over all 105 (1..=105 days: median 53); the table lists
    // the 100 longest; no per-case dots past 100.
    let dwell = one(&doc, "section[data-chart=chart-dwell]");
    assert_eq!(attr(dwell, "data-included"), "105");
    let median = dwell.select(&sel("[data-stat=median]")).next().unwrap();
    assert_eq!(attr(median, "data-value"), "53");
    let rows = table(&doc, "chart-dwell");
    assert_eq!(rows.len(), 100);
    assert!(!rows.iter().any(|r| ["case-001", "case-005"].contains(&r[0].as_str())), "the shortest are not listed");
    assert_eq!(doc.select(&sel("#chart-dwell svg circle")).count(), 0);
    assert!(dwell.text().collect::<String>().contains("the table lists the 100 longest"));
}

/// The built-in timeline gets its rows made one at a time; a site's own `timeline.html`
/// gets every row as data, whole cards included; both show the same cases.
#[test]
fn timeline_rows_as_html_or_as_data() {
    let f = site();
    f.build_ok();
    let built_in: Vec<String> =
        f.page("timeline/2019/").select(&sel("li.tl-case")).map(|li| attr(li, "data-slug")).collect();
    assert_eq!(built_in.len(), 2);
    f.write(
        "templates/timeline.html",
        r#"{% extends "base.html" %}{% block content %}{% for y in timeline.years %}{% for r in y.cases %}<p class="row" data-slug="{{ r.case.slug }}">{{ r.case.tlp }}</p>{% endfor %}<i class="made">{{ y.rows_html | default(value=[]) | length }}</i>{% endfor %}{% endblock content %}"#,
    );
    f.build_ok();
    let doc = f.page("timeline/2019/");
    let own: Vec<String> = doc.select(&sel("p.row")).map(|p| attr(p, "data-slug")).collect();
    assert_eq!(own, built_in);
    assert!(
        texts(&doc, "p.row").iter().all(|t| t == "clear"),
        "whole cards (tlp included): {:?}",
        texts(&doc, "p.row")
    );
    assert!(texts(&doc, "i.made").iter().all(|t| t == "0"), "no rows_html for a site's own template");
}
