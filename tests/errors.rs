//! Every validation rule a writer can trip, with the message and `FILE:LINE:COL`
//! they see, all in one run, and the exit status.

mod common;

use common::*;

/// Runs `check` and returns stderr, asserting the exit status.
fn check(f: &Fixture, code: i32) -> String {
    let r = f.run(&["check"]);
    assert_eq!(r.code, code, "exit status; stderr:\n{}", r.stderr);
    r.stderr
}

const OK: &str = "organizations = [\"Acme\"]";

#[test]
fn every_error_of_a_run_is_reported_with_its_place() {
    let f = Fixture::new();
    f.case("unknown-key", "A", &format!("{OK}\nsumary = \"typo\""), "");
    f.case("technique-unknown", "B", &format!("{OK}\n[[techniques]]\nid = \"T9999\""), "");
    f.case("technique-revoked", "C", &format!("{OK}\n[[techniques]]\nid = \"T1002\""), "");
    f.case("tactic-mismatch", "D", &format!("{OK}\n[[techniques]]\nid = \"T1190\"\ntactic = \"exfiltration\""), "");
    f.case("bad-date", "E", &format!("{OK}\n[incident]\nstarted = \"2019-13\""), "");
    f.case("bad-tlp", "F", &format!("{OK}\ntlp = \"purple\""), "");
    f.case("bad-ref", "G", &format!("{OK}\n[[references]]\nurl = \"javascript:alert(1)\""), "");
    f.case("bad-country", "H", &format!("{OK}\n[incident]\ncountries = [\"XX\"]"), "");
    f.case(
        "bad-links",
        "I",
        OK,
        "See [x](@/cases/nope.md), [y](<org:Nobody Inc>), [z](attack:T9998) and [w](javascript:alert(1)).",
    );
    f.case("no-orgs", "J", "organizations = []", "");
    f.write("content/cases/no-front-matter.md", "just text\n");
    f.case("bad-related", "K", &format!("{OK}\nrelated = [\"ghost\"]"), "");
    f.case("bad-id", "L", &format!("{OK}\n[[techniques]]\nid = \"1078\""), "");
    f.case("tactic-name", "M", &format!("{OK}\n[[techniques]]\nid = \"T1190\"\ntactic = \"Initial Access\""), "");
    f.case("tactic-unknown", "N", &format!("{OK}\n[[techniques]]\nid = \"T1190\"\ntactic = \"initial-acces\""), "");
    let out = check(&f, 1);

    has(&out, "content/cases/unknown-key.md:5:1", "unknown key `sumary`");
    has(&out, "content/cases/unknown-key.md:5:1", "did you mean `summary`?");
    has(&out, "content/cases/technique-unknown.md:6:6", "T9999 is not an ATT&CK Enterprise technique");
    has(&out, "content/cases/technique-revoked.md:6:6", "use T1560 (Archive Collected Data) instead");
    has(&out, "content/cases/tactic-mismatch.md:7:10", "does not belong to tactic \"exfiltration\"");
    has(&out, "content/cases/tactic-mismatch.md", "its tactics are: initial-access");
    has(&out, "content/cases/bad-date.md:6:11", "expected a date such as 2019");
    has(&out, "content/cases/bad-tlp.md:5:7", "unknown TLP level \"purple\"");
    has(&out, "content/cases/bad-ref.md:6:7", "is not an http or https URL");
    has(&out, "content/cases/bad-country.md:6:14", "\"XX\" is not an ISO 3166-1 alpha-2 country code");
    has(&out, "content/cases/bad-links.md:6:9", "no case with slug \"nope\"");
    has(&out, "content/cases/bad-links.md:6:", "no organization named \"Nobody Inc\"");
    has(&out, "content/cases/bad-links.md:6:", "T9998 is not an ATT&CK Enterprise technique");
    has(&out, "content/cases/bad-links.md:6:", "javascript");
    has(&out, "content/cases/no-orgs.md:4:17", "at least one organization");
    has(&out, "content/cases/no-front-matter.md:1:1", "must start with TOML front matter");
    has(&out, "content/cases/bad-related.md:5:12", "no case with slug \"ghost\"");
    has(&out, "content/cases/bad-id.md:6:6", "is not an ATT&CK technique id");
    has(&out, "content/cases/tactic-name.md:7:10", "\"Initial Access\" is the tactic Initial Access (TA0001)");
    has(&out, "content/cases/tactic-name.md", "write tactic = \"initial-access\"");
    has(&out, "content/cases/tactic-unknown.md:7:10", "\"initial-acces\" is not an ATT&CK tactic");
    has(&out, "content/cases/tactic-unknown.md", "did you mean \"initial-access\"?");
    // All of them in one run, counted in the summary.
    assert!(out.contains("error: 18 errors"), "{out}");
}

