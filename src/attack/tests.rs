use super::stix::{summarize, SUMMARY_CHARS as SUMMARY_LIMIT};
use super::*;

fn builtin() -> &'static Catalog {
    Catalog::builtin()
}

#[test]
fn builtin_loads_with_tactics_in_matrix_order() {
    let c = builtin();
    assert_eq!(c.version, "18.1");
    assert_eq!(c.domain, "enterprise-attack");
    assert_eq!(c.tactics.len(), 14);
    assert_eq!(c.tactics[0].shortname, "reconnaissance");
    assert_eq!(c.tactics[13].shortname, "impact");
    assert_eq!(c.techniques.len(), 835);
    assert_eq!(c.tactic("initial-access").unwrap().id, "TA0001");
    assert_eq!(c.tactic("Initial-Access").unwrap().name, "Initial Access");
    assert!(c.tactic("nope").is_none());
}

#[test]
fn builtin_is_parsed_once() {
    assert!(std::ptr::eq(Catalog::builtin(), Catalog::builtin()));
}

#[test]
fn valid_accounts() {
    let c = builtin();
    let t = c.technique("T1078").unwrap();
    assert_eq!(t.name, "Valid Accounts");
    let mut tactics = t.tactics.clone();
    tactics.sort();
    assert_eq!(tactics, ["defense-evasion", "initial-access", "persistence", "privilege-escalation"]);
    assert!(t.used_by.iter().any(|g| g == "G0016"));
    assert!(t.mitigations.iter().all(|m| c.mitigation(m).is_some()));

    let subs: Vec<&str> = c.subtechniques("T1078").iter().map(|t| t.id.as_str()).collect();
    assert_eq!(subs, ["T1078.001", "T1078.002", "T1078.003", "T1078.004"]);
    assert_eq!(c.subtechniques("t1078").len(), 4);
    assert!(c.subtechniques("T1078.004").is_empty());
    assert!(c.subtechniques("T0000").is_empty());
}

#[test]
fn technique_ids_ignore_case() {
    let c = builtin();
    assert_eq!(c.technique("t1078").unwrap().id, "T1078");
    assert_eq!(c.technique("t1078.004").unwrap().subtechnique_of.as_deref(), Some("T1078"));
    assert_eq!(c.technique(" T1078 ").unwrap().id, "T1078");
    assert!(c.technique("T9999").is_none());
    assert!(c.technique("").is_none());
}

#[test]
fn revoked_and_deprecated() {
    let c = builtin();
    let t = c.technique("T1002").unwrap();
    assert!(t.revoked);
    assert_eq!(t.revoked_by.as_deref(), Some("T1560"));
    assert!(c.technique("T1026").unwrap().deprecated);
    assert_eq!(c.technique("T1555.003").unwrap().name, "Credentials from Web Browsers");
}

#[test]
fn objects_by_id() {
    let c = builtin();
    assert_eq!(c.group("G0016").unwrap().name, "APT29");
    assert_eq!(c.group("g0016").unwrap().name, "APT29");
    assert_eq!(c.campaign("C0024").unwrap().id, "C0024");
    assert_eq!(c.software("S0001").unwrap().name, "Trojan.Mebromi");
    assert_eq!(c.software_type("S0001"), Some("malware"));
    assert_eq!(c.mitigation("M1032").unwrap().name, "Multi-factor Authentication");
    assert!(c.group("G9999").is_none());
    assert!(c.software_type("S9999").is_none());
    // Every reference in the data resolves.
    for t in &c.techniques {
        for u in &t.used_by {
            assert!(c.group(u).or_else(|| c.campaign(u)).is_some(), "{}: {u}", t.id);
        }
        if let Some(r) = &t.revoked_by {
            assert!(c.technique(r).is_some(), "{}: {r}", t.id);
        }
    }
}

#[test]
fn groups_by_free_name() {
    let c = builtin();
    assert_eq!(c.group_by_name("APT29").unwrap().id, "G0016");
    assert_eq!(c.group_by_name("cozy bear").unwrap().id, "G0016");
    assert_eq!(c.group_by_name(" Midnight Blizzard ").unwrap().id, "G0016");
    // "APT34" names revoked G0057 and is an alias of live OilRig.
    assert_eq!(c.group_by_name("apt34").unwrap().id, "G0049");
    assert!(c.group_by_name("no such actor").is_none());
}

