//! The interface speaks the page's language: Chinese and Japanese sites built with the
//! real binary, read as a reader would (visible text), against the theme's own tables.

mod common;

use std::collections::BTreeMap;

use common::{sel, texts, Fixture};
use scraper::{ElementRef, Html, Node};

/// The theme's strings of `lang`, flattened to `section.key`.
fn strings(lang: &str) -> BTreeMap<String, String> {
    let path = format!("{}/themes/default/i18n/{lang}.toml", env!("CARGO_MANIFEST_DIR"));
    let table: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let mut out = BTreeMap::new();
    fn flatten(prefix: &str, t: &toml::Table, out: &mut BTreeMap<String, String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                toml::Value::Table(t) => flatten(&key, t, out),
                _ => panic!("{key} is not text"),
            }
        }
    }
    flatten("", &table, &mut out);
    out
}

/// The English phrases a page in `lang` must not show: every English value that differs
/// from `lang`'s, cut at its `{placeholders}`, pieces with at least three letters.
/// ATT&CK tactic names stay English by design, so the one that is also a label
/// ("Impact") is not a phrase to look for.
fn english_phrases(lang: &str) -> Vec<(String, String)> {
    const ATTACK_NAMES: &[&str] = &["Impact", "Discovery", "Collection", "Execution", "Persistence"];
    let (en, other) = (strings("en"), strings(lang));
    let mut out = Vec::new();
    for (key, value) in &en {
        if other.get(key) == Some(value) {
            continue;
        }
        for piece in value.split(['{', '}']).step_by(2) {
            let piece = piece.trim();
            if piece.chars().filter(char::is_ascii_alphabetic).count() >= 3 && !ATTACK_NAMES.contains(&piece) {
                out.push((key.clone(), piece.to_string()));
            }
        }
    }
    assert!(out.len() > 150, "the English table lost its strings: {}", out.len());
    out
}

/// Visible text of a page in its own language: text nodes, `aria-label`, `title` and
/// `placeholder`, leaving out what is marked as another language (ATT&CK names, links
/// to a translation) and scripts.
fn interface_text(doc: &Html, lang: &str) -> String {
    fn walk(e: ElementRef, lang: &str, out: &mut String) {
        let el = e.value();
        if matches!(el.name(), "script" | "style" | "template") {
            return;
        }
        if el.attr("lang").is_some_and(|l| !l.starts_with(lang)) {
            return;
        }
        for a in ["aria-label", "title", "placeholder"] {
            if let Some(v) = el.attr(a) {
                out.push_str(v);
                out.push('\n');
            }
        }
        for child in e.children() {
            match child.value() {
                // Parsed as text (scripting on); what it shows without scripts is HTML.
                Node::Text(t) if el.name() == "noscript" => {
                    walk(Html::parse_fragment(t).root_element(), lang, out);
                }
                Node::Text(t) => {
                    out.push_str(t);
                    out.push('\n');
                }
                Node::Element(_) => walk(ElementRef::wrap(child).unwrap(), lang, out),
                _ => {}
            }
        }
    }
    let mut out = String::new();
    walk(doc.root_element(), lang, &mut out);
    // A path is not a word of the interface.
    out.replace("/api/cases.json", "")
}

/// Where `phrase` is in `text` as words of its own ("Case" is not in "Casebook").
fn find_word(text: &str, phrase: &str) -> Option<usize> {
    text.match_indices(phrase).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphabetic()) && !after.is_some_and(|c| c.is_ascii_alphabetic())
    })
}

/// Every HTML page of the built site (path, parsed).
fn pages(f: &Fixture) -> Vec<(String, Html)> {
    f.snapshot()
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, bytes)| (p, Html::parse_document(&String::from_utf8(bytes).unwrap())))
        .collect()
}