#[test]
fn warnings_pass_unless_strict() {
    let f = Fixture::new();
    f.case(
        "w",
        "W",
        &format!(
            "{OK}\n[[techniques]]\nid = \"T1026\"\n[[techniques]]\nid = \"T1078\"\nname = \"Valid Account Abuse\""
        ),
        "",
    );
    let out = check(&f, 0);
    has(&out, "content/cases/w.md:6:6", "T1026 (Multiband Communication) is deprecated");
    has(&out, "content/cases/w.md:9:8", "T1078 is named \"Valid Accounts\" in ATT&CK, not \"Valid Account Abuse\"");
    let strict = f.run(&["check", "--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    let b = f.run(&["build", "--strict"]);
    assert_eq!(b.code, 1);
    assert!(!f.exists("index.html"));
    // Names are compared only in English write-ups.
    f.case("w", "W", &format!("{OK}\nlang = \"zh\"\n[[techniques]]\nid = \"T1078\"\nname = \"使用合法账户\""), "");
    assert!(f.run(&["check", "--strict"]).code == 0);
}

#[test]
fn slug_collisions_name_both_spellings() {
    let f = Fixture::new();
    f.case("a", "A", "organizations = [\"Acme Corp\"]", "");
    f.case("b", "B", "organizations = [\"Acme-Corp\"]", "");
    let out = check(&f, 1);
    assert!(
        out.contains("\"Acme-Corp\" and \"Acme Corp\"") || out.contains("\"Acme Corp\" and \"Acme-Corp\""),
        "{out}"
    );
    assert!(out.contains("/organizations/acme-corp/"), "{out}");
    // Names differing only by case are one term.
    f.case("b", "B", "organizations = [\"ACME CORP\"]", "");
    check(&f, 0);
}

#[test]
fn site_toml_errors_are_located() {
    let f = Fixture::new();
    f.write("site.toml", "title = \"T\"\n[build]\nouptut = \"x\"\n");
    let out = check(&f, 1);
    has(&out, "site.toml:3:1", "unknown key `ouptut`");
    has(&out, "site.toml:3:1", "did you mean `output`?");
    f.write("site.toml", "title = \"T\"\n[publish]\ntlp = [\"clear\", \"pink\"]\n");
    has(&check(&f, 1), "site.toml:3:17", "unknown TLP level \"pink\"");
    // Values serde takes but the site cannot use: each at its key.
    f.write("site.toml", "title = \"T\"\n[pagination]\nper_page = 0\n");
    has(&check(&f, 1), "site.toml:3:1", "per_page must be at least 1");
    // A highlight theme is checked with the files, so their errors come in the same run.
    f.write("site.toml", "title = \"T\"\n[markdown]\nhighlight_theme = \"InspiredGithub\"\n");
    f.case("bad", "Bad", "organizations = []", "");
    let out = check(&f, 1);
    has(&out, "site.toml:3:1", "unknown highlight theme `InspiredGithub`; did you mean `InspiredGitHub`?");
    has(&out, "content/cases/bad.md:4:17", "at least one organization");
    std::fs::remove_file(f.root().join("content/cases/bad.md")).unwrap();
    // A theme or catalog that is not there: at its key, and only that error.
    f.write("site.toml", "title = \"T\"\ntheme = \"nope\"\n");
    let out = check(&f, 1);
    has(&out, "site.toml:2:1", "theme \"nope\" not found");
    assert!(!out.contains("template-missing") && out.contains("1 error"), "{out}");
    f.write("site.toml", "title = \"T\"\n[attack]\ncatalog = \"data/missing.json\"\n");
    has(&check(&f, 1), "site.toml:3:1", "cannot read the ATT&CK catalog");
    // One line is a whole valid site.toml.
    f.write("site.toml", "title = \"T\"\n");
    check(&f, 0);
}

#[test]
fn bad_files_are_refused_without_panicking() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.root().join("content/cases")).unwrap();
    std::fs::write(f.root().join("content/cases/latin1.md"), b"+++\ntitle = \"caf\xe9\"\n+++\n").unwrap();
    f.write("content/cases/Bad Name.md", &format!("+++\ntitle = \"x\"\ndate = 2025-01-01\n{OK}\n+++\n"));
    f.write("content/cases/empty.md", "");
    f.write("content/cases/unclosed.md", "+++\ntitle = \"x\"\n");
    let out = check(&f, 1);
    has(&out, "content/cases/latin1.md", "not UTF-8");
    has(&out, "content/cases/Bad Name.md", "cannot be a case slug");
    has(&out, "content/cases/empty.md", "must start with TOML front matter");
    has(&out, "content/cases/unclosed.md", "not closed");
    assert!(!out.contains("panicked"));
}