#[test]
fn attribution_matches_notice() {
    let notice = include_str!("../../data/attack/NOTICE.md");
    assert!(notice.contains(ATTRIBUTION));
}

#[test]
fn bad_input_is_an_error() {
    let err = Catalog::from_json("{not json").unwrap_err();
    assert!(err.contains("invalid JSON"), "{err}");
    assert!(Catalog::from_json("").is_err());
    assert!(Catalog::from_json("[]").is_err());
    let err = Catalog::from_json(r#"{"tactics": []}"#).unwrap_err();
    assert_eq!(err, r#"not an ATT&CK catalog: expected the compact catalog or a STIX bundle (missing "techniques")"#);
    let err = Catalog::from_json(r#"{"type": "bundle"}"#).unwrap_err();
    assert!(err.contains("objects"), "{err}");
    let err = Catalog::from_json(r#"{"type": "bundle", "objects": []}"#).unwrap_err();
    assert!(err.contains("no ATT&CK techniques"), "{err}");
    let err = Catalog::from_json(r#"{"type": "report"}"#).unwrap_err();
    assert!(err.contains("report"), "{err}");
    let err = Catalog::from_json(r#"{"tactics": [], "techniques": [{"id": "T1"}]}"#).unwrap_err();
    assert!(err.contains("missing field"), "{err}");
}

#[test]
fn duplicate_ids_are_an_error() {
    let t = r#"{"id":"T1","name":"x","tactics":[],"platforms":[],"revoked":false,"deprecated":false,
        "url":"","stix_id":"","summary":"","used_by":[],"mitigations":[]}"#;
    let json = format!(r#"{{"tactics":[],"techniques":[{t},{}]}}"#, t.replace("T1", "t1"));
    let err = Catalog::from_json(&json).unwrap_err();
    assert!(err.contains("duplicate technique id \"T1\""), "{err}");
}

#[test]
fn compact_round_trip() {
    let c = builtin();
    let software: Vec<serde_json::Value> = (c.software.iter().take(3))
        .map(|o| {
            let mut v = serde_json::to_value(o).unwrap();
            v["type"] = c.software_type(&o.id).unwrap().into();
            v
        })
        .collect();
    let json = serde_json::json!({
        "attack_version": c.version,
        "domain": c.domain,
        "tactics": c.tactics,
        "techniques": c.techniques[..50],
        "groups": c.groups[..5],
        "software": software,
    });
    let again = Catalog::from_json(&json.to_string()).unwrap();
    assert_eq!(again.techniques.len(), 50);
    assert_eq!(again.software_type(&c.software[0].id), Some("malware"));
    assert!(again.campaigns.is_empty());
}

#[test]
fn summaries_cut_at_a_word() {
    assert_eq!(summarize("  short text "), "short text");
    let long = "word ".repeat(100);
    let s = summarize(&long);
    assert!(s.ends_with("word..."), "{s}");
    assert!(s.chars().count() <= SUMMARY_LIMIT + 3);
    let unbroken = "x".repeat(400);
    assert_eq!(summarize(&unbroken).chars().count(), SUMMARY_LIMIT + 3);
    let accented = "é".repeat(400);
    assert!(summarize(&accented).ends_with("é..."));
}

/// A small bundle in MITRE's STIX 2.1 shape, with the cases the converter must handle.
const BUNDLE: &str = r#"{
  "type": "bundle",
  "id": "bundle--1",
  "objects": [
    {"type": "marking-definition", "id": "marking-definition--1",
     "definition": {"statement": "Copyright MITRE"}},
    {"type": "x-mitre-collection", "id": "x-mitre-collection--1", "name": "Enterprise ATT&CK",
     "x_mitre_version": "99.1", "x_mitre_contents": [{"object_ref": "x", "object_modified": "y"}]},
    {"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "Enterprise ATT&CK",
     "x_mitre_version": "1.0",
     "tactic_refs": ["x-mitre-tactic--access", "x-mitre-tactic--impact"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "enterprise-attack",
       "url": "https://attack.mitre.org/matrices/enterprise"}]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--impact", "name": "Impact",
     "x_mitre_shortname": "impact",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0040",
       "url": "https://attack.mitre.org/tactics/TA0040"}]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--access", "name": "Initial Access",
     "x_mitre_shortname": "initial-access",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0001",
       "url": "https://attack.mitre.org/tactics/TA0001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--parent", "name": "Valid Accounts",
     "description": "Adversaries may obtain and abuse credentials of existing accounts as a means of gaining Initial Access, Persistence, Privilege Escalation, or Defense Evasion. Compromised credentials may be used to bypass access controls placed on various resources on systems within the network and may even be used for persistent access.",
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"},
                           {"kill_chain_name": "mitre-attack", "phase_name": "impact"},
                           {"kill_chain_name": "lockheed", "phase_name": "delivery"}],
     "x_mitre_platforms": ["Windows", "Linux"], "x_mitre_is_subtechnique": false,
     "external_references": [{"source_name": "capec", "external_id": "CAPEC-560"},
       {"source_name": "mitre-attack", "external_id": "T1078",
        "url": "https://attack.mitre.org/techniques/T1078"}]},
    {"type": "attack-pattern", "id": "attack-pattern--child", "name": "Cloud Accounts",
     "description": "Short.", "x_mitre_platforms": null, "x_mitre_is_subtechnique": true,
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1078.004",
       "url": "https://attack.mitre.org/techniques/T1078/004"}]},
    {"type": "attack-pattern", "id": "attack-pattern--old", "name": "Old Accounts",
     "revoked": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1001",
       "url": "https://attack.mitre.org/techniques/T1001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--gone", "name": "Gone",
     "x_mitre_deprecated": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1026",
       "url": "https://attack.mitre.org/techniques/T1026"}]},
    {"type": "intrusion-set", "id": "intrusion-set--apt29", "name": "APT29",
     "aliases": ["APT29", "Cozy Bear"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "G0016",
       "url": "https://attack.mitre.org/groups/G0016"}]},
    {"type": "campaign", "id": "campaign--solar", "name": "SolarWinds Compromise",
     "aliases": ["SolarWinds Compromise"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "C0024",
       "url": "https://attack.mitre.org/campaigns/C0024"}]},
    {"type": "malware", "id": "malware--sunburst", "name": "SUNBURST",
     "x_mitre_aliases": ["SUNBURST", "Solorigate"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0559",
       "url": "https://attack.mitre.org/software/S0559"}]},
    {"type": "tool", "id": "tool--adfind", "name": "AdFind",
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0552",
       "url": "https://attack.mitre.org/software/S0552"}]},
    {"type": "course-of-action", "id": "course-of-action--mfa", "name": "Multi-factor Authentication",
     "external_references": [{"source_name": "mitre-attack", "external_id": "M1032",
       "url": "https://attack.mitre.org/mitigations/M1032"}]},
    {"type": "relationship", "id": "relationship--1", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--child", "target_ref": "attack-pattern--parent"},
    {"type": "relationship", "id": "relationship--2", "relationship_type": "revoked-by",
     "source_ref": "attack-pattern--old", "target_ref": "attack-pattern--parent"},
    {"type": "relationship", "id": "relationship--3", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "attack-pattern--parent"},
    {"type": "relationship", "id": "relationship--4", "relationship_type": "uses",
     "source_ref": "campaign--solar", "target_ref": "attack-pattern--parent"},
    {"type": "relationship", "id": "relationship--5", "relationship_type": "uses",
     "source_ref": "malware--sunburst", "target_ref": "attack-pattern--parent"},
    {"type": "relationship", "id": "relationship--6", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "attack-pattern--child",
     "x_mitre_deprecated": true},
    {"type": "relationship", "id": "relationship--7", "relationship_type": "mitigates",
     "source_ref": "course-of-action--mfa", "target_ref": "attack-pattern--parent"},
    {"type": "relationship", "id": "relationship--8", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "malware--sunburst"}
  ]
}"#;

