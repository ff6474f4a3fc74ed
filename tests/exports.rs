//! The machine-readable exports (FORMAT.md section 4): `/api/cases.json` against its
//! schema, the ATT&CK Navigator layers, and the STIX 2.1 bundles through the OASIS
//! validator. The fixture site has published cases (one a translation) and three that
//! must never appear anywhere: a TLP:AMBER case, a draft and an embargoed case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use casebook::config::Overrides;
use casebook::engine::{self, Options};
use serde_json::Value;

const SKIP_VALIDATOR: &str = "CASEBOOK_SKIP_STIX_VALIDATOR";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports")
}

/// Builds the fixture into `out`; panics with the diagnostics on any error.
fn build(out: &Path) {
    let report = engine::run(
        &Options {
            root: fixture(),
            overrides: Overrides { output: Some(out.to_path_buf()), ..Default::default() },
            write: true,
            ..Default::default()
        },
        false,
    );
    assert!(!report.diagnostics.has_errors(), "the fixture must build: {:#?}", report.diagnostics.items);
}

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn json(out: &Path, path: &str) -> Value {
    let text = std::fs::read_to_string(out.join(path)).unwrap_or_else(|e| panic!("{path} must exist: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} must be JSON: {e}"))
}

struct Built {
    _dir: tempfile::TempDir,
    out: PathBuf,
}

fn built() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build(&out);
    Built { _dir: dir, out }
}

const PUBLISHED: &[&str] = &["ntt-communications-2025", "ntt-communications-2025-zh", "harbor-bank-2023"];

// ---------------------------------------------------------------- cases.json

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/cases.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Follows `$ref` (`#/$defs/NAME`) until a node without one.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("only local $refs");
        node = &root["$defs"][name];
        assert!(!node.is_null(), "schema: {r} is not defined");
    }
    node
}

/// The node itself and its `anyOf` branches, resolved.
fn branches<'a>(root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    let node = resolve(root, node);
    let mut out = vec![node];
    if let Some(any) = node.get("anyOf").and_then(Value::as_array) {
        out.extend(any.iter().map(|b| resolve(root, b)));
    }
    out
}

