//! `casebook build` on fixture sites: the cross-links, exclusions, escaping,
//! defanging, determinism and output preservation a reader or publisher relies on.

mod common;

use common::*;

/// Three published cases that share an organization (via an alias), a technique and
/// a sector, plus one of each kind of case that must never be published.
fn cross_linked() -> Fixture {
    let f = Fixture::new();
    f.write(
        "content/organizations/acme-telecom.md",
        "+++\nname = \"Acme Telecom\"\naliases = [\"Acme\"]\nsectors = [\"Telecommunications\"]\ncountries = [\"JP\"]\nparent = \"Acme Holdings\"\n+++\nA telecom carrier.\n",
    );
    f.case(
        "acme-2020",
        "Acme: first breach",
        r#"organizations = ["Acme Telecom"]
summary = "The first one."
related = ["acme-2025"]
[incident]
sectors = ["Telecommunications"]
countries = ["JP"]
actors = ["G0016"]
started = ">2019-09"
detected = 2020-05-07
disclosed = 2020-05-28
[impact]
organizations = 892
data_types = ["Contract numbers", "Names"]
[[impact.revisions]]
date = 2020-05-28
organizations = 621
note = "First announcement."
[[impact.revisions]]
date = 2020-07-02
organizations = 892
[[techniques]]
id = "T1078"
tactic = "initial-access"
confidence = "likely"
evidence = "A stolen employee password was used."
[[techniques]]
id = "T1021.001"
confidence = "possible"
[[indicators]]
type = "ip"
value = "203.0.113.7"
note = "Stepping stone."
[[indicators]]
type = "url"
value = "https://evil.example.com/drop"
[[references]]
url = "https://example.org/2020"
title = "Announcement 2020"
publisher = "Acme"
"#,
        "Found by [Acme](org:Acme) via [Valid Accounts](attack:T1078); see [the later one](@/cases/acme-2025.md#what-happened).",
    );
    f.case(
        "acme-2025",
        "Acme: second breach",
        r#"organizations = ["acme"]
tags = ["Supply chain"]
[incident]
sectors = ["telecommunications"]
countries = ["JP"]
detected = 2025-02-05
disclosed = 2025-03-05
[[techniques]]
id = "T1078"
evidence = "Accounts again."
"#,
        "## What happened\n\nAgain.",
    );
    f.case(
        "bank-2017",
        "Bank: web app exploited",
        r#"organizations = ["First Bank"]
[incident]
sectors = ["Financial services"]
countries = ["US"]
detected = 2017-07-29
[[techniques]]
id = "T1190"
tactic = "initial-access"
"#,
        "Bank body.",
    );
    f.case(
        "secret-amber",
        "Zebracorn amber case",
        "organizations = [\"Amberorg\"]\ntlp = \"amber\"",
        "Zebracorn-amber body",
    );
    f.case("secret-red", "Zebracorn red case", "organizations = [\"Redorg\"]\ntlp = \"red\"", "Zebracorn-red body");
    f.case(
        "secret-draft",
        "Zebracorn draft case",
        "organizations = [\"Draftorg\"]\ndraft = true",
        "Zebracorn-draft body",
    );
    f.case(
        "secret-embargo",
        "Zebracorn embargoed case",
        "organizations = [\"Embargoorg\"]\npublish_after = 2999-01-01T00:00:00Z",
        "Zebracorn-embargo body",
    );
    f
}

