//! A fixture site in a temporary folder, built with the real binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scraper::{Html, Selector};

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Fixture {
    /// A site with a one-line site.toml.
    pub fn new() -> Self {
        let f = Fixture { dir: tempfile::tempdir().unwrap() };
        f.write("site.toml", "title = \"Test Casebook\"\nbase_url = \"https://cases.test\"\n");
        f
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, content: &str) -> &Self {
        let p = self.root().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
        self
    }

    /// A case with the minimum front matter plus `extra` TOML, and a body.
    pub fn case(&self, slug: &str, title: &str, extra: &str, body: &str) -> &Self {
        self.write(
            &format!("content/cases/{slug}.md"),
            &format!("+++\ntitle = {title:?}\ndate = 2025-03-14\n{extra}\n+++\n{body}\n"),
        )
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(args)
            .current_dir(self.root())
            .output()
            .expect("the casebook binary runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `casebook build`, asserting success.
    pub fn build_ok(&self) -> Run {
        let r = self.run(&["build"]);
        assert_eq!(r.code, 0, "build failed:\n{}", r.stderr);
        r
    }

    pub fn out(&self) -> PathBuf {
        self.root().join("public")
    }

    pub fn read(&self, rel: &str) -> String {
        let p = self.out().join(rel);
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// A page of the built site by URL path (`cases/x/`), parsed as a browser would.
    pub fn page(&self, url: &str) -> Html {
        let rel = if url.is_empty() || url.ends_with('/') { format!("{url}index.html") } else { url.to_string() };
        Html::parse_document(&self.read(&rel))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.out().join(rel).exists()
    }

    /// Every output file and its bytes.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        tree(&self.out())
    }
}

/// Every file under `dir` by its `/`-separated path there, with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            files.insert(rel, fs::read(e.path()).unwrap());
        }
    }
    files
}

pub fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Text of every element matching `selector`, whitespace collapsed.
pub fn texts(doc: &Html, selector: &str) -> Vec<String> {
    doc.select(&sel(selector))
        .map(|e| e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The whole visible text of a page.
pub fn text(doc: &Html) -> String {
    texts(doc, "body").join(" ")
}

/// Every `href` on the page.
pub fn hrefs(doc: &Html) -> Vec<String> {
    doc.select(&sel("a[href]")).filter_map(|a| a.value().attr("href").map(str::to_string)).collect()
}

/// Resolves a relative href of the page at `url` to a site-relative path, or None for
/// external links.
pub fn resolve_href(url: &str, href: &str) -> Option<String> {
    if href.starts_with("http://")
        || href.starts_with("https://")
        || href.starts_with("mailto:")
        || href.starts_with('#')
    {
        return None;
    }
    let href = href.split('#').next().unwrap_or("");
    let mut parts: Vec<&str> = if href.starts_with('/') { Vec::new() } else { url.split('/').collect() };
    parts.pop(); // the page's own file name (empty for folder URLs)
    for seg in href.trim_start_matches('/').split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." => {}
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Hrefs of the page at `url` that point to a given site-relative path.
pub fn links_to(doc: &Html, url: &str, target: &str) -> bool {
    hrefs(doc).iter().any(|h| resolve_href(url, h).as_deref() == Some(target))
}

/// Asserts that human output `out` has a diagnostic mentioning `needle` located at `loc`.
pub fn has(out: &str, loc: &str, needle: &str) {
    let blocks: Vec<&str> = out.split("\n\n").collect();
    assert!(
        blocks.iter().any(|b| b.contains(loc) && b.contains(needle)),
        "no diagnostic at {loc} saying {needle:?} in:\n{out}"
    );
}