/// A site in `lang` (zh or ja) whose every write-up is in that language too, so that any
/// English left on a page is the interface's.
fn cjk_site(lang: &str) -> Fixture {
    let f = Fixture::new();
    let (title, org, sector, data, tag, body, event, evidence) = match lang {
        "zh" => (
            "案例集",
            "示例电信",
            "电信",
            "客户姓名",
            "供应链",
            "## 经过\n\n公司发现可疑通信。\n\n## 应对\n\n公司断开了设备。\n\n## 教训\n\n要继续追查。",
            "发现可疑通信。",
            "公告没有说明入侵途径。",
        ),
        _ => (
            "事例集",
            "サンプル通信",
            "通信",
            "氏名",
            "サプライチェーン",
            "## 経緯\n\n不審な通信を検知した。\n\n## 対応\n\n装置を切り離した。\n\n## 教訓\n\n調査を続ける。",
            "不審な通信を検知。",
            "侵入経路は公表されていない。",
        ),
    };
    f.write(
        "site.toml",
        &format!("title = \"{title}\"\nbase_url = \"https://cases.test\"\nlanguage = \"{lang}\"\ndescription = \"{title}\"\n[pagination]\nper_page = 1\n"),
    );
    let full = format!(
        r#"tags = ["{tag}"]
[incident]
status = "suspected"
sectors = ["{sector}"]
countries = ["JP"]
actors = ["{org}"]
ransomware = false
started = ">2019-09"
detected = 2025-02-05
contained = 2025-02-15
disclosed = 2025-03-05
notified = 2025-03-11
[impact]
organizations = 17891
records = 1200
data_types = ["{data}"]
[[impact.revisions]]
date = 2025-03-05
organizations = 621
[[techniques]]
id = "T1566.001"
tactic = "initial-access"
confidence = "possible"
evidence = "{evidence}"
[[techniques]]
id = "T1003"
confidence = "likely"
evidence = "{evidence}"
[[timeline]]
date = 2025-02-05
event = "{event}"
[[timeline]]
date = "2019-09"
event = "{event}"
[[indicators]]
type = "ip"
value = "203.0.113.7"
note = "{event}"
[[references]]
url = "https://example.org/a"
title = "{title}"
publisher = "{org}"
date = 2025-03-05
lang = "{lang}""#
    );
    f.case(
        "first",
        &format!("{org}：{title}一"),
        &format!("organizations = [\"{org}\"]\nsummary = \"{event}\"\ntlp = \"green\"\n{full}"),
        body,
    );
    f.case(
        "second",
        &format!("{org}：{title}二"),
        &format!(
            "organizations = [\"{org}\"]\nsummary = \"{event}\"\nrelated = [\"first\"]\n[incident]\ndetected = \"2020-05\"\n[impact]\npeople = 3\n[[techniques]]\nid = \"T1003\"\nevidence = \"{evidence}\""
        ),
        body,
    );
    f.case("third", &format!("{org}：{title}三"), &format!("organizations = [\"{org}\"]"), body);
    f.write(
        "content/organizations/org.md",
        &format!("+++\nname = \"{org}\"\nsectors = [\"{sector}\"]\ncountries = [\"JP\"]\n+++\n{body}\n"),
    );
    f
}

fn assert_no_english(lang: &str) {
    let f = cjk_site(lang);
    let run = f.build_ok();
    assert!(!run.stderr.contains("i18n-missing"), "the theme's {lang} table is incomplete:\n{}", run.stderr);
    let phrases = english_phrases(lang);
    let mut found = Vec::new();
    let mut checked = 0;
    for (path, doc) in pages(&f) {
        let html_lang = doc.root_element().value().attr("lang").unwrap_or_default().to_string();
        assert_eq!(html_lang, lang, "{path}: <html lang>");
        checked += 1;
        let text = interface_text(&doc, lang);
        for (key, phrase) in &phrases {
            if let Some(at) = find_word(&text, phrase) {
                let around: String = text[at..].chars().take(60).collect();
                found.push(format!("{path}: {phrase:?} ({key}) in {around:?}"));
            }
        }
    }
    assert!(checked > 25, "only {checked} pages");
    assert!(found.is_empty(), "English interface words on a {lang} site:\n{}", found.join("\n"));
}

#[test]
fn a_chinese_site_has_no_english_interface_word() {
    assert_no_english("zh");
}

#[test]
fn a_japanese_site_has_no_english_interface_word() {
    assert_no_english("ja");
}

