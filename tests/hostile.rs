//! Contributed write-ups are untrusted: hostile or broken input gets a clear error or
//! safe output, never a panic, a leak or a write outside the output folder.

mod common;

use common::*;

const OK: &str = "organizations = [\"Acme\"]";

fn check_fails(f: &Fixture, needle: &str) -> String {
    let r = f.run(&["check"]);
    assert_eq!(r.code, 1, "expected errors; got:\n{}", r.stderr);
    assert!(r.stderr.contains(needle), "no {needle:?} in:\n{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    r.stderr
}

#[test]
fn dangerous_link_schemes_are_refused_in_every_spelling() {
    for link in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "java\tscript:alert(1)",
    ] {
        let f = Fixture::new();
        f.case("x", "X", OK, &format!("[click](<{link}>) and ![img](<{link}>)"));
        check_fails(&f, "link-scheme-refused");
    }
    let f = Fixture::new();
    f.case("x", "X", &format!("{OK}\n[[references]]\nurl = \"data:text/html,hi\""), "");
    check_fails(&f, "is not an http or https URL");
}

#[test]
fn path_traversal_in_slugs_and_links_goes_nowhere() {
    let f = Fixture::new();
    f.case(
        "x",
        "X",
        &format!("{OK}\nrelated = [\"../../../etc/passwd\"]\ntranslation_of = \"/etc/passwd\""),
        "[a](@/cases/../../Cargo.md)",
    );
    let out = check_fails(&f, "no case with slug \"../../../etc/passwd\"");
    assert!(out.contains("no case with slug \"/etc/passwd\""), "{out}");
    // Writer-chosen names become slugs only when they are safe.
    let r = Fixture::new();
    r.write("content/cases/..md", "+++\ntitle = \"x\"\ndate = 2025-01-01\norganizations = [\"A\"]\n+++\n");
    r.write("content/cases/<b>.md", "+++\ntitle = \"x\"\ndate = 2025-01-01\norganizations = [\"A\"]\n+++\n");
    check_fails(&r, "cannot be a case slug");
    // Organization and term names are slugged to ASCII: no `..` or `/` survives.
    let o = Fixture::new();
    o.case("x", "X", "organizations = [\"../../evil\"]\ntags = [\"/etc/passwd\"]", "");
    o.build_ok();
    assert!(o.exists("organizations/evil/index.html"));
    assert!(o.exists("tags/etc-passwd/index.html"));
}

#[test]
fn free_pages_cannot_take_the_sites_own_urls() {
    let f = Fixture::new();
    f.case("x", "X", OK, "");
    f.write("content/pages/cases.md", "+++\ntitle = \"Cases?\"\n+++\nhijack");
    check_fails(&f, "a page cannot be named \"cases\"");
}

#[test]
fn indicators_with_markup_are_escaped_and_defanged() {
    let f = Fixture::new();
    f.case("x", "X", &format!("{OK}\n[[indicators]]\ntype = \"url\"\nvalue = \"http://x.example/<script>alert(1)</script>\"\nnote = \"<img src=x onerror=alert(1)>\""), "");
    f.build_ok();
    let html = f.read("cases/x/index.html");
    assert!(!html.contains("<script>alert(1)"));
    assert!(!html.contains("<img src=x"));
    assert!(text(&f.page("cases/x/")).contains("hxxp://x[.]example/<script>alert(1)</script>"));
}

#[test]
fn huge_and_empty_files() {
    let f = Fixture::new();
    f.write(
        "content/cases/huge.md",
        &format!("+++\ntitle = \"x\"\ndate = 2025-01-01\n{OK}\n+++\n{}", "a".repeat(9 * 1024 * 1024)),
    );
    f.write("content/cases/blank.md", "   \n\n");
    f.write("content/organizations/empty.md", "");
    let out = check_fails(&f, "text files are limited to");
    assert!(out.contains("content/cases/blank.md"));
    assert!(out.contains("content/organizations/empty.md"));
}

#[test]
fn deeply_nested_and_odd_markdown_does_not_break_the_build() {
    let f = Fixture::new();
    let body = format!(
        "{}x{}\n\n{}\n\n| a |\n|---|\n| `{}` |\n\n\u{202e}text",
        "> ".repeat(500),
        "]".repeat(100),
        "* ".repeat(200),
        "<".repeat(1000)
    );
    f.write(
        "content/cases/odd.md",
        &format!("+++\ntitle = \"Odd \u{202e} title\"\ndate = 2025-01-01\n{OK}\n+++\n{body}"),
    );
    f.build_ok();
    assert!(f.exists("cases/odd/index.html"));
}

#[test]
fn the_output_folder_can_never_be_the_file_system_root_or_the_site() {
    let f = Fixture::new();
    f.case("x", "X", OK, "");
    for out in ["/", ".", "content", "static", "templates"] {
        let r = f.run(&["build", "--output", out]);
        assert_eq!(r.code, 1, "--output {out}");
        assert!(r.stderr.contains("refusing to write the site"), "{}", r.stderr);
    }
    f.write("site.toml", "title = \"T\"\n[build]\noutput = \"..\"\n");
    let r = f.run(&["build"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("refusing"));
    // `check` refuses it too, at the key, as `build` does.
    for command in ["check", "build"] {
        let r = f.run(&[command]);
        assert_eq!(r.code, 1, "{command}");
        has(&r.stderr, "site.toml:3:1", "refusing to write the site");
    }
}

/// The cache never goes where the site is read from: its files would be read, or
/// warned about, as the site's own.
#[test]
fn the_cache_folder_is_never_inside_the_site_s_folders() {
    let f = Fixture::new();
    f.case("x", "X", OK, "");
    for cache in ["content", "content/cache", "static/c", ".", "public/c"] {
        f.write("site.toml", &format!("title = \"T\"\n[build]\ncache = \"{cache}\"\n"));
        for command in ["check", "build"] {
            let r = f.run(&[command]);
            assert_eq!(r.code, 1, "cache = {cache:?}, {command}: {}", r.stderr);
            has(&r.stderr, "site.toml:3:1", "[build] cache: the ");
        }
        assert!(!f.root().join("content/lock").exists() && !f.root().join("content/cache").exists());
    }
}

#[test]
fn symlinked_static_folders_out_of_the_site_are_not_followed() {
    let f = Fixture::new();
    f.case("x", "X", OK, "");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("passwd"), "root:x:0:0").unwrap();
    std::fs::create_dir_all(f.root().join("static")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path(), f.root().join("static/leak")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("passwd"), f.root().join("static/passwd")).unwrap();
    }
    let r = f.run(&["build"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("points outside the site"));
    assert!(!f.exists("passwd") && !f.exists("leak/passwd"));
}
