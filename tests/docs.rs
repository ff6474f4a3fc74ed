//! The documentation keeps up with the code.

/// Every diagnostic code the code can emit is listed in docs/DIAGNOSTICS.md.
#[test]
fn every_diagnostic_code_is_documented() {
    let root = env!("CARGO_MANIFEST_DIR");
    let doc = std::fs::read_to_string(format!("{root}/docs/DIAGNOSTICS.md")).unwrap();
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(format!("{root}/src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            found.extend(codes_in(&text));
        }
    }
    assert!(found.len() > 40, "the scan finds the codes ({})", found.len());
    for code in found {
        assert!(doc.contains(&format!("| `{code}` |")), "{code} is not in docs/DIAGNOSTICS.md");
    }
}

/// String literals right after `error(`, `warning(`, `note(` or `Severity::X,`: the codes.
fn codes_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for opener in ["error(", "warning(", "note(", "Severity::Error,", "Severity::Warning,", "Severity::Note,"] {
        for (i, _) in text.match_indices(opener) {
            let rest = text[i + opener.len()..].trim_start();
            if let Some(lit) = rest.strip_prefix('"') {
                let code: String = lit.chars().take_while(|&c| c != '"').collect();
                if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()) {
                    out.push(code);
                }
            }
        }
    }
    out
}

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::Fixture;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// README.md and every Markdown file in docs/.
fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The text outside fenced code blocks and inline code, where links are links.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            // Odd-numbered pieces between backticks are code spans.
            out.extend(line.split('`').step_by(2));
            out.push('\n');
        }
    }
    out
}

/// Targets of inline links `[text](target)`.
fn link_targets(text: &str) -> Vec<String> {
    let prose = prose(text);
    prose
        .match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &prose[i + 2..];
            rest.find(')').map(|end| rest[..end].trim().to_string())
        })
        .collect()
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn the_anchor_rule_is_githubs() {
    assert_eq!(anchor(" `[incident]`: what happened"), "incident-what-happened");
    assert_eq!(anchor(" Partial dates"), "partial-dates");
    assert_eq!(link_targets("[a](b.md) `[c](d.md)` [e](f.md#g)"), vec!["b.md", "f.md#g"]);
}

/// Every relative link in README.md and docs/*.md leads to a file that exists, and to a
/// heading that exists when it names one.
#[test]
fn every_relative_link_in_the_docs_resolves() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let dest = if path.is_empty() { file.clone() } else { file.parent().unwrap().join(path) };
            if !dest.exists() {
                broken.push(format!("{}: {target} (no such file)", file.display()));
                continue;
            }
            if let Some(fragment) = fragment {
                let dest_text = std::fs::read_to_string(&dest).unwrap_or_default();
                if !anchors(&dest_text).contains(fragment) {
                    broken.push(format!("{}: {target} (no such heading)", file.display()));
                }
            }
        }
    }
    assert!(checked > 30, "the scan finds the links ({checked})");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Nothing a user sees points at a FORMAT.md: it is not in the repository.
#[test]
fn no_message_or_doc_points_outside_the_repository() {
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("FORMAT.md"), "{} mentions FORMAT.md", file.display());
    }
    for entry in walkdir::WalkDir::new(root().join("src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                // A string literal on the line names it: a message or a hint.
                let quoted = line.split('"').skip(1).step_by(2).any(|s| s.contains("FORMAT.md"));
                assert!(!quoted, "{}: a message points at FORMAT.md: {line}", entry.path().display());
            }
        }
    }
}

/// Keys in the reference tables (header `| key | ...`) of `doc`, within the section
/// whose heading contains `section` (the whole file when empty); `a[].b` reads `a.b`.
fn documented_keys(doc: &str, section: &str) -> BTreeSet<String> {
    let text = read(doc);
    let mut keys = BTreeSet::new();
    let (mut in_section, mut in_table) = (section.is_empty(), false);
    for line in text.lines() {
        if line.starts_with("## ") && !section.is_empty() {
            in_section = line.contains(section);
        }
        if !in_section {
            continue;
        }
        if line.starts_with("| key |") {
            in_table = true;
        } else if !line.starts_with('|') {
            in_table = false;
        } else if in_table && !line.starts_with("| ---") {
            let cell = line.split('|').nth(1).unwrap().trim();
            let key = cell.trim_matches('`').replace("[]", "");
            keys.insert(key);
        }
    }
    assert!(!keys.is_empty(), "{doc} has a reference table");
    keys
}