#[test]
fn dates_and_numbers_follow_the_page() {
    let f = cjk_site("ja");
    f.build_ok();
    let page = f.page("cases/first/");
    let text = common::text(&page);
    for want in ["2025年2月5日", "2019年9月以降", "17,891", "2019年9月", "28日", "621 → 17,891"] {
        assert!(text.contains(want), "{want:?} not on the Japanese case page");
    }
    assert_eq!(texts(&page, ".fact.date dt"), ["侵入", "検知", "封じ込め", "公表", "通知"]);
    assert!(!text.contains("February"), "an English date on a Japanese page");
    // /timeline/ lists the years; each year's page names its year.
    let timeline = common::text(&f.page("timeline/"));
    assert!(timeline.contains("2025") && !timeline.contains("2,025"), "years are not counts: {timeline}");
    let year = common::text(&f.page("timeline/2025/"));
    assert!(year.contains("2025年に起きた"), "years are not counts: {year}");
    let zh = cjk_site("zh");
    zh.build_ok();
    let text = common::text(&zh.page("cases/first/"));
    for want in ["2025年2月5日", "2019年9月之后", "17,891", "28天"] {
        assert!(text.contains(want), "{want:?} not on the Chinese case page");
    }
    // Countries have names in the page's language, wherever they show.
    for url in ["cases/first/", "", "statistics/", "countries/", "countries/jp/", "organizations/org/"] {
        let text = common::text(&zh.page(url));
        assert!(text.contains("日本") && !text.contains("Japan"), "{url}: the country is not named in Chinese");
    }
}

/// The 2025 case on a Japanese site: a Chinese original and its English translation.
fn translated_site(language: &str) -> Fixture {
    let f = Fixture::new();
    f.write("site.toml", &format!("title = \"T\"\nbase_url = \"https://cases.test\"\nlanguage = \"{language}\"\n"));
    f.case(
        "orig",
        "原文标题",
        "organizations = [\"NTT Communications\"]\nlang = \"zh\"\n[incident]\ndetected = 2025-02-05",
        "正文。",
    );
    f.case(
        "orig-en",
        "English title",
        "organizations = [\"NTT Communications\"]\nlang = \"en\"\ntranslation_of = \"orig\"\n[incident]\ndetected = 2025-02-05",
        "Body.",
    );
    f.case("other", "他の事例", "organizations = [\"Other\"]\n[incident]\ndetected = 2020-01-01", "本文。");
    f
}

#[test]
fn an_incident_is_listed_once_with_its_versions_as_language_links() {
    for language in ["ja", "en", "zh"] {
        let f = translated_site(language);
        f.build_ok();
        let cases = f.page("cases/");
        let titles = texts(&cases, ".card__title");
        assert_eq!(titles.len(), 2, "{language} site: /cases/ lists {titles:?}");
        let links: Vec<String> = cases
            .select(&sel(".card__translations a"))
            .map(|a| a.value().attr("hreflang").unwrap_or_default().to_string())
            .collect();
        assert_eq!(links.len(), 1, "{language} site: one card links its other version: {links:?}");
        let home = f.page("");
        assert_eq!(texts(&home, ".stats__n")[0], "2", "{language} site: the home page counts the incident once");
        let feed = f.read("atom.xml");
        assert_eq!(feed.matches("<entry").count(), 2, "{language} site: the feed has each incident once");
        // The timeline: one page per year, each incident once.
        let rows: usize =
            ["timeline/2025/", "timeline/2020/"].iter().map(|u| f.page(u).select(&sel(".tl-case")).count()).sum();
        assert_eq!(rows, 2, "{language} site: the timeline");
    }
}