/// The cause comes first: a loop of translations at each `translation_of`, a case naming
/// itself as that and nothing more, and what is left out after why.
#[test]
fn what_follows_from_an_error_comes_after_it() {
    let f = Fixture::new();
    f.case("a", "A", &format!("{OK}\ntranslation_of = \"b\"\nlang = \"ja\""), "");
    f.case("b", "B", &format!("{OK}\ntranslation_of = \"a\"\nlang = \"zh\""), "");
    f.case("c", "C", &format!("{OK}\ntranslation_of = \"c\""), "");
    f.case("d", "D", &format!("{OK}\ntlp = \"amber strict\""), "");
    let out = check(&f, 1);
    has(&out, "content/cases/a.md:5:18", "translation_of forms a cycle");
    has(&out, "content/cases/b.md:5:18", "translation_of forms a cycle");
    has(&out, "content/cases/c.md:5:18", "a case cannot refer to itself");
    let c = &out[out.find("content/cases/c.md").unwrap()..];
    assert!(!c[..c.find("content/cases/d.md").unwrap()].contains("cycle"), "{out}");
    let error = out.find("unknown TLP level \"amber strict\"").unwrap();
    let note = out.find("left out: TLP:RED").expect(&out);
    assert!(error < note, "{out}");
}

/// Front matter of the wrong shape, in the writer's words.
#[test]
fn front_matter_of_the_wrong_shape_is_said_in_words() {
    let f = Fixture::new();
    f.case("a", "A", &format!("{OK}\n[[incident]]\nsectors = [\"Retail\"]"), "");
    f.case("b", "B", &format!("{OK}\nincident = []"), "");
    f.case("c", "C", &format!("{OK}\n[[techniques]]\nid = \"T1078\"\nconfidence = 1"), "");
    let out = check(&f, 1);
    has(&out, "content/cases/a.md:5:1", "`incident` is one table, not a list of them");
    has(&out, "content/cases/b.md:5:12", "`incident` must be a table, not a list");
    has(&out, "content/cases/c.md:7:14", "`confidence` in [techniques] must be one of its words in quotes, not 1");
    assert!(!out.contains("RawIncident") && !out.contains("wanted"), "{out}");
}

/// A template's syntax error is at its line and column, said on one line.
#[test]
fn a_template_syntax_error_is_located() {
    let f = Fixture::new();
    f.case("a", "A", OK, "");
    f.write("templates/case.html", "{% extends \"base.html\" %}\n{% block main %}\n  {% if %}\n{% endblock %}\n");
    let out = check(&f, 1);
    has(&out, "templates/case.html:3:9", "Failed to parse 'case.html': expected a value");
    assert!(!out.contains("-->"), "{out}");
}

/// `content` (or one of its folders) as a file would make an empty site without a word.
#[test]
fn a_content_folder_that_is_a_file_is_an_error() {
    let f = Fixture::new();
    f.case("a", "A", OK, "");
    f.build_ok();
    std::fs::remove_dir_all(f.root().join("content")).unwrap();
    f.write("content", "not a folder");
    let out = check(&f, 1);
    has(&out, "content", "content is a file, not a folder");
    assert_eq!(f.run(&["build"]).code, 1);
    assert!(f.exists("cases/a/index.html"), "the last good site stays");
    std::fs::remove_file(f.root().join("content")).unwrap();
    f.write("content/organizations", "x");
    has(&check(&f, 1), "content/organizations", "is a file, not a folder");
}

