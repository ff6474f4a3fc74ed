//! The search index: built from published cases only, and a query of English,
//! Chinese (several characters) or Japanese finds the right case when looked up the
//! way `search.js` does (terms -> shards -> postings, AND, ranked; then documents).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use casebook::render::search::{shard_of, tokenize, BODY, META, TITLE};
use serde_json::Value;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn case(title: &str, org: &str, summary: &str, lang: &str, tlp: &str, body: &str) -> String {
    format!(
        r#"+++
title = "{title}"
date = 2025-03-01
organizations = ["{org}"]
summary = "{summary}"
lang = "{lang}"
tlp = "{tlp}"

[incident]
status = "confirmed"
countries = ["JP"]

[[techniques]]
id = "T1566.001"
tactic = "initial-access"
confidence = "likely"
evidence = "Phishing mail."
+++

{body}
"#
    )
}

/// Builds the fixture site; returns (temp dir guard, output folder).
fn build() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    write(
        &root,
        "site.toml",
        "title = \"Test\"\nbase_url = \"https://example.org\"\nlanguage = \"en\"\n\n[publish]\ntlp = [\"clear\", \"green\"]\n",
    );
    write(
        &root,
        "content/cases/acme-2024.md",
        &case(
            "Acme Widgets loses its customer ledger",
            "Acme Widgets",
            "A misconfigured storage bucket exposed invoices.",
            "en",
            "clear",
            "The attacker found the bucket through a search engine and downloaded every invoice, as in the KADOKAWA case.",
        ),
    );
    write(
        &root,
        "content/cases/ntt-zh-2025.md",
        &case(
            "NTT通讯公司数据泄露",
            "NTT Communications",
            "内部订单系统遭到未经授权的访问。",
            "zh",
            "clear",
            "攻击者访问了订单系统，17,891 家企业客户的合同信息可能已经外流。",
        ),
    );
    write(
        &root,
        "content/cases/kadokawa-ja-2024.md",
        &case(
            "KADOKAWAへのランサムウェア攻撃",
            "KADOKAWA",
            "ランサムウェアによりサービスが停止した。",
            "ja",
            "green",
            "社内ネットワークが暗号化され、個人情報が漏洩した。",
        ),
    );
    write(
        &root,
        "content/cases/secret-2025.md",
        &case(
            "Zanzibarquokka internal only",
            "Hidden Corp",
            "Zanzibarquokka never leaves the building.",
            "en",
            "amber",
            "The word zanzibarquokka is unique to this amber case.",
        ),
    );
    let out = tmp.path().join("public");
    let report = casebook::engine::run(
        &casebook::engine::Options {
            root,
            overrides: casebook::config::Overrides { output: Some(out.clone()), ..Default::default() },
            write: true,
            ..Default::default()
        },
        false,
    );
    assert!(!report.diagnostics.has_errors(), "{:#?}", report.diagnostics.items);
    (tmp, out)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// The lookup of `search.js`, in Rust: URLs of the matching cases, best first.
fn search(out: &Path, query: &str) -> Vec<String> {
    let meta = read_json(&out.join("search/meta.json"));
    let shards = meta["shards"].as_u64().unwrap() as usize;
    let chunk = meta["chunk"].as_u64().unwrap() as usize;
    let terms = tokenize(query);
    assert!(!terms.is_empty(), "no terms in {query:?}");
    let mut scores: Option<HashMap<usize, u32>> = None;
    for term in &terms {
        let shard = read_json(&out.join(format!("search/index/{}.json", shard_of(term, shards))));
        let mut postings = HashMap::new();
        let mut doc = 0usize;
        for v in shard.get(term.as_str()).and_then(Value::as_array).into_iter().flatten() {
            let v = v.as_u64().unwrap();
            doc += (v >> 3) as usize;
            let f = (v & 7) as u8;
            let w = if f & TITLE != 0 { 16 } else { 0 }
                + if f & META != 0 { 4 } else { 0 }
                + if f & BODY != 0 { 1 } else { 0 };
            postings.insert(doc, w);
        }
        scores = Some(match scores {
            None => postings,
            Some(s) => s.into_iter().filter_map(|(d, w)| postings.get(&d).map(|x| (d, w + x))).collect(),
        });
    }
    let mut found: Vec<(usize, u32)> = scores.unwrap_or_default().into_iter().collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    found
        .into_iter()
        .map(|(d, _)| {
            let docs = read_json(&out.join(format!("search/docs/{}.json", d / chunk)));
            docs[d % chunk]["u"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn queries_find_the_right_case() {
    let (_tmp, out) = build();
    assert_eq!(search(&out, "bucket"), ["cases/acme-2024/"]);
    assert_eq!(search(&out, "Acme INVOICES"), ["cases/acme-2024/"]);
    // Organizations and technique ids and names are indexed.
    assert_eq!(search(&out, "acme widgets"), ["cases/acme-2024/"]);
    assert_eq!(search(&out, "T1566.001").len(), 3);
    assert_eq!(search(&out, "spearphishing attachment").len(), 3);
    // Chinese: several characters match by their bigrams.
    assert_eq!(search(&out, "合同信息"), ["cases/ntt-zh-2025/"]);
    assert_eq!(search(&out, "合同"), ["cases/ntt-zh-2025/"]);
    assert_eq!(search(&out, "数据泄露"), ["cases/ntt-zh-2025/"]);
    // Japanese: kanji and kana.
    assert_eq!(search(&out, "ランサムウェア"), ["cases/kadokawa-ja-2024/"]);
    assert_eq!(search(&out, "個人情報"), ["cases/kadokawa-ja-2024/"]);
    // AND: every term must be in the case.
    assert!(search(&out, "bucket 合同").is_empty());
    assert!(search(&out, "nowhereword").is_empty());
}

#[test]
fn title_hits_rank_above_body_hits() {
    let (_tmp, out) = build();
    // "kadokawa" is in the Japanese case's title and only in the body of the English
    // case, which comes first in site order.
    assert_eq!(search(&out, "kadokawa"), ["cases/kadokawa-ja-2024/", "cases/acme-2024/"]);
}

#[test]
fn unpublished_cases_are_not_indexed() {
    let (_tmp, out) = build();
    assert!(search(&out, "zanzibarquokka").is_empty());
    let meta = read_json(&out.join("search/meta.json"));
    assert_eq!(meta["docs"], 3);
    // Not in any file of the site: index, documents or pages.
    for entry in walkdir::WalkDir::new(&out) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            assert!(!text.contains("zanzibarquokka"), "{} mentions the amber case", entry.path().display());
        }
    }
}

#[test]
fn search_page_works_without_javascript() {
    let (_tmp, out) = build();
    let html = fs::read_to_string(out.join("search/index.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    let noscript = scraper::Selector::parse("noscript").unwrap();
    let text: String = doc.select(&noscript).map(|n| n.inner_html()).collect();
    assert!(text.contains("needs JavaScript"), "{text}");
    assert!(text.contains("href=\"../cases/\""), "{text}");
    let script = scraper::Selector::parse("script[src=\"../search.js\"]").unwrap();
    assert_eq!(doc.select(&script).count(), 1);
    assert!(out.join("search.js").is_file());
    // Every page links to the search page.
    let home = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(home.contains("href=\"search/\""));
}
