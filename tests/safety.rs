//! The writer's safety net: each mistake a writer can make is caught where it is made,
//! with the message they see, where they see it, and the exit status.

mod common;

use common::*;

const OK: &str = "organizations = [\"Acme\"]";

fn check(f: &Fixture, args: &[&str], code: i32) -> String {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let r = f.run(&all);
    assert_eq!(r.code, code, "exit status of {all:?}; stderr:\n{}", r.stderr);
    r.stderr
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook")).args(args).current_dir(dir).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn org_links_resolve_as_writers_write_them() {
    let f = Fixture::new();
    f.case(
        "a",
        "A",
        "organizations = [\"Acme Corp\"]",
        "By [name](org:Acme Corp), [case](org:ACME  corp), [slug](org:acme-corp).",
    );
    f.build_ok();
    let doc = f.page("cases/a/");
    let body: Vec<String> =
        doc.select(&sel(".prose a[href]")).filter_map(|a| a.value().attr("href").map(str::to_string)).collect();
    let to_org = body.iter().filter(|h| resolve_href("cases/a/", h).as_deref() == Some("organizations/acme-corp/"));
    assert_eq!(to_org.count(), 3, "{body:?}");
    assert!(!text(&doc).contains("](org:"), "rendered literally: {}", text(&doc));
    // Case slugs as writers write them: any case, with or without `.md`.
    f.case("b", "B", &format!("{OK}\nrelated = [\"A.md\"]"), "See [a](@/cases/A.md).");
    f.build_ok();
    assert!(links_to(&f.page("cases/b/"), "cases/b/", "cases/a/"));
    // In code, it stays as written.
    f.case("a", "A", "organizations = [\"Acme Corp\"]", "Write `[x](org:Acme Corp)` for a link.");
    f.build_ok();
    assert!(text(&f.page("cases/a/")).contains("[x](org:Acme Corp)"));
}