#[test]
fn symlinks_out_of_the_site_are_refused() {
    let f = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.md"),
        "+++\ntitle = \"Secret\"\ndate = 2025-01-01\norganizations = [\"S\"]\n+++\nsecret",
    )
    .unwrap();
    std::fs::create_dir_all(f.root().join("content/cases")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path().join("secret.md"), f.root().join("content/cases/secret.md")).unwrap();
    let out = check(&f, 1);
    has(&out, "content/cases/secret.md", "points outside the site");
    // A link to nothing, or a loop of links, is said to be one.
    #[cfg(unix)]
    {
        std::fs::remove_file(f.root().join("content/cases/secret.md")).unwrap();
        std::os::unix::fs::symlink("nowhere.md", f.root().join("content/cases/dangling.md")).unwrap();
        std::os::unix::fs::symlink("loop.md", f.root().join("content/cases/loop.md")).unwrap();
        let out = check(&f, 0);
        has(&out, "content/cases/dangling.md", "symbolic link to nothing that can be read");
        has(&out, "content/cases/loop.md", "symbolic link to nothing that can be read");
        assert!(!out.contains("outside"), "{out}");
    }
}

#[test]
fn machine_formats() {
    let f = Fixture::new();
    f.case("x", "X", &format!("{OK}\n[[techniques]]\nid = \"T9999\""), "");
    let j = f.run(&["check", "--format", "json"]);
    assert_eq!(j.code, 1);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).expect("one JSON document");
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "technique-unknown");
    assert_eq!(d["file"], "content/cases/x.md");
    assert_eq!(d["line"], 6);
    assert_eq!(d["column"], 6);
    assert_eq!(v["errors"], 1);
    let g = f.run(&["check", "--format", "github"]);
    assert!(
        g.stdout.starts_with("::error file=content/cases/x.md,line=6,col=6,title=technique-unknown::T9999"),
        "{}",
        g.stdout
    );
}

#[test]
fn relative_links_and_anchors_are_checked_against_the_built_site() {
    let f = Fixture::new();
    f.case("a", "A", OK, "## Details\n\n[same page](#details) [other](../b/#background) [tech](../../techniques/T1078/) [theme id](#main)");
    f.case("b", "B", &format!("{OK}\n[[techniques]]\nid = \"T1078\""), "## Background\n\nx");
    check(&f, 0);
    f.case(
        "a",
        "A",
        OK,
        "## Details\n\n[gone](../nope/) [bad anchor](../b/#nothing) [here](#nowhere) ![pic](missing.png) [up](../../../../etc/passwd)",
    );
    let out = check(&f, 1);
    has(&out, "content/cases/a.md:8:", "`../nope/` leads to /cases/nope/, which the site does not have");
    has(&out, "content/cases/a.md:8:", "has no element with id \"nothing\"");
    has(&out, "content/cases/a.md:8:", "has no element with id \"nowhere\"");
    has(&out, "content/cases/a.md:8:", "`missing.png` leads to /cases/a/missing.png");
    has(&out, "content/cases/a.md:8:", "leads outside the site");
}

/// A tiny HTTP server on loopback: `/ok` answers 200, anything else 404. It serves a
/// bounded number of requests, then stops.
fn serve_once(requests: usize) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let status = if req.split_whitespace().nth(1) == Some("/ok") { "200 OK" } else { "404 Not Found" };
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    port
}

#[test]
fn external_links_are_checked_only_when_asked() {
    let port = serve_once(20);
    let f = Fixture::new();
    f.case(
        "x",
        "X",
        &format!("{OK}\n[[references]]\nurl = \"http://127.0.0.1:{port}/ok\"\n[[references]]\nurl = \"http://127.0.0.1:{port}/gone\""),
        "Also [down](http://127.0.0.1:9/nothing-listens).",
    );
    // Not fetched by default.
    check(&f, 0);
    let r = f.run(&["check", "--external", "--external-timeout", "5"]);
    assert_eq!(r.code, 0, "a dead link is a warning, not an error:\n{}", r.stderr);
    has(&r.stderr, "content/cases/x.md:8:8", &format!("http://127.0.0.1:{port}/gone answers HTTP 404"));
    has(&r.stderr, "content/cases/x.md:", "could not be reached");
    assert!(r.stderr.contains("3 checked, 1 fine, 1 broken, 1 unreachable"), "{}", r.stderr);
    // Unreachable never fails the check; a broken link does under --strict.
    let strict = f.run(&["check", "--external", "--strict", "--external-timeout", "5"]);
    assert_eq!(strict.code, 1);
}