const UNKNOWN: &str = "zz_not_a_casebook_key";

/// The keys `check` allows in the table where `file` has the unknown key, read from
/// its message ("expected one of `a`, `b`") or hint ("the keys allowed here are: a, b").
fn accepted_here(site: &Fixture, file: &str) -> Vec<String> {
    let run = site.run(&["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("check --format json prints JSON");
    let diag = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"] == file && d["message"].as_str().unwrap_or("").contains(UNKNOWN))
        .unwrap_or_else(|| panic!("no unknown-key error for {file}: {}", run.stdout));
    let message = diag["message"].as_str().unwrap_or("");
    let hint = diag["hint"].as_str().unwrap_or("");
    // serde: "expected `a`", "expected `a` or `b`", "expected one of `a`, `b`, `c`".
    if let Some((_, list)) = message.split_once(", expected") {
        list.split('`').skip(1).step_by(2).map(str::to_string).collect()
    } else if let Some((_, list)) = hint.split_once("allowed here are:") {
        list.split(',').map(|k| k.trim().trim_matches('`').to_string()).collect()
    } else {
        panic!("the unknown-key error of {file} does not list the allowed keys: {diag}")
    }
}

/// For each table `prefix` of a file, the full paths of the keys it accepts, found by
/// putting an unknown key at `slot` in `template`.
fn accepted_keys(file: &str, template: &str, slots: &[(&str, &str)]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for (slot, prefix) in slots {
        let site = Fixture::new();
        let mut text = template.to_string();
        for (other, _) in slots {
            let fill = if other == slot { format!("{UNKNOWN} = 1") } else { String::new() };
            text = text.replace(other, &fill);
        }
        site.write(file, &text);
        for key in accepted_here(&site, file) {
            keys.insert(if prefix.is_empty() { key } else { format!("{prefix}.{key}") });
        }
    }
    keys
}

fn compare(what: &str, doc: &str, documented: BTreeSet<String>, accepted: BTreeSet<String>, tables: &[&str]) {
    let documented: BTreeSet<String> = documented.into_iter().filter(|k| !tables.contains(&k.as_str())).collect();
    let accepted: BTreeSet<String> = accepted.into_iter().filter(|k| !tables.contains(&k.as_str())).collect();
    let undocumented: Vec<_> = accepted.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&accepted).collect();
    assert!(undocumented.is_empty(), "{what} keys the code accepts but {doc} does not document: {undocumented:?}");
    assert!(unknown.is_empty(), "{what} keys {doc} documents but the code refuses: {unknown:?}");
}

const CASE_TEMPLATE: &str = "+++
title = \"T\"
date = 2025-03-14
organizations = [\"Acme\"]
@ROOT
[incident]
@INCIDENT
[impact]
@IMPACT
[[impact.revisions]]
date = 2025-01-01
@REVISION
[[techniques]]
id = \"T1078\"
@TECHNIQUE
[[timeline]]
date = 2025-01-01
event = \"Found.\"
@TIMELINE
[[indicators]]
type = \"ip\"
value = \"203.0.113.7\"
@INDICATOR
[[references]]
url = \"https://example.org/\"
@REFERENCE
+++
Body.
";

/// docs/cases.md documents exactly the front matter keys the code accepts, in every table.
#[test]
fn the_front_matter_reference_lists_every_key_the_code_accepts() {
    let slots = [
        ("@ROOT", ""),
        ("@INCIDENT", "incident"),
        ("@IMPACT", "impact"),
        ("@REVISION", "impact.revisions"),
        ("@TECHNIQUE", "techniques"),
        ("@TIMELINE", "timeline"),
        ("@INDICATOR", "indicators"),
        ("@REFERENCE", "references"),
    ];
    let accepted = accepted_keys("content/cases/t.md", CASE_TEMPLATE, &slots);
    assert!(accepted.contains("incident.ransomware") && accepted.contains("techniques.confidence"));
    let tables = ["incident", "impact", "techniques", "timeline", "indicators", "references"];
    compare("front matter", "docs/cases.md", documented_keys("docs/cases.md", ""), accepted, &tables);
}

#[test]
fn the_organization_and_page_references_list_every_key_the_code_accepts() {
    let org = "+++\nname = \"Acme\"\n@ROOT\n+++\nBody.\n";
    let accepted = accepted_keys("content/organizations/acme.md", org, &[("@ROOT", "")]);
    compare(
        "organization",
        "docs/organizations.md",
        documented_keys("docs/organizations.md", "Organization"),
        accepted,
        &[],
    );
    let page = "+++\ntitle = \"About\"\n@ROOT\n+++\nBody.\n";
    let accepted = accepted_keys("content/pages/about.md", page, &[("@ROOT", "")]);
    compare("page", "docs/organizations.md", documented_keys("docs/organizations.md", "Free pages"), accepted, &[]);
}

#[test]
fn the_site_toml_reference_lists_every_key_the_code_accepts() {
    let template = "title = \"T\"\n@ROOT\n[build]\n@BUILD\n[markdown]\n@MARKDOWN\n[publish]\n@PUBLISH\n\
                    [attack]\n@ATTACK\n[pagination]\n@PAGINATION\n";
    let slots = [
        ("@ROOT", ""),
        ("@BUILD", "build"),
        ("@MARKDOWN", "markdown"),
        ("@PUBLISH", "publish"),
        ("@ATTACK", "attack"),
        ("@PAGINATION", "pagination"),
    ];
    let accepted = accepted_keys("site.toml", template, &slots);
    let tables = ["build", "markdown", "publish", "attack", "pagination"];
    compare("site.toml", "docs/site-toml.md", documented_keys("docs/site-toml.md", ""), accepted, &tables);
}

/// The commands and options in `casebook [COMMAND...] --help`, minus help and version.
fn help_items(args: &[&str]) -> (Vec<String>, Vec<String>) {
    let site = Fixture::new();
    let mut argv = args.to_vec();
    argv.push("--help");
    let run = site.run(&argv);
    assert_eq!(run.code, 0, "{argv:?}: {}", run.stderr);
    let (mut commands, mut flags) = (Vec::new(), Vec::new());
    let mut section = "";
    for line in run.stdout.lines() {
        if !line.starts_with(' ') {
            section = line;
            continue;
        }
        let word = line.split_whitespace().next().unwrap_or("");
        if section == "Commands:" && word != "help" {
            commands.push(word.to_string());
        }
        if section == "Options:" {
            for item in line.split_whitespace().take(2) {
                let item = item.trim_end_matches(',');
                if item.starts_with("--") && item != "--help" && item != "--version" {
                    flags.push(item.to_string());
                }
            }
        }
    }
    (commands, flags)
}

/// docs/commands.md has a section for every command and names every one of its flags.
#[test]
fn the_command_reference_covers_every_command_and_flag() {
    let doc = read("docs/commands.md");
    let (commands, _) = help_items(&[]);
    assert!(commands.len() >= 7, "{commands:?}");
    for command in commands {
        let heading = format!("\n## {command}\n");
        let start = doc.find(&heading).unwrap_or_else(|| panic!("docs/commands.md has no section `## {command}`"));
        let section = &doc[start + heading.len()..];
        let section = &section[..section.find("\n## ").unwrap_or(section.len())];
        let (subcommands, flags) = help_items(&[&command]);
        for flag in flags {
            assert!(section.contains(&format!("`{flag}")), "docs/commands.md `## {command}` does not explain {flag}");
        }
        for sub in subcommands {
            assert!(section.contains(&format!("casebook {command} {sub}")), "docs/commands.md lacks {command} {sub}");
        }
    }
}

/// docs/README.md, the index, links to every page in docs/.
#[test]
fn the_docs_index_names_every_reference_page() {
    let index = read("docs/README.md");
    for page in doc_files().iter().filter(|p| p.parent() == Some(&root().join("docs"))) {
        let name = page.file_name().unwrap().to_str().unwrap();
        if name != "README.md" {
            assert!(index.contains(&format!("]({name})")), "docs/README.md does not link to {name}");
        }
    }
}

/// The `n`th fenced block of `lang` in a doc.
fn code_block(doc: &str, lang: &str, n: usize) -> String {
    let text = read(doc);
    let fence = format!("```{lang}\n");
    let start = text.match_indices(&fence).nth(n).unwrap_or_else(|| panic!("{doc} has no {lang} block {n}")).0;
    let body = &text[start + fence.len()..];
    body[..body.find("```").unwrap()].to_string()
}

/// The examples a reader copies from the docs are valid: the site.toml, the case and the
/// organization profile check without a warning.
#[test]
fn the_examples_in_the_docs_check_clean() {
    let site = Fixture::new();
    site.write("site.toml", &code_block("docs/site-toml.md", "toml", 0));
    site.write("content/cases/acme-2025.md", &code_block("docs/cases.md", "toml", 0));
    site.write("content/organizations/ntt-communications.md", &code_block("docs/organizations.md", "toml", 0));
    let run = site.run(&["check", "--strict"]);
    assert_eq!(run.code, 0, "the docs' examples do not check clean:\n{}", run.stderr);
    assert!(run.stderr.contains("checked 1 published case"), "{}", run.stderr);
}

/// The README's test command is the one CI runs.
#[test]
fn the_readme_test_command_is_what_ci_runs() {
    let readme = read("README.md");
    let section = &readme[readme.find("## Run every test").expect("README has a test section")..];
    assert!(section.contains("```sh\nscripts/test\n```"), "README gives `scripts/test` as the command");
    let ci = read(".ci/run");
    assert!(ci.lines().any(|l| l.trim() == "exec bash scripts/test"), ".ci/run runs scripts/test:\n{ci}");
    let script = read("scripts/test");
    for step in [
        "bash .ci/install",
        "cargo fmt --all -- --check",
        "check-msrv.py",
        "cargo deny",
        "actionlint",
        "cargo clippy",
        "cargo test",
    ] {
        assert!(script.contains(step), "scripts/test does not run {step}");
    }
}

/// Each example value in docs/cases.md's reference, put alone in an otherwise minimal
/// case, gives that case no error: the examples are values the code takes.
#[test]
fn every_front_matter_example_is_accepted() {
    let text = read("docs/cases.md");
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        in_table = line.starts_with('|') && (in_table || line.starts_with("| key |"));
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if in_table && !line.starts_with("| key |") && !line.starts_with("| ---") && cells.len() > 5 {
            // The example cell's first code span; "see below" has none.
            if let Some(example) = cells[4].split('`').nth(1) {
                rows.push((cells[1].trim_matches('`').replace("[]", ""), example.to_string()));
            }
        }
    }
    assert!(rows.len() > 40, "the scan finds the examples ({})", rows.len());
    let tables = [
        ("", "title = \"T\"\ndate = 2025-03-14\norganizations = [\"Acme\"]\n"),
        ("incident", ""),
        ("impact", ""),
        ("impact.revisions", "date = 2025-01-01\n"),
        ("techniques", "id = \"T1078\"\n"),
        ("timeline", "date = 2025-01-01\nevent = \"Found.\"\n"),
        ("indicators", "type = \"ip\"\nvalue = \"203.0.113.7\"\n"),
        ("references", "url = \"https://example.org/\"\n"),
    ];
    let site = Fixture::new();
    // Cases the examples of `related` and `translation_of` name.
    for slug in ["acme-2020", "acme-2025"] {
        site.case(slug, "Other", "organizations = [\"Acme\"]", "Body.");
    }
    let mut wrong = Vec::new();
    for (key, example) in &rows {
        let (table, name) = key.rsplit_once('.').unwrap_or(("", key));
        let mut toml = String::new();
        for (t, base) in tables {
            if !t.is_empty() {
                let array = !matches!(t, "incident" | "impact");
                toml.push_str(&if array { format!("[[{t}]]\n") } else { format!("[{t}]\n") });
            }
            for line in base.lines().filter(|l| !(t == table && l.starts_with(&format!("{name} =")))) {
                toml.push_str(line);
                toml.push('\n');
            }
            if t == table {
                toml.push_str(&format!("{name} = {example}\n"));
            }
        }
        site.write("content/cases/t.md", &format!("+++\n{toml}+++\nBody.\n"));
        let run = site.run(&["check", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        for d in report["diagnostics"].as_array().unwrap() {
            if d["severity"] == "error" {
                wrong.push(format!("{key} = {example}: {}", d["message"]));
            }
        }
    }
    assert!(wrong.is_empty(), "examples in docs/cases.md the code refuses:\n{}", wrong.join("\n"));
}