#[test]
fn stix_bundle_converts() {
    let c = Catalog::from_json(BUNDLE).unwrap();
    assert_eq!(c.version, "99.1");
    assert_eq!(c.domain, "enterprise-attack");

    // Matrix order, not bundle order.
    let tactics: Vec<(&str, &str)> = c.tactics.iter().map(|t| (t.id.as_str(), t.shortname.as_str())).collect();
    assert_eq!(tactics, [("TA0001", "initial-access"), ("TA0040", "impact")]);
    assert_eq!(c.tactic("impact").unwrap().url, "https://attack.mitre.org/tactics/TA0040");

    let ids: Vec<&str> = c.techniques.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T1001", "T1026", "T1078", "T1078.004"]);

    let t = c.technique("t1078").unwrap();
    assert_eq!(t.name, "Valid Accounts");
    assert_eq!(t.tactics, ["initial-access", "impact"]);
    assert_eq!(t.platforms, ["Windows", "Linux"]);
    assert_eq!(t.url, "https://attack.mitre.org/techniques/T1078");
    assert_eq!(t.stix_id, "attack-pattern--parent");
    assert_eq!(t.subtechnique_of, None);
    assert_eq!(t.used_by, ["C0024", "G0016"]); // software uses are not "used by"
    assert_eq!(t.mitigations, ["M1032"]);
    assert!(t.summary.ends_with("may even be used..."), "{}", t.summary);
    assert!(t.summary.starts_with("Adversaries may obtain"));

    let sub = c.technique("T1078.004").unwrap();
    assert_eq!(sub.subtechnique_of.as_deref(), Some("T1078"));
    assert!(sub.platforms.is_empty());
    assert!(sub.used_by.is_empty()); // the only use is deprecated
    assert_eq!(sub.summary, "Short.");
    let subs: Vec<&str> = c.subtechniques("T1078").iter().map(|t| t.id.as_str()).collect();
    assert_eq!(subs, ["T1078.004"]);

    let old = c.technique("T1001").unwrap();
    assert!(old.revoked && !old.deprecated);
    assert_eq!(old.revoked_by.as_deref(), Some("T1078"));
    let gone = c.technique("T1026").unwrap();
    assert!(gone.deprecated && !gone.revoked && gone.revoked_by.is_none());

    let g = c.group("G0016").unwrap();
    assert_eq!(g.aliases, ["APT29", "Cozy Bear"]);
    assert_eq!(g.stix_id, "intrusion-set--apt29");
    assert_eq!(c.group_by_name("COZY BEAR").unwrap().id, "G0016");
    assert_eq!(c.campaign("C0024").unwrap().name, "SolarWinds Compromise");
    assert_eq!(c.software("S0559").unwrap().aliases, ["SUNBURST", "Solorigate"]);
    assert_eq!(c.software_type("S0559"), Some("malware"));
    assert_eq!(c.software_type("S0552"), Some("tool"));
    assert_eq!(c.software.len(), 2);
    assert_eq!(c.mitigation("M1032").unwrap().url, "https://attack.mitre.org/mitigations/M1032");
}