#[test]
fn a_translation_says_so_and_links_its_original_and_back() {
    let f = translated_site("ja");
    f.build_ok();
    let en = f.page("cases/orig-en/");
    assert_eq!(en.root_element().value().attr("lang"), Some("en"));
    let note = texts(&en, ".translations--of");
    assert_eq!(note.len(), 1, "the translation has no note saying it is one");
    assert!(note[0].starts_with("This is a translation. The original, in 中文"), "{note:?}");
    assert_eq!(texts(&en, ".translations--of span[lang=zh]"), ["中文"], "the language's name is marked as such");
    let link = en.select(&sel(".translations--of a")).next().unwrap();
    assert_eq!(link.value().attr("href"), Some("../../cases/orig/"));
    assert_eq!(link.value().attr("hreflang"), Some("zh"));
    // The English page speaks English around its content on a Japanese site.
    assert_eq!(texts(&en, ".facts__title"), ["Key facts"]);
    assert_eq!(texts(&en, ".site-nav a")[0], "Cases");

    let zh = f.page("cases/orig/");
    assert_eq!(zh.root_element().value().attr("lang"), Some("zh"));
    assert_eq!(texts(&zh, ".translations"), ["译文： English"]);
    assert_eq!(zh.select(&sel(".translations--of")).count(), 0, "the original is not a translation");
    let hreflang = |doc: &Html| -> Vec<(String, String)> {
        doc.select(&sel("head link[rel=alternate][hreflang]"))
            .map(|l| (l.value().attr("hreflang").unwrap().to_string(), l.value().attr("href").unwrap().to_string()))
            .collect()
    };
    assert_eq!(
        hreflang(&zh),
        [("zh".into(), "https://cases.test/cases/orig/".into()), ("en".into(), "../../cases/orig-en/".into())]
    );
    assert_eq!(
        hreflang(&en),
        [("en".into(), "https://cases.test/cases/orig-en/".into()), ("zh".into(), "../../cases/orig/".into())]
    );
    let sitemap = f.read("sitemap.xml");
    assert!(sitemap.contains(r#"xmlns:xhtml="http://www.w3.org/1999/xhtml""#));
    for url in ["orig", "orig-en"] {
        let entry = sitemap.split("<url>").find(|u| u.contains(&format!("/cases/{url}/</loc>"))).unwrap();
        assert!(entry.contains(r#"hreflang="zh" href="https://cases.test/cases/orig/""#), "{entry}");
        assert!(entry.contains(r#"hreflang="en" href="https://cases.test/cases/orig-en/""#), "{entry}");
    }
    // List pages and the home page speak the site's language.
    assert_eq!(f.page("").root_element().value().attr("lang"), Some("ja"));
    assert_eq!(texts(&f.page("cases/"), "h1"), ["事例"]);
}

#[test]
fn a_site_key_wins_and_the_rest_comes_from_the_theme() {
    let f = cjk_site("zh");
    f.write("i18n/zh.toml", "[home]\nlatest = \"近期案例\"\n");
    f.write("i18n/en.toml", "[nav]\ncases = \"Incidents\"\n");
    let run = f.build_ok();
    assert!(!run.stderr.contains("i18n-missing"), "{}", run.stderr);
    let home = f.page("");
    assert_eq!(texts(&home, "#latest-h"), ["近期案例"]);
    assert_eq!(texts(&home, ".site-nav a")[0], "案例", "the theme's other keys still count");
}

#[test]
fn a_missing_string_falls_back_to_english_with_one_warning_per_key_and_language() {
    let f = Fixture::new();
    f.write("site.toml", "title = \"T\"\nbase_url = \"https://cases.test\"\nlanguage = \"fr\"\n");
    f.write("i18n/fr.toml", "[nav]\ncases = \"Dossiers\"\n");
    for n in 0..3 {
        f.case(&format!("c{n}"), &format!("Cas {n}"), "organizations = [\"Org\"]", "Texte.");
    }
    f.case("de", "Fall", "organizations = [\"Org\"]\nlang = \"de\"", "Text.");
    let run = f.build_ok();
    let home = f.page("");
    assert_eq!(texts(&home, ".site-nav a")[0], "Dossiers");
    assert_eq!(texts(&home, "#latest-h"), ["Latest cases"], "a missing key shows in English");
    // Used on every page, warned once.
    assert_eq!(run.stderr.matches(r#"no string "home.latest" for "fr""#).count(), 1, "{}", run.stderr);
    assert_eq!(run.stderr.matches(r#"no string "nav.timeline" for "fr""#).count(), 1);
    assert!(!run.stderr.contains(r#"no string "nav.cases" for "fr""#));
    assert!(run.stderr.contains("i18n/fr.toml"), "the warning names the file to add to:\n{}", run.stderr);
    // A language with no table at all: one warning, not one per key.
    assert_eq!(run.stderr.matches(r#"no interface strings for "de""#).count(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains(r#"for "de": pages in de show the English ""#));
    // `--strict` makes them errors: a site can insist on a complete translation.
    assert_eq!(f.run(&["build", "--strict"]).code, 1);
}

#[test]
fn a_malformed_table_is_an_error_with_its_position() {
    let f = Fixture::new();
    f.case("a", "A", "organizations = [\"Org\"]", "Text.");
    f.write("i18n/en.toml", "[nav]\ncases = \"Cases\"\nbroken = [1, 2]\n");
    let run = f.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("i18n/en.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("\"nav.broken\" is not text"), "{}", run.stderr);
    f.write("i18n/en.toml", "[nav\ncases = \"Cases\"\n");
    let run = f.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("i18n/en.toml:1:"), "{}", run.stderr);
}
