//! The search index: built from published cases only, and a query of English,
//! Chinese (several characters) or Japanese finds the right case when looked up the
//! way `search.js` does (terms -> shards -> postings, AND, ranked; then documents).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use casebook::render::search::{shard_of, terms, tokenize, BODY, META, TITLE};
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
    // Words only in the timeline, evidence, an indicator's note and a reference.
    write(
        &root,
        "content/cases/globex-2023.md",
        r#"+++
title = "Globex payroll portal"
date = 2023-06-01
organizations = ["Globex"]
summary = "Payroll records were read."

[incident]
countries = ["US"]

[[techniques]]
id = "T1078"
evidence = "Credentials reused from a partner."

[[timeline]]
date = 2023-05-02
event = "Attackers began impersonating the help desk on the phone."

[[indicators]]
type = "domain"
value = "payroll-help.example"
note = "Lookalike domain registered by the intruders."

[[references]]
url = "https://globex.example/notice"
title = "Statement on the payroll incident"
publisher = "Globex Newsroom"
+++
Short body.
"#,
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

/// Document `d`, as `search.js` finds it: in the last chunk that starts at or before it.
fn document(out: &Path, meta: &Value, d: usize) -> Value {
    let chunks = meta["chunks"].as_array().unwrap();
    let c = chunks.partition_point(|c| c[0].as_u64().unwrap() as usize <= d) - 1;
    let (start, name) = (chunks[c][0].as_u64().unwrap() as usize, chunks[c][1].as_str().unwrap());
    read_json(&out.join(format!("search/docs/{name}.json")))[d - start].clone()
}

/// The lookup of `search.js`, in Rust: URLs of the matching cases, best first.
fn search(out: &Path, query: &str) -> Vec<String> {
    let meta = read_json(&out.join("search/meta.json"));
    let shards: Vec<String> =
        meta["shards"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    let terms = tokenize(query);
    assert!(!terms.is_empty(), "no terms in {query:?}");
    let mut scores: Option<HashMap<usize, u32>> = None;
    for term in &terms {
        let shard = read_json(&out.join(format!("search/index/{}.json", shard_of(term, &shards))));
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
    // Documents are numbered oldest first; ties show newest first.
    found.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    found.into_iter().map(|(d, _)| document(out, &meta, d)["u"].as_str().unwrap().to_string()).collect()
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
    // Everything a case page shows: timeline, evidence, indicators and notes, references.
    assert_eq!(search(&out, "impersonating"), ["cases/globex-2023/"]);
    assert_eq!(search(&out, "partner credentials"), ["cases/globex-2023/"]);
    assert_eq!(search(&out, "lookalike intruders"), ["cases/globex-2023/"]);
    assert_eq!(search(&out, "payroll-help.example"), ["cases/globex-2023/"]);
    assert_eq!(search(&out, "newsroom statement"), ["cases/globex-2023/"]);
    assert_eq!(search(&out, "United States"), ["cases/globex-2023/"]);
    // English stemming: other forms of the same word.
    assert_eq!(search(&out, "impersonation"), ["cases/globex-2023/"]);
    assert_eq!(search(&out, "invoices"), search(&out, "invoice"));
    assert_eq!(search(&out, "misconfiguration bucket"), ["cases/acme-2024/"]);
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
    assert_eq!(meta["docs"], 4);
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

#[test]
fn results_carry_organization_date_and_the_text_to_cut_a_snippet_from() {
    let (_tmp, out) = build();
    let meta = read_json(&out.join("search/meta.json"));
    let docs: Vec<Value> = (0..meta["docs"].as_u64().unwrap() as usize).map(|d| document(&out, &meta, d)).collect();
    let globex = docs.iter().find(|d| d["u"] == "cases/globex-2023/").unwrap();
    assert_eq!(globex["o"], "Globex");
    assert_eq!(globex["d"], "2023-06-01");
    assert!(globex["x"].as_str().unwrap().contains("impersonating the help desk"), "{globex}");
}

/// Texts for the tokenizer comparison: every Markdown file of the repository's docs and
/// example content, plus words that stress the stemmer and the CJK and width rules.
fn sample_texts() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = vec![
        "Breached breaching breaches impersonating impersonation generously generous \
         news skies dying lying succeeded proceeded exceeded cannings inning outing \
         communism arsenal gener generate general generically knightly sky ugly early \
         only singly bye dyed eyed ΟΔΟΣ ΣΊΣΥΦΟΣ 'quoted' o'brien cafés naïve Ünïcödé İstanbul STRASSE"
            .to_string(),
        "ＮＴＴ　ＤＡＴＡ 情報漏えい 合同信息 한국어 텍스트 ｶﾀｶﾅ T1566.001 CVE-2023-12345 x1 a b 9".to_string(),
    ];
    for dir in ["docs", "content", "tests/fixtures"] {
        for entry in walkdir::WalkDir::new(root.join(dir)).into_iter().flatten() {
            if entry.path().extension().is_some_and(|e| e == "md") {
                texts.push(fs::read_to_string(entry.path()).unwrap());
            }
        }
    }
    texts
}

#[test]
fn rust_and_javascript_make_the_same_terms() {
    if std::process::Command::new("node").arg("--version").output().is_err() {
        assert!(std::env::var("CASEBOOK_SKIP_BROWSER").is_ok(), "node is needed (or set CASEBOOK_SKIP_BROWSER=1)");
        return;
    }
    let texts = sample_texts();
    assert!(texts.len() > 10);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/static/search-terms.js");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("texts.json");
    fs::write(&input, serde_json::to_vec(&texts).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg("const t = require(process.argv[1]); const texts = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')); process.stdout.write(JSON.stringify(texts.map(t.terms)));")
        .arg(&script)
        .arg(&input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let js: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    let mut words = 0;
    for (text, js) in texts.iter().zip(&js) {
        let rust = terms(text);
        words += rust.len();
        if &rust != js {
            let at = rust.iter().zip(js).position(|(a, b)| a != b).unwrap_or(rust.len().min(js.len()));
            panic!(
                "Rust and search-terms.js differ at term {at}: {:?} vs {:?}",
                &rust[at..(at + 5).min(rust.len())],
                &js[at..(at + 5).min(js.len())]
            );
        }
    }
    assert!(words > 5_000, "only {words} terms compared");
}

/// Words spread over the alphabet (a simple generator: the same words every run).
fn words(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = Vec::new();
    for _ in 0..n {
        let mut w = String::new();
        for _ in 0..(4 + x % 6) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            w.push((b'a' + ((x >> 33) % 26) as u8) as char);
        }
        out.push(w);
    }
    out.join(" ")
}

/// The search index of a site folder: what a fresh build writes under `search/`.
fn fresh_index(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("public");
    let report = casebook::engine::run(&engine_options(root, Some(&dest)), false);
    assert!(!report.diagnostics.has_errors(), "{:?}", report.diagnostics.items);
    walk(&dest).into_iter().filter(|(p, _)| p.starts_with("search/")).collect()
}

fn walk(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                files.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    files
}

fn engine_options(root: &Path, output: Option<&Path>) -> casebook::engine::Options {
    casebook::engine::Options {
        root: root.to_path_buf(),
        overrides: casebook::config::Overrides { output: output.map(Path::to_path_buf), ..Default::default() },
        write: output.is_some(),
        now: Some("2025-06-01T00:00:00Z".parse().unwrap()),
        external: None,
        cache: false,
    }
}

#[test]
fn after_each_edit_the_index_across_many_shards_is_what_a_fresh_build_makes() {
    use casebook::engine::{Engine, Target};
    use casebook::write::Memory;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    write(&root, "site.toml", "title = \"T\"\nbase_url = \"https://example.org\"\nlanguage = \"en\"\n");
    let path = |i: usize| format!("content/cases/case-{i:02}.md");
    let text = |i: usize, title: &str, body: &str| {
        format!(
            "+++\ntitle = \"{title}\"\ndate = 2024-01-{:02}\norganizations = [\"Org {i}\"]\n+++\n{body}\n",
            1 + i % 28
        )
    };
    for i in 0..40 {
        write(&root, &path(i), &text(i, &format!("Case {i} {}", words(i as u64 + 100, 3)), &words(i as u64, 150)));
    }
    // A verifying engine (debug builds: makes everything, checks what it declared), and
    // one that keeps what its declared inputs say is unchanged, as release builds do.
    let (memory, mut verifying) = (Memory::default(), Engine::new(root.clone(), Default::default()));
    let (kept, mut keeping) = (Memory::default(), Engine::new(root.clone(), Default::default()));
    keeping.set_verify(false);
    let opts = engine_options(&root, None);
    let index = |m: &Memory| -> std::collections::BTreeMap<String, Vec<u8>> {
        m.snapshot()
            .iter()
            .filter(|(k, _)| k.starts_with("search/"))
            .map(|(k, v)| (k.clone(), v.bytes().to_vec()))
            .collect()
    };
    type Edit<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let edits: Vec<Edit> = vec![
        ("nothing", Box::new(|| {})),
        // The same terms with the same counts, one with other fields: only postings change.
        (
            "a word's fields",
            Box::new(|| {
                let first = words(7, 1);
                write(&root, &path(7), &text(7, &format!("Case 7 {} {first}", words(107, 3)), &words(7, 150)))
            }),
        ),
        ("a title", Box::new(|| write(&root, &path(5), &text(5, "Zygote quarry", &words(5, 150))))),
        (
            "a word that sorts first",
            Box::new(|| write(&root, &path(20), &text(20, "Case 20", &format!("aaaa {}", words(20, 150))))),
        ),
        ("a body", Box::new(|| write(&root, &path(30), &text(30, "Case 30", &words(999, 200))))),
        ("a deleted case", Box::new(|| fs::remove_file(root.join(path(33))).unwrap())),
        ("a new case", Box::new(|| write(&root, &path(40), &text(40, "New", &words(40, 150))))),
    ];
    for (what, edit) in &edits {
        edit();
        for (engine, m) in [(&mut verifying, &memory), (&mut keeping, &kept)] {
            let report = engine.run(&opts, false, Target::Memory(m));
            assert!(!report.diagnostics.has_errors(), "{what}: {:?}", report.diagnostics.items);
        }
        let fresh = fresh_index(&root);
        let shards = fresh.keys().filter(|k| k.starts_with("search/index/")).count();
        let chunks = fresh.keys().filter(|k| k.starts_with("search/docs/")).count();
        assert!(shards >= 3 && chunks >= 2, "{what}: {shards} shards, {chunks} chunks");
        assert!(index(&memory) == fresh, "{what}: the verifying engine's index differs from a fresh build's");
        assert!(index(&kept) == fresh, "{what}: the keeping engine's index differs from a fresh build's");
    }
}