#[test]
fn the_example_site_of_init_links_its_organization() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_in(dir.path(), &["init", "site"]).code, 0);
    let site = dir.path().join("site");
    let r = run_in(&site, &["build", "--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(site.join("public/cases/example-2025/index.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    assert!(links_to(&doc, "cases/example-2025/", "organizations/example-corp/"));
    assert!(!text(&doc).contains("](org:"));
}

#[test]
fn one_slug_is_one_case() {
    let f = Fixture::new();
    f.case("x", "Single file", OK, "");
    f.write("content/cases/x/index.md", &format!("+++\ntitle = \"Bundle\"\ndate = 2025-01-01\n{OK}\n+++\n"));
    let out = check(&f, &[], 1);
    has(
        &out,
        "error[case-duplicate]: content/cases/x.md: content/cases/x/index.md makes the same case `x`",
        "/cases/x/",
    );
    has(&out, "case-duplicate", "keep one");
}

#[test]
fn content_in_the_wrong_place_is_named_with_what_was_meant() {
    let f = Fixture::new();
    f.case("a", "A", OK, "");
    f.write("content/case/typo.md", "+++\n+++\n");
    f.write("content/cases/b.markdown", "+++\n+++\n");
    f.write("content/cases/c/c.md", "+++\n+++\n");
    f.write("content/organisations/acme.md", "+++\nname = \"Acme\"\n+++\n");
    let out = check(&f, &[], 0);
    has(&out, "content/case/", "did you mean content/cases/?");
    has(&out, "content/organisations/", "did you mean content/organizations/?");
    has(&out, "content/cases/b.markdown", "rename it to b.md");
    has(&out, "content/cases/c/", "rename c.md to index.md");
    assert!(out.contains("warning[content-ignored]"), "{out}");
    check(&f, &["--strict"], 1);
}

#[test]
fn the_site_is_found_from_a_sub_folder_and_new_case_writes_where_meant() {
    let f = Fixture::new();
    f.case("a", "A", OK, "");
    let sub = f.root().join("content/cases");
    let r = run_in(&sub, &["build"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(f.exists("cases/a/index.html"), "the site at the root was built");
    assert!(!sub.join("public").exists(), "no empty site in the sub-folder");
    // `new case` from a sub-folder, with or without `.md`.
    assert_eq!(run_in(&sub, &["new", "case", "foo.md"]).code, 0);
    assert!(sub.join("foo.md").exists());
    assert!(!sub.join("foo.md.md").exists() && !sub.join("content").exists());
    // Outside any site: how to make one, and the command line was wrong (2).
    let nowhere = tempfile::tempdir().unwrap();
    let r = run_in(nowhere.path(), &["build"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no site here") && r.stderr.contains("casebook init"), "{}", r.stderr);
    // --root naming a folder that does not exist is a wrong command line.
    let r = f.run(&["check", "--root", "no-such-folder"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no-such-folder: there is no such folder"), "{}", r.stderr);
    // --root naming the site's file instead of its folder says so.
    let r = f.run(&["check", "--root", "site.toml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("site.toml: this is a file; --root names the site's folder (here .)"), "{}", r.stderr);
}

#[test]
fn new_cases_are_drafts_and_their_placeholders_are_errors_once_published() {
    let f = Fixture::new();
    assert_eq!(f.run(&["new", "case", "acme-2026"]).code, 0);
    let path = f.root().join("content/cases/acme-2026.md");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("draft = true"));
    let out = check(&f, &[], 0);
    assert!(out.contains("0 published cases (1 left out)"), "{out}");
    // Published with its placeholders: each is an error where it is.
    let published: String = text.lines().filter(|l| !l.starts_with("draft")).collect::<Vec<_>>().join("\n");
    std::fs::write(&path, published).unwrap();
    let out = check(&f, &[], 1);
    has(&out, "content/cases/acme-2026.md:2:10", "the title is still the placeholder of `casebook new case`");
    has(&out, "content/cases/acme-2026.md", "the summary is still the placeholder");
    has(&out, "content/cases/acme-2026.md", "the text is still the placeholder");
    has(&out, "placeholder-left", "keep `draft = true` until it is ready");
}

#[test]
fn indicators_are_checked_per_type_and_defanged_once() {
    let f = Fixture::new();
    let ind = |t: &str, v: &str| format!("[[indicators]]\ntype = \"{t}\"\nvalue = \"{v}\"\n");
    f.case(
        "x",
        "X",
        &format!(
            "{OK}\n{}{}{}",
            ind("ip", "198.51.100[.]23"),
            ind("url", "hxxps://evil[.]example/login"),
            ind("sha256", &"AB".repeat(32))
        ),
        "",
    );
    f.build_ok();
    let page = text(&f.page("cases/x/"));
    assert!(page.contains("198.51.100[.]23") && !page.contains("[[.]]"), "{page}");
    assert!(page.contains("hxxps://evil[.]example/login"), "{page}");
    let stix = f.read("cases/x/stix.json");
    assert!(stix.contains("198.51.100.23") && !stix.contains("[.]"), "exported fanged: {stix}");
    assert!(stix.contains(&"ab".repeat(32)));

    f.case(
        "x",
        "X",
        &format!(
            "{OK}\n{}{}{}{}{}",
            ind("ip", "198.51.100.300"),
            ind("domain", "https://evil.example/x"),
            ind("email", "ops-at-evil"),
            ind("sha256", &"a".repeat(40)),
            ind("md5", &"z".repeat(32))
        ),
        "",
    );
    let out = check(&f, &[], 1);
    has(&out, "content/cases/x.md:7:9", "\"198.51.100.300\" is not an IP address");
    has(&out, "content/cases/x.md:10:9", "this is a URL: write type = \"url\"");
    has(&out, "content/cases/x.md:13:9", "is not an email address");
    has(&out, "content/cases/x.md:16:9", "(40 hex digits: a SHA-1 hash, type = \"sha1\")");
    has(&out, "content/cases/x.md:19:9", "is not an MD5 hash");
}

#[test]
fn a_translation_is_published_only_if_its_original_is() {
    let f = Fixture::new();
    f.case("orig", "Original", &format!("{OK}\ntlp = \"red\""), "");
    f.case("orig-zh", "Translation", &format!("{OK}\nlang = \"zh\"\ntranslation_of = \"orig\"\ntlp = \"clear\""), "");
    f.case("draft", "Draft", &format!("{OK}\ndraft = true"), "");
    f.case("draft-ja", "Translation", &format!("{OK}\nlang = \"ja\"\ntranslation_of = \"draft\""), "");
    f.case("other", "Other", OK, "");
    f.build_ok();
    assert!(!f.exists("cases/orig-zh/index.html") && !f.exists("cases/draft-ja/index.html"));
    assert!(f.exists("cases/other/index.html"));
    assert!(!f.read("api/cases.json").contains("orig-zh"));
    let out = check(&f, &[], 0);
    has(&out, "content/cases/orig-zh.md", "a translation of orig, which is left out (TLP:RED");
    has(&out, "content/cases/draft-ja.md", "a translation of draft, which is left out (draft");
}

#[test]
fn base_urls_and_language_tags_are_checked() {
    let f = Fixture::new();
    f.case("a", "A", OK, "");
    let r = f.run(&["build", "--base-url", "notaurl"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("\"notaurl\" is not a web address"), "{}", r.stderr);
    assert!(!f.exists("index.html"));
    f.build_ok();

    f.write("site.toml", "title = \"T\"\nbase_url = \"https:// cases.test\"\nlanguage = \"english\"\n");
    let out = check(&f, &[], 1);
    has(&out, "site.toml:2:1", "is not a web address");
    has(&out, "site.toml:3:1", "\"english\" is not a language tag");
    has(&out, "site.toml:3:1", "did you mean \"en\"?");

    f.write("site.toml", "title = \"T\"\nlanguage = \"pt-BR\"\n");
    f.case("a", "A", &format!("{OK}\nlang = \"japanese\""), "");
    let out = check(&f, &[], 1);
    has(&out, "content/cases/a.md:5:8", "did you mean \"ja\"?");
}

#[test]
fn control_characters_are_refused_where_they_are() {
    let f = Fixture::new();
    f.write("content/cases/a.md", &format!("+++\ntitle = \"Title with a \u{8} backspace\"\ndate = 2025-01-01\n{OK}\n+++\nBody with a NUL \u{0} in it.\n"));
    let out = check(&f, &[], 1);
    has(&out, "content/cases/a.md:2:23", "a control character (U+0008) is not allowed");
    has(&out, "content/cases/a.md:6:17", "a control character (U+0000) is not allowed");
    assert!(!out.contains("not valid TOML"), "reported once, as what it is:\n{out}");
    // Written as a TOML escape, it is just as invisible and just as invalid in XML.
    f.write(
        "content/cases/a.md",
        &format!("+++\ntitle = \"Title with a \\b backspace\"\ndate = 2025-01-01\n{OK}\n+++\n"),
    );
    let out = check(&f, &[], 1);
    has(&out, "content/cases/a.md:2:9", "this text has a control character (U+0008), written as an escape");
    let b = f.run(&["build"]);
    assert_eq!(b.code, 1);
    assert!(!f.exists("atom.xml"), "no feed with invalid XML is written");
}

#[test]
fn dates_that_cannot_be_are_warnings_and_errors_when_strict() {
    let f = Fixture::new();
    f.case(
        "a",
        "A",
        &format!("{OK}\n[incident]\nstarted = 2024-05-01\ndetected = 2024-03-01\ndisclosed = \"2024-02\"\ncontained = 2199-01-01\nnotified = \"2199-05\""),
        "",
    );
    let out = check(&f, &[], 0);
    has(&out, "content/cases/a.md:7:12", "detected (2024-03-01) is before started (2024-05-01)");
    has(&out, "content/cases/a.md:8:13", "disclosed (2024-02) is before detected (2024-03-01)");
    has(&out, "content/cases/a.md:9:13", "contained (2199-01-01) is in the future");
    // As written, not as the first day it may be.
    has(&out, "content/cases/a.md:10:12", "notified (2199-05) is in the future");
    assert!(out.contains("warning[date-order]"), "{out}");
    check(&f, &["--strict"], 1);
    f.write("content/cases/a.md", &format!("+++\ntitle = \"A\"\ndate = 2199-03-14\n{OK}\n+++\n"));
    has(&check(&f, &[], 0), "content/cases/a.md:3:8", "date (2199-03-14) is in the future");
    // Vague dates are read leniently: ">2024-02" may mean from February on.
    f.case(
        "a",
        "A",
        &format!("{OK}\n[incident]\nstarted = \">2024-02\"\ndetected = 2024-02-20\ndisclosed = \"~2024-02\"\ncontained = \"<2024-02\""),
        "",
    );
    let out = check(&f, &["--strict"], 0);
    assert!(!out.contains("date-order"), "{out}");
}

#[test]
fn root_absolute_links_work_under_a_sub_path_and_on_file_urls() {
    let f = Fixture::new();
    f.case("a", "A", OK, "See [b](/cases/b/) and [the list](/cases/) and ![logo](/logo.png).");
    f.case("b", "B", OK, "");
    f.write("static/logo.png", "png");
    let out = check(&f, &[], 0);
    has(&out, "content/cases/a.md:6:", "`/logo.png` starts at the site's root");
    f.build_ok();
    let doc = f.page("cases/a/");
    let hrefs = hrefs(&doc);
    assert!(hrefs.contains(&"../../cases/b/".to_string()), "{hrefs:?}");
    assert!(!hrefs.iter().any(|h| h.starts_with('/')), "{hrefs:?}");
    // Still checked against the built site.
    f.case("a", "A", OK, "See [gone](/cases/gone/).");
    let out = check(&f, &[], 1);
    has(&out, "content/cases/a.md:6:", "/cases/gone/");
}

#[test]
fn a_broken_case_is_reported_once_with_what_depends_on_it() {
    let f = Fixture::new();
    f.write("content/cases/broken.md", "+++\ntitle = \"B\"\ndate = 2025-01-01\norganizations = [\"Acme\"\n+++\n");
    for s in ["a", "b", "c"] {
        f.case(s, s, OK, "See [the broken one](@/cases/broken.md).");
    }
    f.case("d", "D", &format!("{OK}\nrelated = [\"broken\"]"), "");
    let out = check(&f, &[], 1);
    assert!(!out.contains("no case with slug"), "cascade reported:\n{out}");
    has(&out, "content/cases/broken.md", "4 files link to this case, which cannot be read");
    assert!(out.contains("error: 1 error"), "{out}");
    // The cause comes before its consequence.
    let cause = out.find("error[front-matter-invalid]").unwrap();
    let note = out.find("4 files link").unwrap();
    assert!(cause < note, "{out}");
}

#[test]
fn toml_mistakes_are_told_in_the_writers_words_all_at_once() {
    let f = Fixture::new();
    f.case(
        "a",
        "A",
        &format!("{OK}\nsumary = \"x\"\n[incident]\nstatus = \"confirmd\"\ncountries = [\"Japan\"]\n[impact]\npeople = \"17891\"\nrecords = -5"),
        "",
    );
    let out = check(&f, &[], 1);
    has(&out, "content/cases/a.md:5:1", "unknown key `sumary`");
    has(&out, "content/cases/a.md:5:1", "did you mean `summary`?");
    has(&out, "content/cases/a.md:7:10", "`status` in [incident] cannot be \"confirmd\"");
    has(&out, "content/cases/a.md:7:10", "did you mean \"confirmed\"?");
    has(&out, "content/cases/a.md:10:10", "`people` in [impact] must be a whole number, like 17891, not \"17891\"");
    has(&out, "content/cases/a.md:11:11", "`records` in [impact] cannot be negative: -5");
    // The file's other problems are reported in the same run.
    has(&out, "content/cases/a.md:8:14", "Japan is written \"JP\"");
    assert!(!out.contains("invalid type") && !out.contains("expected u64"), "{out}");
    assert!(out.contains("error: 5 errors"), "{out}");
    // site.toml too.
    f.write("site.toml", "title = \"T\"\n[pagination]\nper_page = \"ten\"\n");
    has(&check(&f, &[], 1), "site.toml:3:12", "`per_page` in [pagination] must be a whole number, like 50");
}

#[test]
fn messages_say_things_once_and_never_list_nothing() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.root().join("content/cases")).unwrap();
    std::fs::write(f.root().join("content/cases/latin1.md"), b"+++\ntitle = \"caf\xe9\"\n+++\n").unwrap();
    f.case("a", "A", OK, "See [x](@/cases/b.md#timeline).");
    f.case("b", "B", OK, "No headings here.");
    let out = check(&f, &[], 1);
    let line = out.lines().find(|l| l.contains("not UTF-8")).unwrap();
    assert!(!line.contains("latin1.md"), "{line}");
    // At its place, as every error is, so editors and CI annotations find it.
    has(&out, "content/cases/latin1.md:2:13", "this is the first byte that is not");
    let json = f.run(&["check", "--format", "json"]).stdout;
    assert!(json.contains("\"line\": 2") || json.contains("\"line\":2"), "{json}");
    has(&out, "content/cases/a.md:6:", "that case has no headings");
    assert!(!out.contains("its headings are: \n") && !out.contains("its headings are: ,"), "{out}");
}

#[test]
fn toml_syntax_mistakes_say_what_to_write() {
    let f = Fixture::new();
    f.write("content/cases/a.md", "+++\ntitle = Acme breach\ndate = 2025-01-01\norganizations = [\"A\" \"B\"]\n+++\n");
    let out = check(&f, &[], 1);
    has(&out, "content/cases/a.md:2:9", "not valid TOML: text must be in quotes");
    has(&out, "content/cases/a.md:2:9", "write \"Acme breach\"");
    has(&out, "content/cases/a.md:4:22", "a comma is missing between two items of the list");
    assert!(!out.contains("expected literal string"), "{out}");
}