/// Every key of `value` is described by the schema, and every `required` key is present.
fn check_against_schema(root: &Value, node: &Value, value: &Value, at: &str) {
    let nodes = branches(root, node);
    match value {
        Value::Object(map) => {
            let props: Vec<&serde_json::Map<String, Value>> =
                nodes.iter().filter_map(|n| n.get("properties").and_then(Value::as_object)).collect();
            assert!(!props.is_empty(), "{at}: the schema describes no object here");
            for n in &nodes {
                for req in n.get("required").and_then(Value::as_array).into_iter().flatten() {
                    let req = req.as_str().unwrap();
                    assert!(map.contains_key(req), "{at}: required key {req:?} is missing");
                }
            }
            for (k, v) in map {
                let sub = props
                    .iter()
                    .find_map(|p| p.get(k))
                    .unwrap_or_else(|| panic!("{at}: key {k:?} is not described in the schema"));
                let desc = resolve(root, sub);
                assert!(
                    sub.get("description").is_some() || desc.get("description").is_some(),
                    "{at}.{k}: the schema gives no description"
                );
                check_against_schema(root, sub, v, &format!("{at}.{k}"));
            }
        }
        Value::Array(items) => {
            let item = nodes
                .iter()
                .find_map(|n| n.get("items"))
                .unwrap_or_else(|| panic!("{at}: the schema describes no array here"));
            for (i, v) in items.iter().enumerate() {
                check_against_schema(root, item, v, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

#[test]
fn cases_json_matches_its_schema_and_lists_the_published_cases() {
    let b = built();
    let api = json(&b.out, "api/cases.json");
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    check_against_schema(&schema, &schema, &api, "$");

    assert_eq!(api["version"], 1);
    assert_eq!(api["generator"], "casebook");
    assert_eq!(api["attack_version"], "18.1");
    let mut slugs: Vec<&str> = api["cases"].as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect();
    slugs.sort();
    let mut expected = PUBLISHED.to_vec();
    expected.sort();
    assert_eq!(slugs, expected);

    let ntt = api["cases"].as_array().unwrap().iter().find(|c| c["slug"] == "ntt-communications-2025").unwrap();
    assert_eq!(ntt["incident"]["started"], ">2019-09");
    assert_eq!(ntt["happened"], "2025-02-05");
    assert_eq!(ntt["url"], "cases/ntt-communications-2025/");
    assert_eq!(ntt["permalink"], "https://cases.example.org/cases/ntt-communications-2025/");
    assert_eq!(ntt["translations"], serde_json::json!(["ntt-communications-2025-zh"]));
    assert!(ntt["related"].as_array().unwrap().contains(&Value::from("harbor-bank-2023")));
    assert_eq!(ntt["organizations"][0]["slug"], "ntt-communications");
    // Indicators are exported fanged, exactly as written.
    let values: Vec<&str> =
        ntt["indicators"].as_array().unwrap().iter().map(|i| i["value"].as_str().unwrap()).collect();
    assert!(values.contains(&"203.0.113.7"));
    assert!(values.contains(&"evil.example.com"));
    assert!(values.contains(&"http://evil.example.com/a?b=c&d='e'"));
}

/// Validates a document against a schema with python `jsonschema` (draft 2020-12, with
/// format checking: dates, URIs), printing every error.
const VALIDATE_SCHEMA: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
doc = json.load(open(sys.argv[2], encoding="utf-8"))
cls = jsonschema.validators.validator_for(schema)
assert cls is jsonschema.Draft202012Validator, cls
cls.check_schema(schema)
checker = cls.FORMAT_CHECKER
for f in ("date", "uri", "uri-reference"):
    assert f in checker.checkers, f"jsonschema cannot check format {f}: pip install 'jsonschema[format-nongpl]'"
errors = sorted(cls(schema, format_checker=checker).iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(map(str, e.absolute_path)), e.message)
sys.exit(1 if errors else 0)
"#;

#[test]
fn cases_json_validates_against_the_published_schema() {
    if !python_has("jsonschema", "jsonschema[format-nongpl]") {
        return;
    }
    let b = built();
    let api = json(&b.out, "api/cases.json");
    // The document names its schema, and the site publishes it there.
    assert_eq!(api["$schema"], "https://cases.example.org/api/cases.schema.json");
    let published = std::fs::read(b.out.join("api/cases.schema.json")).unwrap();
    let source = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/cases.schema.json")).unwrap();
    assert!(published == source, "the published schema is schema/cases.schema.json");
    let schema_path = b.out.join("api/cases.schema.json");
    python(VALIDATE_SCHEMA, &[&schema_path, &b.out.join("api/cases.json")]);
    // The repository's example site too: real write-ups, references in several languages.
    let example = tempfile::tempdir().unwrap();
    build_at(Path::new(env!("CARGO_MANIFEST_DIR")), example.path());
    python(VALIDATE_SCHEMA, &[&schema_path, &example.path().join("api/cases.json")]);

    // Strict: an unknown key, a bad date, a relative permalink or a bad enum fails.
    let dir = tempfile::tempdir().unwrap();
    let bad = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut doc = api.clone();
        edit(&mut doc);
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        let out = Command::new("python3").arg("-c").arg(VALIDATE_SCHEMA).arg(&schema_path).arg(&path).output().unwrap();
        assert!(!out.status.success(), "{name} must not validate");
    };
    bad("extra.json", &|d| d["cases"][0]["extra"] = Value::from(1));
    bad("date.json", &|d| d["cases"][0]["date"] = Value::from("2025-02-30"));
    bad("permalink.json", &|d| d["cases"][0]["permalink"] = Value::from("cases/x/"));
    bad("tlp.json", &|d| d["cases"][0]["tlp"] = Value::from("white"));
    bad("country.json", &|d| d["cases"][0]["incident"]["countries"] = serde_json::json!(["jp"]));
    bad("reference.json", &|d| {
        d["cases"][0]["references"] =
            serde_json::json!([{"url": "ftp://x", "title": null, "publisher": null, "date": null, "lang": null}])
    });
}

// ---------------------------------------------------------------- layers

fn check_layer_header(layer: &Value, path: &str) {
    assert_eq!(layer["domain"], "enterprise-attack", "{path}");
    assert_eq!(layer["versions"]["attack"], "18.1", "{path}");
    assert_eq!(layer["versions"]["navigator"], "5.1.0", "{path}");
    assert_eq!(layer["versions"]["layer"], "4.5", "{path}");
    for key in [
        "name",
        "description",
        "filters",
        "sorting",
        "layout",
        "hideDisabled",
        "techniques",
        "gradient",
        "legendItems",
        "metadata",
        "links",
        "showTacticRowBackground",
        "selectTechniquesAcrossTactics",
        "selectSubtechniquesWithParent",
        "selectVisibleTechniques",
    ] {
        assert!(layer.get(key).is_some(), "{path}: no {key}");
    }
    let g = &layer["gradient"];
    assert!(g["colors"].as_array().unwrap().len() >= 2, "{path}");
    assert!(g["maxValue"].as_f64() > g["minValue"].as_f64(), "{path}");
    for t in layer["techniques"].as_array().unwrap() {
        assert!(t["techniqueID"].as_str().unwrap().starts_with('T'), "{path}");
        assert!(t["tactic"].is_string(), "{path}: every entry names its tactic");
    }
}

/// (techniqueID, tactic) -> entry.
fn entries(layer: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for t in layer["techniques"].as_array().unwrap() {
        let key = (t["techniqueID"].as_str().unwrap().to_string(), t["tactic"].as_str().unwrap().to_string());
        assert!(out.insert(key.clone(), t.clone()).is_none(), "{key:?} twice");
    }
    out
}

fn key(id: &str, tactic: &str) -> (String, String) {
    (id.to_string(), tactic.to_string())
}

#[test]
fn case_layer_scores_confidence_and_splits_tactics() {
    let b = built();
    let path = "cases/ntt-communications-2025/attack-layer.json";
    let layer = json(&b.out, path);
    check_layer_header(&layer, path);
    let e = entries(&layer);
    // possible = 2, with the tactic the case gives.
    assert_eq!(e[&key("T1566.001", "initial-access")]["score"], 2);
    assert!(e[&key("T1566.001", "initial-access")]["comment"]
        .as_str()
        .unwrap()
        .contains("phishing is a common first step"));
    // The parent of a used sub-technique shows its sub-techniques.
    assert_eq!(e[&key("T1566", "initial-access")]["showSubtechniques"], true);
    // likely = 3, no tactic given: one entry per tactic of T1078.
    let t1078: Vec<&String> = e.keys().filter(|(id, _)| id == "T1078").map(|(_, t)| t).collect();
    assert_eq!(t1078.len(), 4, "T1078 counts under each of its tactics: {t1078:?}");
    for (k, v) in &e {
        if k.0 == "T1078" {
            assert_eq!(v["score"], 3);
        }
    }
    // confirmed = 4, unconfirmed = 1.
    assert_eq!(e[&key("T1021", "lateral-movement")]["score"], 4);
    assert_eq!(e[&key("T1005", "collection")]["score"], 1);
    assert_eq!(layer["links"][0]["url"], "https://cases.example.org/cases/ntt-communications-2025/");
    let labels: Vec<&str> =
        layer["legendItems"].as_array().unwrap().iter().map(|l| l["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Confirmed", "Likely", "Possible", "Unconfirmed"]);
}

#[test]
fn site_layer_counts_cases() {
    let b = built();
    let layer = json(&b.out, "attack-layer.json");
    check_layer_header(&layer, "attack-layer.json");
    let e = entries(&layer);
    // Both counted cases use T1566.001 under initial-access and T1078 under persistence;
    // the Chinese translation is not counted again.
    assert_eq!(e[&key("T1566.001", "initial-access")]["score"], 2);
    assert_eq!(e[&key("T1078", "persistence")]["score"], 2);
    assert_eq!(e[&key("T1078", "defense-evasion")]["score"], 1);
    assert_eq!(e[&key("T1190", "initial-access")]["score"], 1);
    assert_eq!(layer["gradient"]["minValue"], 0);
    assert_eq!(layer["gradient"]["maxValue"], 2);
    assert!(e[&key("T1078", "persistence")]["comment"].as_str().unwrap().contains("harbor-bank-2023"));
    for layer in PUBLISHED {
        let path = format!("cases/{layer}/attack-layer.json");
        check_layer_header(&json(&b.out, &path), &path);
    }
}

// ---------------------------------------------------------------- STIX

fn stix_files(out: &Path) -> Vec<PathBuf> {
    let mut v = vec![out.join("stix-bundle.json")];
    v.extend(PUBLISHED.iter().map(|s| out.join(format!("cases/{s}/stix.json"))));
    v
}

#[test]
fn stix_bundles_are_well_formed() {
    let b = built();
    for path in stix_files(&b.out) {
        let text = std::fs::read_to_string(&path).unwrap();
        let bundle: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(bundle["type"], "bundle");
        let objects = bundle["objects"].as_array().unwrap();
        let ids: Vec<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{}: duplicate ids", path.display());
        for o in objects {
            let t = o["type"].as_str().unwrap();
            if t == "marking-definition" {
                assert!(o["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"]
                    .is_string());
                continue;
            }
            assert!(!o["object_marking_refs"].as_array().unwrap().is_empty(), "{} has no marking", o["id"]);
            // Every referenced object is in the bundle.
            for r in o["object_refs"].as_array().into_iter().flatten() {
                assert!(ids.contains(&r.as_str().unwrap()), "{r} not in the bundle");
            }
            for k in ["source_ref", "target_ref", "created_by_ref"] {
                if let Some(r) = o.get(k) {
                    assert!(ids.contains(&r.as_str().unwrap()), "{k} {r} not in the bundle");
                }
            }
        }
    }
    let case: Value = json(&b.out, "cases/harbor-bank-2023/stix.json");
    let objects = case["objects"].as_array().unwrap();
    let green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    let report = objects.iter().find(|o| o["type"] == "report").unwrap();
    assert_eq!(report["object_marking_refs"][0], green);
    assert_eq!(report["published"], "2023-11-02T00:00:00.000Z");
    assert!(objects.iter().any(|o| o["id"] == green));
    let bank = objects.iter().find(|o| o["type"] == "identity" && o["name"] == "Harbor Bank").unwrap();
    // No profile: the identity says only what is known of the organization itself.
    assert!(bank.get("sectors").is_none(), "{bank}");
    let by_id = |id: &Value| objects.iter().find(|o| &o["id"] == id).unwrap();
    let campaign = objects.iter().find(|o| o["type"] == "campaign").unwrap();
    let targets: Vec<&Value> = objects
        .iter()
        .filter(|o| o["relationship_type"] == "targets" && o["source_ref"] == campaign["id"])
        .map(|r| by_id(&r["target_ref"]))
        .collect();
    // Sectors as `industry-sector-ov` identities (class), the writer's word on the relationship.
    let sectors: Vec<&Value> = targets.iter().filter(|t| t["identity_class"] == "class").copied().collect();
    let values: Vec<&Value> = sectors.iter().map(|s| &s["sectors"][0]).collect();
    assert_eq!(values, ["financial-services", "insurance", "transportation"]);
    let aviation =
        objects.iter().find(|o| o["relationship_type"] == "targets" && o["target_ref"] == sectors[2]["id"]).unwrap();
    assert!(aviation["description"].as_str().unwrap().contains("Aviation"), "{aviation}");
    let gb = targets.iter().find(|t| t["type"] == "location").expect("the campaign targets its country");
    assert_eq!(gb["country"], "GB");
    assert_eq!(gb["name"], "United Kingdom");
    let uses: Vec<&Value> = objects.iter().filter(|o| o["relationship_type"] == "uses").collect();
    assert!(uses
        .iter()
        .any(|u| u["confidence"] == 95 && u["description"].as_str().unwrap().contains("The vendor confirmed")));
    // "G0016" and "Cozy Bear" (an alias) are one intrusion set: ATT&CK's APT29.
    let sets: Vec<&Value> = objects.iter().filter(|o| o["type"] == "intrusion-set").collect();
    assert_eq!(sets.len(), 2, "{sets:?}");
    let apt29 = sets.iter().find(|o| o["name"] == "APT29").unwrap();
    assert_eq!(apt29["external_references"][0]["external_id"], "G0016");
    assert!(apt29["aliases"].as_array().unwrap().contains(&Value::from("Cozy Bear")));
    assert_eq!(apt29["created"], "2017-05-31T21:30:00.000Z");
    let otter = sets.iter().find(|o| o["name"] == "Crimson Otter").unwrap();
    assert!(otter.get("external_references").is_none());
    // A person named in `individuals` is a threat actor, not an intrusion set.
    let jane = objects.iter().find(|o| o["name"] == "Jane Roe").unwrap();
    assert_eq!(jane["type"], "threat-actor");
    assert_eq!(jane["resource_level"], "individual");
    let attributed: Vec<&Value> = objects.iter().filter(|o| o["relationship_type"] == "attributed-to").collect();
    assert_eq!(attributed.len(), 3);

    // A translation is a language-content on its original's report, not a second report.
    let zh: Value = json(&b.out, "cases/ntt-communications-2025-zh/stix.json");
    let zh = zh["objects"].as_array().unwrap();
    assert_eq!(zh.iter().filter(|o| o["type"] == "report").count(), 1);
    assert_eq!(zh.iter().filter(|o| o["type"] == "campaign").count(), 1);
    let report = zh.iter().find(|o| o["type"] == "report").unwrap();
    assert_eq!(report["external_references"][0]["external_id"], "ntt-communications-2025");
    let lc = zh.iter().find(|o| o["type"] == "language-content").unwrap();
    assert_eq!(lc["object_ref"], report["id"]);
    assert_eq!(lc["object_modified"], report["modified"]);
    assert!(lc["contents"]["zh"]["name"].as_str().unwrap().contains("合同数据"));
    let site: Value = json(&b.out, "stix-bundle.json");
    let site = site["objects"].as_array().unwrap();
    assert_eq!(site.iter().filter(|o| o["type"] == "report").count(), 2, "one report per incident");
    assert_eq!(site.iter().filter(|o| o["type"] == "language-content").count(), 1);
    // A victim's profile places it.
    let ntt = site.iter().find(|o| o["type"] == "identity" && o["name"] == "NTT Communications").unwrap();
    assert_eq!(ntt["sectors"], serde_json::json!(["telecommunications", "technology"]));
    let located = site.iter().find(|o| o["relationship_type"] == "located-at" && o["source_ref"] == ntt["id"]).unwrap();
    let jp = site.iter().find(|o| o["id"] == located["target_ref"]).unwrap();
    assert_eq!(jp["country"], "JP");
    let ap = objects
        .iter()
        .find(|o| o["type"] == "attack-pattern" && o["name"] == "Exploit Public-Facing Application")
        .unwrap();
    assert_eq!(ap["external_references"][0]["source_name"], "mitre-attack");
    assert_eq!(ap["external_references"][0]["external_id"], "T1190");

    let ntt: Value = json(&b.out, "cases/ntt-communications-2025/stix.json");
    let note = ntt["objects"].as_array().unwrap().iter().find(|o| o["type"] == "note").unwrap();
    let content = note["content"].as_str().unwrap();
    for fact in
        ["- started: >2019-09", "- organizations affected: 17891", "- 2025-02-05: Unusual activity found on device A."]
    {
        assert!(content.contains(fact), "the note lacks {fact:?}: {content}");
    }
    let patterns: Vec<&str> = ntt["objects"].as_array().unwrap().iter().filter_map(|o| o["pattern"].as_str()).collect();
    for p in [
        "[ipv4-addr:value = '203.0.113.7']",
        "[domain-name:value = 'evil.example.com']",
        r"[url:value = 'http://evil.example.com/a?b=c&d=\'e\'']",
        "[email-addr:value = 'attacker@example.net']",
        "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
        r"[file:name = 'C:\\Users\\o\'brien\\drop.exe']",
    ] {
        assert!(patterns.contains(&p), "missing pattern {p}; have {patterns:?}");
    }
}

#[test]
fn stix_bundles_pass_the_oasis_validator() {
    let b = built();
    let found = Command::new("stix2_validator").arg("--help").output();
    if found.as_ref().map_or(true, |o| !o.status.success()) {
        if std::env::var(SKIP_VALIDATOR).as_deref() == Ok("1") {
            eprintln!("stix2_validator not found; skipped because {SKIP_VALIDATOR}=1");
            return;
        }
        panic!(
            "stix2_validator is not on PATH. Install it with \
             `pip install stix2-validator==3.2.0` (not 3.3.x), or set \
             {SKIP_VALIDATOR}=1 to skip this check."
        );
    }
    for path in stix_files(&b.out) {
        let out = Command::new("stix2_validator").args(["--strict", "--disable", "302"]).arg(&path).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("STIX JSON: Valid"),
            "{} does not validate:\n{stdout}\n{}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------- publishing

#[test]
fn unpublished_cases_appear_in_no_export() {
    let b = built();
    let all = files(&b.out);
    let exports: Vec<&String> = all.keys().filter(|p| p.ends_with(".json")).collect();
    assert!(exports.iter().any(|p| *p == "api/cases.json"));
    assert!(exports.iter().any(|p| *p == "stix-bundle.json"));
    assert!(exports.iter().any(|p| *p == "attack-layer.json"));
    for (path, bytes) in &all {
        let text = String::from_utf8_lossy(bytes);
        for secret in [
            "zebra-amberline",
            "Zebra Amberline",
            "amberline-secret.example",
            "quokka-draftington",
            "Quokka Draftington",
            "narwhal-embargoville",
            "Narwhal Embargoville",
        ] {
            assert!(!text.contains(secret), "{path} mentions {secret:?}");
        }
        // No amber (or stricter) marking is ever needed.
        for marking in [
            "55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            "939a9414-2ddd-4d32-a0cd-375ea402b003",
            "e828b379-4e03-4974-9ac4-e53a884c97c1",
        ] {
            assert!(!text.contains(marking), "{path} carries {marking}");
        }
    }
}

#[test]
fn rebuilds_are_byte_identical() {
    let a = built();
    let b = built();
    let fa = files(&a.out);
    let fb = files(&b.out);
    let json_a: Vec<&String> = fa.keys().filter(|p| p.ends_with(".json")).collect();
    let json_b: Vec<&String> = fb.keys().filter(|p| p.ends_with(".json")).collect();
    assert_eq!(json_a, json_b);
    for p in json_a {
        assert!(fa[p] == fb[p], "{p} differs between two builds");
    }
}

/// Loads layers with mitreattack-python's layer loader, then gives each name to openpyxl
/// as a sheet title, as its Excel export does (that export itself needs MITRE's STIX
/// data, which cannot be downloaded here): openpyxl raises on a forbidden character and
/// warns past 31 characters, and warnings are errors here.
const LOAD_LAYERS: &str = r#"
import sys, warnings
warnings.simplefilter("error")
from mitreattack.navlayers import Layer
import openpyxl
for path in sys.argv[1:]:
    layer = Layer()
    layer.from_file(path)
    name = layer.layer.name
    assert layer.layer.techniques, path
    openpyxl.Workbook().active.title = name
    assert 0 < len(name.encode("utf-16-le")) // 2 <= 31, name
    print("ok", name)
"#;

#[test]
fn layers_load_in_mitreattack_python_and_name_a_sheet() {
    if !python_has("mitreattack.navlayers", "mitreattack-python") {
        return;
    }
    let b = built();
    let mut paths = vec![b.out.join("attack-layer.json")];
    paths.extend(PUBLISHED.iter().map(|s| b.out.join(format!("cases/{s}/attack-layer.json"))));
    let args: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let text = python(LOAD_LAYERS, &args);
    assert_eq!(text.lines().filter(|l| l.starts_with("ok ")).count(), paths.len(), "{text}");
    // The fixture's title has a colon and runs past 31 characters; the layer keeps it whole
    // in its metadata.
    let ntt = json(&b.out, "cases/ntt-communications-2025/attack-layer.json");
    assert_eq!(ntt["name"], "NTT Communications contract…");
    assert!(ntt["metadata"].as_array().unwrap().iter().any(
        |m| m["name"] == "Title" && m["value"] == "NTT Communications: contract data of 17,891 business customers"
    ));
}

// ---------------------------------------------------------------- STIX versioning

const SKIP_PYTHON: &str = "CASEBOOK_SKIP_PYTHON_LIBS";

/// Whether `python3` can import `module`; panics with how to install it unless
/// `CASEBOOK_SKIP_PYTHON_LIBS=1` says to skip.
fn python_has(module: &str, package: &str) -> bool {
    let ok = Command::new("python3").args(["-c", &format!("import {module}")]).output();
    if ok.as_ref().is_ok_and(|o| o.status.success()) {
        return true;
    }
    if std::env::var(SKIP_PYTHON).as_deref() == Ok("1") {
        eprintln!("python3 cannot import {module}; skipped because {SKIP_PYTHON}=1");
        return false;
    }
    panic!("python3 cannot import {module}: `pip install {package}` (.ci/install does), or set {SKIP_PYTHON}=1");
}

/// Runs a Python script with `args`; panics with its output unless it exits 0.
fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "python3 failed:\n{text}");
    text
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

fn build_at(root: &Path, out: &Path) {
    let report = engine::run(
        &Options {
            root: root.to_path_buf(),
            overrides: Overrides { output: Some(out.to_path_buf()), ..Default::default() },
            write: true,
            ..Default::default()
        },
        false,
    );
    assert!(!report.diagnostics.has_errors(), "the site must build: {:#?}", report.diagnostics.items);
}

/// Loads both bundles into stix2 MemoryStores (the stix2 library parses every object)
/// and checks STIX versioning across the two builds: a shared id keeps its `created`,
/// its `modified` never goes back, and an object whose `modified` did not move is
/// unchanged.
const VERSIONING: &str = r#"
import json, sys
import stix2
before = json.load(open(sys.argv[1], encoding="utf-8"))
after = json.load(open(sys.argv[2], encoding="utf-8"))
stores = [stix2.MemoryStore(stix_data=b["objects"], allow_custom=False) for b in (before, after)]
old = {o["id"]: o for o in before["objects"]}
new = {o["id"]: o for o in after["objects"]}
shared = sorted(set(old) & set(new))
assert len(shared) > 10, shared
bad = []
for id in shared:
    a, b = stores[0].get(id), stores[1].get(id)
    assert a is not None and b is not None, id
    if a.get("created") != b.get("created"):
        bad.append(f"{id}: created {a.get('created')} -> {b.get('created')}")
    if "modified" in a and b["modified"] < a["modified"]:
        bad.append(f"{id}: modified went back {a['modified']} -> {b['modified']}")
    if old[id].get("modified") == new[id].get("modified") and old[id] != new[id]:
        bad.append(f"{id}: changed without a new modified: {old[id]} -> {new[id]}")
assert not bad, "\n".join(bad)
print(f"ok {len(shared)} shared ids, {len(new) - len(shared)} new")
"#;

#[test]
fn stix_objects_keep_their_versions_when_a_case_is_added() {
    if !python_has("stix2", "stix2") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    copy_dir(&fixture(), &root);
    let before = dir.path().join("before");
    build_at(&root, &before);
    // An older case naming the same victims, sector, country, actor and techniques.
    std::fs::write(
        root.join("content/cases/older-2019.md"),
        r#"+++
title = "An older intrusion at the same two victims"
date = 2019-05-01
organizations = ["NTT Communications", "Harbor Bank"]
tlp = "clear"

[incident]
sectors = ["Telecommunications", "Banking"]
countries = ["JP", "GB"]
actors = ["APT29", "Jane Roe"]
individuals = ["Jane Roe"]

[[techniques]]
id = "T1078"

[[techniques]]
id = "T1190"
+++
Body.
"#,
    )
    .unwrap();
    let after = dir.path().join("after");
    build_at(&root, &after);
    let text = python(VERSIONING, &[&before.join("stix-bundle.json"), &after.join("stix-bundle.json")]);
    assert!(text.starts_with("ok "), "{text}");
    for slug in PUBLISHED {
        let path = format!("cases/{slug}/stix.json");
        python(VERSIONING, &[&before.join(&path), &after.join(&path)]);
    }
}

#[test]
fn actor_pages_link_to_their_attack_group() {
    let b = built();
    let group = "https://attack.mitre.org/groups/G0016";
    // By id (shown under the group's name) and by alias.
    for page in ["actors/apt29/index.html", "actors/cozy-bear/index.html"] {
        let html = std::fs::read_to_string(b.out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        let doc = scraper::Html::parse_document(&html);
        let links = scraper::Selector::parse("a[href]").unwrap();
        assert!(doc.select(&links).any(|a| a.value().attr("href") == Some(group)), "{page} does not link to {group}");
    }
    let html = std::fs::read_to_string(b.out.join("actors/crimson-otter/index.html")).unwrap();
    assert!(!html.contains("attack.mitre.org/groups/"), "an actor ATT&CK does not know links to no group");
}