#[test]
fn organizations_techniques_and_terms_cross_link() {
    let f = cross_linked();
    f.build_ok();

    // The organization page, reached by name and by alias, lists its cases oldest first.
    let org = f.page("organizations/acme-telecom/");
    let body = text(&org);
    let first = body.find("Acme: first breach").expect("2020 case on the org page");
    let second = body.find("Acme: second breach").expect("2025 case on the org page");
    assert!(first < second, "cases in time order");
    assert!(!body.contains("Bank: web app exploited"));
    assert!(links_to(&org, "organizations/acme-telecom/", "organizations/acme-holdings/"), "parent linked");
    assert!(f.exists("organizations/acme-holdings/index.html"), "a parent without profile still gets a page");
    assert!(text(&f.page("organizations/acme-holdings/")).contains("Acme Telecom"), "parent lists its child");

    // The technique page lists both Acme cases with confidence and evidence.
    let t = f.page("techniques/T1078/");
    let tt = text(&t);
    assert!(tt.contains("Acme: first breach") && tt.contains("Acme: second breach"));
    assert!(tt.contains("A stolen employee password was used."));
    assert!(tt.to_lowercase().contains("likely"));
    assert!(links_to(&t, "techniques/T1078/", "cases/acme-2020/"));
    assert!(hrefs(&t).iter().any(|h| h == "https://attack.mitre.org/techniques/T1078"), "links to MITRE");

    // A sub-technique without tactic counts under each of its tactics.
    assert!(f.exists("techniques/T1021.001/index.html"));
    assert!(text(&f.page("tactics/lateral-movement/")).contains("Acme: first breach"));
    let ia = text(&f.page("tactics/initial-access/"));
    assert!(ia.contains("Acme: first breach") && ia.contains("Bank: web app exploited"));

    // One term per taxonomy, names that differ by case only are one term.
    let sector = text(&f.page("sectors/telecommunications/"));
    assert!(sector.contains("Acme: first breach") && sector.contains("Acme: second breach"));
    assert!(text(&f.page("countries/jp/")).contains("Acme: second breach"));
    assert!(text(&f.page("countries/us/")).contains("Bank: web app exploited"));
    assert!(text(&f.page("data-types/contract-numbers/")).contains("Acme: first breach"));
    assert!(text(&f.page("actors/apt29/")).contains("Acme: first breach"), "G0016 is shown as APT29");
    assert!(text(&f.page("tags/supply-chain/")).contains("Acme: second breach"));
    // When a case happened: detected first.
    assert!(text(&f.page("years/2020/")).contains("Acme: first breach"));
    assert!(text(&f.page("years/2017/")).contains("Bank: web app exploited"));
    for index in ["organizations/", "sectors/", "countries/", "data-types/", "actors/", "tags/", "years/", "tactics/"] {
        assert!(f.exists(&format!("{index}index.html")), "{index} index page");
    }

    // The matrix: tactics as columns in catalog order, only used techniques, with counts.
    let m = f.page("techniques/");
    let mt = text(&m);
    let ia_pos = mt.find("Initial Access").unwrap();
    let lm_pos = mt.find("Lateral Movement").unwrap();
    assert!(ia_pos < lm_pos, "catalog order");
    assert!(links_to(&m, "techniques/", "techniques/T1078/"));
    assert!(links_to(&m, "techniques/", "techniques/T1190/"));
    assert!(!mt.contains("T1566"), "unused techniques are not in the matrix");
}

#[test]
fn case_page_shows_everything_its_front_matter_says() {
    let f = cross_linked();
    f.build_ok();
    let url = "cases/acme-2020/";
    let p = f.page(url);
    let t = text(&p);
    assert!(t.contains("after September 2019"), "partial date at its own precision");
    assert!(t.contains("7 May 2020") && t.contains("28 May 2020"));
    assert!(t.contains("21 days"), "disclosure lag");
    assert!(t.contains("at most"), "dwell time from a `>` start is an upper bound");
    assert!(t.contains("621") && t.contains("892"), "revision history");
    assert!(t.contains("Contract numbers"));
    assert!(t.contains("Valid Accounts") && t.contains("Remote Desktop Protocol"));
    assert!(t.contains("Announcement 2020"));
    // Links: organization by alias, technique here, case with anchor, related, MITRE mitigations.
    assert!(links_to(&p, url, "organizations/acme-telecom/"));
    assert!(links_to(&p, url, "techniques/T1078/"));
    assert!(hrefs(&p).iter().any(|h| h == "../../cases/acme-2025/#what-happened"), "{:?}", hrefs(&p));
    assert!(links_to(&p, url, "cases/acme-2025/"), "related case");
    assert!(hrefs(&p).iter().any(|h| h.starts_with("https://attack.mitre.org/mitigations/M")), "mitigations listed");
    // Mitigations are those of the likely T1078, not of the possible T1021.001, folded.
    let against = texts(&p, ".mitigation-list .tid");
    assert!(against.iter().any(|t| t == "T1078"), "{against:?}");
    assert!(!against.iter().any(|t| t == "T1021.001"), "a possible technique's mitigations: {against:?}");
    assert!(p.select(&sel("details.mitigations:not([open]) .mitigation-list")).next().is_some(), "not folded");
    // The incident's status reads as the breach's, not a claim's.
    assert!(texts(&p, ".fact dd .status").iter().any(|s| s == "Breach confirmed"));
    // The attribution is on every page.
    assert!(t.contains("MITRE ATT&CK® and ATT&CK® are registered trademarks of The MITRE Corporation"));
}