#[test]
fn stix_without_collection_uses_the_matrix_version() {
    let bundle = BUNDLE.replace(r#""x_mitre_version": "99.1", "#, "");
    assert_eq!(Catalog::from_json(&bundle).unwrap().version, "1.0");
}

#[test]
fn stix_with_a_malformed_object_is_an_error() {
    let bundle = BUNDLE.replace(r#""x_mitre_platforms": null"#, r#""x_mitre_platforms": 7"#);
    let err = Catalog::from_json(&bundle).unwrap_err();
    assert!(err.starts_with("not an ATT&CK catalog"), "{err}");
}

proptest::proptest! {
    #[test]
    fn any_text_gives_a_result_not_a_panic(text in ".{0,200}") {
        let _ = Catalog::from_json(&text);
    }

    #[test]
    fn any_description_summarizes(text in "\\PC{0,400}") {
        let s = summarize(&text);
        proptest::prop_assert!(s.chars().count() <= SUMMARY_LIMIT + 3);
    }
}

/// Parse time of the compiled-in catalog:
/// `cargo test --release --lib attack::tests::builtin_parse_time -- --ignored --nocapture`.
#[test]
#[ignore]
fn builtin_parse_time() {
    let runs = 20;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        std::hint::black_box(Catalog::from_json(BUILTIN_JSON).unwrap());
    }
    let each = start.elapsed() / runs;
    let start = std::time::Instant::now();
    let c = Catalog::builtin();
    let first = start.elapsed();
    println!(
        "from_json(builtin, {} bytes): {each:?} per parse; first Catalog::builtin(): {first:?} ({} techniques)",
        BUILTIN_JSON.len(),
        c.techniques.len()
    );
}