#[test]
fn indicators_are_defanged_and_never_links() {
    let f = cross_linked();
    f.build_ok();
    let p = f.page("cases/acme-2020/");
    let t = text(&p);
    assert!(t.contains("203.0.113[.]7"));
    assert!(t.contains("hxxps://evil.example[.]com/drop"));
    assert!(!t.contains("203.0.113.7"));
    assert!(!hrefs(&p).iter().any(|h| h.contains("evil.example") || h.contains("203.0.113")));
}

#[test]
fn unpublished_cases_never_reach_any_output_file() {
    let f = cross_linked();
    let r = f.build_ok();
    for (path, bytes) in f.snapshot() {
        let s = String::from_utf8_lossy(&bytes);
        for secret in ["Zebracorn", "secret-", "Amberorg", "Redorg", "Draftorg", "Embargoorg"] {
            assert!(!s.contains(secret), "{secret} leaked into {path}");
        }
    }
    assert!(!r.stderr.contains("error"));
    // `check` names what it left out, as notes, and still succeeds.
    let c = f.run(&["check"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    for slug in ["secret-amber", "secret-red", "secret-draft", "secret-embargo"] {
        assert!(c.stderr.contains(&format!("content/cases/{slug}.md")), "{slug} listed:\n{}", c.stderr);
    }
    assert!(c.stderr.contains("TLP:AMBER") && c.stderr.contains("draft") && c.stderr.contains("embargoed until"));
    // --drafts brings the draft in, and nothing else.
    let d = f.run(&["build", "--drafts"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(f.exists("cases/secret-draft/index.html"));
    assert!(!f.exists("cases/secret-amber/index.html"));
}

#[test]
fn site_tlp_list_decides_what_is_published() {
    let f = cross_linked();
    f.write("site.toml", "title = \"T\"\n[publish]\ntlp = [\"clear\", \"green\", \"amber\"]\n");
    f.build_ok();
    assert!(f.exists("cases/secret-amber/index.html"));
    assert!(!f.exists("cases/secret-red/index.html"));
}

/// Levels are read in any case; the page and the exports say the level's own name.
/// TLP 1.0's `white` is not a level: refused, and never published.
#[test]
fn tlp_levels_are_read_in_any_case_and_white_is_refused() {
    let f = Fixture::new();
    f.case("loud-clear", "Clear case", "organizations = [\"W\"]\ntlp = \"CLEAR\"", "");
    f.case("loud-amber", "Amber case", "organizations = [\"A\"]\ntlp = \"Amber\"", "");
    f.build_ok();
    let page = f.page("cases/loud-clear/");
    assert_eq!(texts(&page, ".tlp"), ["TLP:CLEAR"]);
    let api: serde_json::Value = serde_json::from_str(&f.read("api/cases.json")).unwrap();
    let tlps: Vec<&str> = api["cases"].as_array().unwrap().iter().map(|c| c["tlp"].as_str().unwrap()).collect();
    assert_eq!(tlps, ["clear"]);
    assert!(!f.exists("cases/loud-amber/index.html"));
    f.case("old-white", "White case", "organizations = [\"W\"]\ntlp = \"WHITE\"", "");
    let r = f.run(&["build"]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "content/cases/old-white.md:5:7", "unknown TLP level \"WHITE\"");
    has(&r.stderr, "content/cases/old-white.md", "write tlp = \"clear\"");
    assert!(!f.exists("cases/old-white/index.html"));
}

#[test]
fn contributed_html_is_escaped() {
    let f = Fixture::new();
    f.case(
        "xss",
        "<script>alert('title')</script>",
        "organizations = [\"<img src=x onerror=alert(1)>\"]\nsummary = \"<b>bold</b>\"\n[[techniques]]\nid = \"T1078\"\nevidence = \"<script>alert('evidence')</script>\"",
        "Hello <script>alert('body')</script> <iframe src=\"https://evil.example\"></iframe>\n\n<div onclick=\"x()\">raw block</div>",
    );
    f.build_ok();
    for (path, bytes) in f.snapshot() {
        if path.ends_with(".html") {
            let s = String::from_utf8_lossy(&bytes).to_lowercase();
            assert!(!s.contains("<script>alert"), "script in {path}");
            assert!(!s.contains("<iframe"), "iframe in {path}");
            assert!(!s.contains("<img src=x"), "img in {path}");
            assert!(!s.contains("<div onclick"), "raw div in {path}");
        }
    }
    let p = f.page("cases/xss/");
    assert!(text(&p).contains("<script>alert('body')</script>"), "raw HTML shown as text");

    // Opting in to raw HTML keeps it in bodies (and only there).
    f.write("site.toml", "title = \"T\"\n[markdown]\nunsafe_html = true\n");
    f.build_ok();
    let html = f.read("cases/xss/index.html");
    assert!(html.contains("<div onclick=\"x()\">raw block</div>"));
    assert!(!html.contains("<script>alert('title')"));
}

#[test]
fn translations_link_each_other() {
    let f = Fixture::new();
    f.case("leak-2025", "数据泄露", "organizations = [\"Acme\"]\nlang = \"zh\"", "中文正文");
    f.case(
        "leak-2025-en",
        "Data leak",
        "organizations = [\"Acme\"]\nlang = \"en\"\ntranslation_of = \"leak-2025\"",
        "English body",
    );
    f.build_ok();
    let zh = f.page("cases/leak-2025/");
    let en = f.page("cases/leak-2025-en/");
    assert!(links_to(&zh, "cases/leak-2025/", "cases/leak-2025-en/"));
    assert!(links_to(&en, "cases/leak-2025-en/", "cases/leak-2025/"));
    assert_eq!(zh.select(&sel("html")).next().unwrap().value().attr("lang"), Some("zh"));
    // The organization counts the incident once: the English page represents it here.
    let org = text(&f.page("organizations/acme/"));
    assert!(org.contains("Data leak"));
    assert!(!org.contains("数据泄露 数据泄露"));
}

#[test]
fn every_internal_link_resolves() {
    let f = cross_linked();
    f.build_ok();
    let files = f.snapshot();
    let mut checked = 0;
    for (path, bytes) in &files {
        if !path.ends_with(".html") || path == "404.html" {
            continue;
        }
        let url = path.trim_end_matches("index.html");
        let doc = scraper::Html::parse_document(&String::from_utf8_lossy(bytes));
        for href in hrefs(&doc)
            .into_iter()
            .chain(doc.select(&sel("link[href]")).filter_map(|l| l.value().attr("href").map(String::from)))
        {
            if let Some(target) = resolve_href(url, &href) {
                let file = if target.is_empty() || target.ends_with('/') {
                    format!("{target}index.html")
                } else {
                    target.clone()
                };
                assert!(files.contains_key(&file), "{path}: broken link {href} -> {file}");
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "only {checked} links checked");
}

#[test]
fn pagination_splits_the_case_list() {
    let f = Fixture::new();
    f.write("site.toml", "title = \"T\"\n[pagination]\nper_page = 2\n");
    for i in 0..5 {
        f.case(
            &format!("c{i}"),
            &format!("Case number {i}"),
            &format!("organizations = [\"Org {i}\"]\n[incident]\ndetected = 2020-01-0{}", i + 1),
            "x",
        );
    }
    f.build_ok();
    assert!(f.exists("cases/index.html") && f.exists("cases/page/2/index.html") && f.exists("cases/page/3/index.html"));
    assert!(!f.exists("cases/page/4/index.html"));
    let first = text(&f.page("cases/"));
    assert!(
        first.contains("Case number 4") && first.contains("Case number 3") && !first.contains("Case number 2"),
        "newest first"
    );
    assert!(links_to(&f.page("cases/"), "cases/", "cases/page/2/"));
}

/// Each page of a long list links the first and the last page and its neighbours, with
/// a gap for the rest, not every page of the list.
#[test]
fn pagination_links_the_pages_near_this_one() {
    let f = Fixture::new();
    f.write("site.toml", "title = \"T\"\n[pagination]\nper_page = 1\n");
    for i in 0..12 {
        f.case(
            &format!("c{i:02}"),
            &format!("Case {i}"),
            &format!("organizations = [\"Org\"]\n[incident]\ndetected = 2020-01-{:02}", i + 1),
            "x",
        );
    }
    f.build_ok();
    let pages = |url: &str| -> Vec<String> {
        let doc = f.page(url);
        let links = sel(".pagination li:not(.pagination__prev):not(.pagination__next)");
        doc.select(&links).map(|li| li.text().collect::<String>().replace("Page", "").trim().to_string()).collect()
    };
    assert_eq!(pages("cases/page/6/"), ["1", "…", "4", "5", "6", "7", "8", "…", "12"]);
    assert_eq!(pages("cases/"), ["1", "2", "3", "…", "12"]);
    // A gap of one page is the page.
    assert_eq!(pages("cases/page/4/"), ["1", "2", "3", "4", "5", "6", "…", "12"]);
    assert_eq!(pages("cases/page/12/"), ["1", "…", "10", "11", "12"]);
    for url in ["cases/", "cases/page/6/", "cases/page/12/"] {
        assert!(f.page(url).select(&sel(".pagination a[aria-current=page]")).count() == 1, "{url}");
    }
}

#[test]
fn feeds_sitemap_robots_and_404() {
    let f = cross_linked();
    f.build_ok();
    let atom = f.read("atom.xml");
    assert!(atom.contains("https://cases.test/cases/acme-2020/"));
    let sitemap = f.read("sitemap.xml");
    assert!(sitemap.contains("<loc>https://cases.test/cases/bank-2017/</loc>"));
    assert!(sitemap.contains("<loc>https://cases.test/techniques/T1078/</loc>"));
    assert!(f.read("robots.txt").contains("Sitemap: https://cases.test/sitemap.xml"));
    assert!(f.exists("404.html"));
}

/// The feed holds the 20 newest write-ups (by `updated`, else `date`), newest first, and
/// the feed's own date is the newest one's.
#[test]
fn the_feed_holds_the_twenty_newest_write_ups_newest_first() {
    let f = Fixture::new();
    // Days out of slug order, so that neither the files' order nor the slugs' gives it.
    let day = |i: usize| (i * 7) % 25 + 1;
    for i in 0..25 {
        f.case(
            &format!("c{i:02}"),
            &format!("Case {i}"),
            &format!("updated = 2025-04-{:02}\norganizations = [\"Org\"]", day(i)),
            "x",
        );
    }
    f.build_ok();
    let atom = f.read("atom.xml");
    let ids: Vec<&str> = atom
        .split("<id>")
        .skip(2)
        .map(|s| s.split("</id>").next().unwrap().trim_start_matches("https://cases.test/cases/").trim_end_matches('/'))
        .collect();
    let mut newest: Vec<usize> = (0..25).collect();
    newest.sort_by_key(|&i| std::cmp::Reverse(day(i)));
    let want: Vec<String> = newest[..20].iter().map(|i| format!("c{i:02}")).collect();
    assert_eq!(ids, want);
    assert!(atom.contains("<updated>2025-04-25T00:00:00Z</updated>\n  <author>"), "{atom}");
}

#[test]
fn two_builds_are_byte_identical() {
    let f = cross_linked();
    f.build_ok();
    let a = f.snapshot();
    f.build_ok();
    assert_eq!(a, f.snapshot());
}

/// Builds, breaks the site with `slug`'s case, builds again: the build fails saying
/// `expect`, and the previous output is exactly as it was, with no temporary folder left.
fn failed_build_keeps_the_old_site(slug: &str, extra: &str, body: &str, expect: &str) {
    let f = cross_linked();
    f.build_ok();
    let before = f.snapshot();
    f.case(slug, "Broken", extra, body);
    let r = f.run(&["build"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(expect), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"));
    assert_eq!(before, f.snapshot());
    let leftovers: Vec<_> = std::fs::read_dir(f.root())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("casebook-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary folders left behind");
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let technique = "organizations = [\"X\"]\n[[techniques]]\nid = \"T9999\"";
    failed_build_keeps_the_old_site("broken", technique, "x", "T9999 is not an ATT&CK");
}

#[test]
fn an_error_found_only_once_pages_are_written_leaves_the_previous_output_untouched() {
    // Pages stream into the temporary folder as they are rendered; a broken anchor is
    // known only after that, and must still leave the old site as it was.
    failed_build_keeps_the_old_site(
        "anchored",
        "organizations = [\"X\"]",
        "[bad anchor](#nowhere)",
        "has no element with id",
    );
}

#[test]
fn site_templates_override_the_theme() {
    let f = cross_linked();
    f.write("templates/term.html", "OVERRIDDEN {{ term.name }} {{ cases | length }}");
    f.build_ok();
    assert_eq!(f.read("sectors/telecommunications/index.html"), "OVERRIDDEN Telecommunications 2");
    assert!(f.read("cases/acme-2020/index.html").contains("<html"), "other templates still from the theme");
}

/// Card HTML reaches a template as a mark that the HTML replaces afterwards; a filter
/// that changes the mark gets the HTML itself, as if there were no marks.
#[test]
fn a_filter_on_card_html_sees_the_html() {
    let f = cross_linked();
    f.write("templates/term.html", "{% for c in cards_html %}[{{ c | safe }}]{% endfor %}");
    f.build_ok();
    let plain = f.read("sectors/telecommunications/index.html");
    assert!(plain.starts_with("[<") && plain.contains("href="), "{plain}");
    f.write("templates/term.html", "{% for c in cards_html %}[{{ c | upper | safe }}]{% endfor %}");
    f.build_ok();
    let upper = f.read("sectors/telecommunications/index.html");
    assert_eq!(upper, plain.to_uppercase());
    assert!(!upper.contains('\u{1}'), "a mark was left in the page");
}

#[test]
fn static_files_and_bundle_assets_are_copied() {
    let f = Fixture::new();
    f.write("static/logo.txt", "logo");
    f.write(
        "content/cases/bundle-case/index.md",
        "+++\ntitle = \"Bundle\"\ndate = 2025-01-01\norganizations = [\"B\"]\n+++\n![diagram](diagram.txt)\n",
    );
    f.write("content/cases/bundle-case/diagram.txt", "d");
    f.build_ok();
    assert_eq!(f.read("logo.txt"), "logo");
    assert_eq!(f.read("cases/bundle-case/diagram.txt"), "d");
    assert!(f.read("cases/bundle-case/index.html").contains("src=\"diagram.txt\""));
    // A static file at an address the site makes itself is not published, and is named.
    f.write("static/robots.txt", "User-agent: *\nDisallow: /\n");
    let r = f.build_ok();
    has(&r.stderr, "static/robots.txt", "not published: Casebook makes /robots.txt itself");
    assert!(f.read("robots.txt").contains("Sitemap:"));
}

#[test]
fn output_folders_that_would_destroy_data_are_refused() {
    let f = cross_linked();
    for out in [".", "content", "content/cases/x", ".."] {
        let r = f.run(&["build", "--output", out]);
        assert_eq!(r.code, 1, "--output {out}: {}", r.stderr);
        assert!(r.stderr.contains("refusing to write the site"), "{}", r.stderr);
    }
    f.write("other/keep.txt", "precious");
    let r = f.run(&["build", "--output", "other"]);
    assert_eq!(r.code, 1);
    assert_eq!(std::fs::read_to_string(f.root().join("other/keep.txt")).unwrap(), "precious");
    assert!(f.root().join("content/cases/acme-2020.md").exists());
}

#[test]
fn init_and_new_make_sites_that_build() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("mysite");
    let bin = env!("CARGO_BIN_EXE_casebook");
    let run = |args: &[&str], cwd: &std::path::Path| {
        std::process::Command::new(bin).args(args).current_dir(cwd).output().unwrap()
    };
    assert!(run(&["init", site.to_str().unwrap()], dir.path()).status.success());
    let b = run(&["build"], &site);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(site.join("public/cases/example-2025/index.html").exists());
    assert!(run(&["new", "case", "acme-2026"], &site).status.success());
    assert!(run(&["new", "org", "Acme Widgets & Co"], &site).status.success());
    assert!(site.join("content/organizations/acme-widgets-and-co.md").exists());
    let b = run(&["build"], &site);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    // A new case is a draft: previewed with --drafts, published once the writer says so.
    assert!(!site.join("public/cases/acme-2026/index.html").exists());
    let b = run(&["build", "--drafts"], &site);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(site.join("public/cases/acme-2026/index.html").exists());
    // Never overwrites.
    let again = run(&["new", "case", "acme-2026"], &site);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    // A slug or name that cannot be a file name is the command line's error, and nothing is written.
    for args in [&["new", "case", "../escape"][..], &["new", "case", "Acme_2026"], &["new", "org", "!!!"]] {
        let r = run(args, &site);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&r.stderr).contains("cannot be a slug") || args[1] == "org", "{args:?}");
    }
    assert!(!dir.path().join("escape.md").exists() && !site.join("content/cases/Acme_2026.md").exists());
    // The command line itself being wrong is exit 2.
    assert_eq!(run(&["build", "--no-such-flag"], &site).status.code(), Some(2));
}

#[test]
fn a_site_can_bring_its_own_attack_catalog() {
    let f = Fixture::new();
    f.write("site.toml", "title = \"T\"\n[attack]\ncatalog = \"data/catalog.json\"\n");
    f.write(
        "data/catalog.json",
        r#"{"attack_version": "99.0", "domain": "enterprise-attack", "source": "test",
  "tactics": [{"id": "TA0001", "shortname": "initial-access", "name": "Initial Access", "url": "https://attack.mitre.org/tactics/TA0001"}],
  "techniques": [{"id": "T9000", "name": "Future Technique", "tactics": ["initial-access"], "subtechnique_of": null,
    "platforms": [], "revoked": false, "revoked_by": null, "deprecated": false, "url": "https://attack.mitre.org/techniques/T9000",
    "stix_id": "attack-pattern--00000000-0000-4000-8000-000000000000", "summary": "From the future.", "used_by": [], "mitigations": []}],
  "groups": [], "campaigns": [], "software": [], "mitigations": []}"#,
    );
    f.case("x", "X", "organizations = [\"A\"]\n[[techniques]]\nid = \"T9000\"", "");
    f.build_ok();
    let t = text(&f.page("techniques/T9000/"));
    assert!(t.contains("Future Technique") && t.contains("From the future."));
    assert!(t.contains("v99.0"), "the catalog's version is shown");
    // The built-in catalog's techniques are unknown to this one.
    f.case("y", "Y", "organizations = [\"A\"]\n[[techniques]]\nid = \"T1078\"", "");
    let r = f.run(&["check"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("T1078 is not an ATT&CK Enterprise technique (catalog v99.0)"), "{}", r.stderr);
    // A file that is not a catalog is a located error, not a panic.
    f.write("data/catalog.json", "{\"hello\": 1}");
    let r = f.run(&["check"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not an ATT&CK catalog"), "{}", r.stderr);
}

#[test]
fn navigation_marks_the_current_section() {
    let f = cross_linked();
    f.build_ok();
    let current = |url: &str| -> Vec<String> {
        f.page(url)
            .select(&sel("nav a[aria-current=page]"))
            .filter_map(|a| a.value().attr("href").map(String::from))
            .collect()
    };
    assert_eq!(current("cases/"), vec!["../cases/"]);
    assert_eq!(current("sectors/"), vec!["../sectors/"]);
    assert!(f.page("sectors/telecommunications/").select(&sel("nav a.is-section")).count() == 1);
}

/// Related cases: ranked by what they share, at most five, one entry per incident (a
/// translation is the same incident), each saying why; a lone shared technique is not
/// enough.
#[test]
fn related_cases_are_ranked_once_per_incident_and_say_why() {
    let f = Fixture::new();
    f.write("site.toml", "title = \"T\"\nbase_url = \"https://cases.test\"\n");
    let tech = |ids: &[&str]| ids.iter().map(|t| format!("[[techniques]]\nid = \"{t}\"\n")).collect::<String>();
    let case = |slug: &str, org: &str, sector: &str, year: u16, techs: &[&str], extra: &str| {
        f.case(
            slug,
            slug,
            &format!(
                "organizations = [\"{org}\"]\n{extra}\n[incident]\nsectors = [\"{sector}\"]\ndetected = {year}-01-10\n{}",
                tech(techs)
            ),
            "Body.",
        );
    };
    case("focus", "Acme", "Retail", 2020, &["T1078", "T1133", "T1190"], "");
    // Same sector and two techniques: related, once, though it has a translation.
    case("shop", "Shop", "Retail", 2021, &["T1078", "T1133"], "");
    case("shop-ja", "Shop", "Retail", 2021, &["T1078", "T1133"], "lang = \"ja\"\ntranslation_of = \"shop\"");
    // One shared technique only: not related.
    case("clinic", "Clinic", "Health", 2019, &["T1078"], "");
    // Six more cases of the same organization: five places in all.
    for y in 2010..2016 {
        case(&format!("acme-{y}"), "Acme", "Energy", y, &["T1566"], "");
    }
    f.build_ok();
    let page = f.page("cases/focus/");
    let related: Vec<String> = page
        .select(&sel(".related .card__title a"))
        .filter_map(|a| a.value().attr("href").map(|h| h.trim_matches(['.', '/']).to_string()))
        .collect();
    assert_eq!(related.len(), 5, "{related:?}");
    assert!(related.iter().all(|r| r.starts_with("cases/acme-")), "same organization first: {related:?}");
    let why = texts(&page, ".related__why");
    assert_eq!(why.len(), 5);
    assert!(why.iter().all(|w| w.contains("Same organization: Acme")), "{why:?}");

    // Without the organization's other cases, the retailer comes, once, with its reasons.
    for y in 2010..2016 {
        std::fs::remove_file(f.root().join(format!("content/cases/acme-{y}.md"))).unwrap();
    }
    f.build_ok();
    let page = f.page("cases/focus/");
    let related: Vec<String> = page
        .select(&sel(".related .card__title a"))
        .filter_map(|a| a.value().attr("href").map(|h| h.trim_matches(['.', '/']).to_string()))
        .collect();
    assert_eq!(related, ["cases/shop"], "one entry per incident, and a lone shared technique is no relation");
    assert_eq!(texts(&page, ".related__why"), ["Why: Same sector: Retail · 2 ATT&CK techniques in common"]);
}

/// A reference without a title is a warning in `check`, and the page names it by its site.
#[test]
fn an_untitled_reference_is_a_warning_and_shows_its_site() {
    let f = Fixture::new();
    f.write("site.toml", "title = \"T\"\nbase_url = \"https://cases.test\"\n");
    f.case(
        "refs",
        "Refs",
        "organizations = [\"Acme\"]\n[[references]]\nurl = \"https://www.example.org/news/1\"\npublisher = \"Example News\"\ndate = 2024-05-01\nlang = \"ja\"\n[[references]]\nurl = \"https://example.com/a\"\ntitle = \"A report\"\npublisher = \"Example\"",
        "Body.",
    );
    let r = f.run(&["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("warning[reference-untitled]"), "{}", r.stderr);
    assert!(r.stderr.contains("content/cases/refs.md:6:7"), "located at the url: {}", r.stderr);
    assert_eq!(r.stderr.matches("reference-untitled").count(), 1, "{}", r.stderr);
    f.build_ok();
    // (`texts` joins text nodes with spaces.)
    let refs: Vec<String> = texts(&f.page("cases/refs/"), ".ref-list li")
        .iter()
        .map(|t| t.replace(" ,", ",").replace("( ", "(").replace(" )", ")"))
        .collect();
    assert_eq!(refs[0], "example.org, Example News, 1 May 2024 (日本語) untitled page");
    assert_eq!(refs[1], "A report, Example");
}
