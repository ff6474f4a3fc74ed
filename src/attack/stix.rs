//! MITRE's STIX 2.1 bundle (mitre/cti, attack-stix-data) -> the catalog's parts.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};

use super::{Object, Parts, Tactic, Technique};

/// Summaries are the start of MITRE's description, about this many characters.
pub(super) const SUMMARY_CHARS: usize = 300;

/// The fields of a STIX object the catalog uses; everything else is skipped while parsing,
/// which keeps a 40 MB bundle cheap. Absent or `null` fields read as empty.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct StixObject {
    #[serde(rename = "type", deserialize_with = "or_default")]
    kind: String,
    #[serde(deserialize_with = "or_default")]
    id: String,
    #[serde(deserialize_with = "or_default")]
    name: String,
    #[serde(deserialize_with = "or_default")]
    description: String,
    #[serde(deserialize_with = "or_default")]
    external_references: Vec<ExternalReference>,
    #[serde(deserialize_with = "or_default")]
    kill_chain_phases: Vec<KillChainPhase>,
    #[serde(deserialize_with = "or_default")]
    x_mitre_platforms: Vec<String>,
    #[serde(deserialize_with = "or_default")]
    x_mitre_is_subtechnique: bool,
    #[serde(deserialize_with = "or_default")]
    revoked: bool,
    #[serde(deserialize_with = "or_default")]
    x_mitre_deprecated: bool,
    #[serde(deserialize_with = "or_default")]
    x_mitre_shortname: String,
    #[serde(deserialize_with = "or_default")]
    tactic_refs: Vec<String>,
    #[serde(deserialize_with = "or_default")]
    x_mitre_version: String,
    #[serde(deserialize_with = "or_default")]
    aliases: Vec<String>,
    #[serde(deserialize_with = "or_default")]
    x_mitre_aliases: Vec<String>,
    #[serde(deserialize_with = "or_default")]
    relationship_type: String,
    #[serde(deserialize_with = "or_default")]
    source_ref: String,
    #[serde(deserialize_with = "or_default")]
    target_ref: String,
    created: Option<String>,
    modified: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExternalReference {
    #[serde(deserialize_with = "or_default")]
    source_name: String,
    #[serde(deserialize_with = "or_default")]
    external_id: String,
    #[serde(deserialize_with = "or_default")]
    url: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KillChainPhase {
    #[serde(deserialize_with = "or_default")]
    kill_chain_name: String,
    #[serde(deserialize_with = "or_default")]
    phase_name: String,
}

/// `null` reads as the default, like an absent field.
fn or_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl StixObject {
    /// The ATT&CK reference (`T1078`, `TA0001`, `G0016`, `enterprise-attack`), if any.
    fn attack_ref(&self) -> Option<&ExternalReference> {
        self.external_references.iter().find(|r| r.source_name == "mitre-attack" && !r.external_id.is_empty())
    }

    fn attack_id(&self) -> Option<&str> {
        self.attack_ref().map(|r| r.external_id.as_str())
    }

    fn url(&self) -> String {
        self.attack_ref().map(|r| r.url.clone()).unwrap_or_default()
    }

    fn stale(&self) -> bool {
        self.revoked || self.x_mitre_deprecated
    }

    fn object(&self, id: &str, aliases: &[String]) -> Object {
        Object {
            id: id.to_string(),
            name: self.name.clone(),
            aliases: aliases.to_vec(),
            url: self.url(),
            stix_id: self.id.clone(),
            revoked: self.revoked,
            deprecated: self.x_mitre_deprecated,
            created: self.created.clone(),
            modified: self.modified.clone(),
        }
    }
}

pub(super) fn convert(objects: Vec<StixObject>) -> Result<Parts, String> {
    // STIX id -> ATT&CK id, for resolving relationship ends.
    let attack_ids: HashMap<&str, &str> =
        (objects.iter()).filter_map(|o| Some((o.id.as_str(), o.attack_id()?))).collect();
    let by_type = |kind: &'static str| objects.iter().filter(move |o| o.kind == kind);

    // A bundle normally has one matrix; skip a revoked or deprecated one if there is a choice.
    let matrix = (by_type("x-mitre-matrix").find(|m| !m.stale())).or_else(|| by_type("x-mitre-matrix").next());
    let collection_version =
        by_type("x-mitre-collection").find_map(|c| Some(c.x_mitre_version.as_str()).filter(|v| !v.is_empty()));
    let version = collection_version.or(matrix.map(|m| m.x_mitre_version.as_str())).unwrap_or_default().to_string();
    let domain = (matrix.and_then(StixObject::attack_id)).unwrap_or("enterprise-attack").to_string();

    let tactics = tactics_in_matrix_order(by_type("x-mitre-tactic"), matrix);

    // Relationships, resolved to ATT&CK ids; revoked or deprecated ones no longer hold.
    let mut parent: HashMap<&str, &str> = HashMap::new();
    let mut revoked_by: HashMap<&str, &str> = HashMap::new();
    let mut used_by: HashMap<&str, Vec<String>> = HashMap::new();
    let mut mitigated_by: HashMap<&str, Vec<String>> = HashMap::new();
    for r in by_type("relationship").filter(|r| !r.stale()) {
        let (Some(&source), Some(&target)) =
            (attack_ids.get(r.source_ref.as_str()), attack_ids.get(r.target_ref.as_str()))
        else {
            continue;
        };
        let source_type = r.source_ref.split("--").next().unwrap_or_default();
        let target_is_technique = r.target_ref.starts_with("attack-pattern--");
        match r.relationship_type.as_str() {
            "subtechnique-of" => {
                parent.insert(r.source_ref.as_str(), target);
            }
            "revoked-by" => {
                revoked_by.insert(r.source_ref.as_str(), target);
            }
            "uses" if target_is_technique && matches!(source_type, "intrusion-set" | "campaign") => {
                used_by.entry(r.target_ref.as_str()).or_default().push(source.to_string());
            }
            "mitigates" if target_is_technique && source_type == "course-of-action" => {
                (mitigated_by.entry(r.target_ref.as_str()).or_default()).push(source.to_string());
            }
            _ => {}
        }
    }

    let mut techniques = Vec::new();
    for o in by_type("attack-pattern") {
        let Some(id) = o.attack_id() else { continue };
        let subtechnique_of = match parent.get(o.id.as_str()) {
            Some(p) => Some(p.to_string()),
            // MITRE drops the relationship of a revoked sub-technique; a live one always has it,
            // but its id still names the parent.
            None if o.x_mitre_is_subtechnique && !o.revoked => id.split_once('.').map(|(p, _)| p.to_string()),
            None => None,
        };
        techniques.push(Technique {
            id: id.to_string(),
            name: o.name.clone(),
            tactics: (o.kill_chain_phases.iter())
                .filter(|k| k.kill_chain_name == "mitre-attack")
                .map(|k| k.phase_name.clone())
                .collect(),
            subtechnique_of,
            platforms: o.x_mitre_platforms.clone(),
            revoked: o.revoked,
            revoked_by: revoked_by.get(o.id.as_str()).map(|r| r.to_string()),
            deprecated: o.x_mitre_deprecated,
            url: o.url(),
            stix_id: o.id.clone(),
            summary: summarize(&o.description),
            used_by: sorted(used_by.remove(o.id.as_str())),
            mitigations: sorted(mitigated_by.remove(o.id.as_str())),
            created: o.created.clone(),
            modified: o.modified.clone(),
        });
    }
    if techniques.is_empty() {
        // Some other STIX bundle: an empty catalog would only fail later, less clearly.
        return Err("not an ATT&CK catalog: the STIX bundle has no ATT&CK techniques".into());
    }
    techniques.sort_by(|a, b| a.id.cmp(&b.id));

    let objects_of = |kinds: &[&str]| -> Vec<(Object, String)> {
        let mut out: Vec<(Object, String)> = (objects.iter())
            .filter(|o| kinds.contains(&o.kind.as_str()))
            .filter_map(|o| {
                let aliases = if o.aliases.is_empty() { &o.x_mitre_aliases } else { &o.aliases };
                Some((o.object(o.attack_id()?, aliases), o.kind.clone()))
            })
            .collect();
        out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        out
    };
    let plain = |kinds: &[&str]| objects_of(kinds).into_iter().map(|(o, _)| o).collect();

    Ok(Parts {
        version,
        domain,
        tactics,
        techniques,
        groups: plain(&["intrusion-set"]),
        campaigns: plain(&["campaign"]),
        software: objects_of(&["malware", "tool"]),
        mitigations: plain(&["course-of-action"]),
    })
}

/// Tactics in the matrix's column order; any the matrix leaves out follow in bundle order.
fn tactics_in_matrix_order<'a>(
    found: impl Iterator<Item = &'a StixObject>,
    matrix: Option<&StixObject>,
) -> Vec<Tactic> {
    let mut found: Vec<&StixObject> =
        found.filter(|t| !t.x_mitre_shortname.is_empty() && t.attack_id().is_some()).collect();
    let column = |t: &StixObject| {
        let refs = matrix.map(|m| m.tactic_refs.as_slice()).unwrap_or_default();
        refs.iter().position(|r| *r == t.id).unwrap_or(usize::MAX)
    };
    found.sort_by_key(|t| column(t)); // stable: unlisted ones keep bundle order
    (found.into_iter())
        .map(|t| Tactic {
            id: t.attack_id().unwrap_or_default().to_string(),
            shortname: t.x_mitre_shortname.clone(),
            name: t.name.clone(),
            url: t.url(),
        })
        .collect()
}

fn sorted(ids: Option<Vec<String>>) -> Vec<String> {
    let mut ids = ids.unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

/// The first ~300 characters of a description, cut at a word boundary and marked with `...`.
pub(super) fn summarize(description: &str) -> String {
    let text = description.trim();
    let Some((cut, _)) = text.char_indices().nth(SUMMARY_CHARS) else {
        return text.to_string();
    };
    let head = &text[..cut];
    // Cutting mid-word would leave a fragment; back up to the last space unless the cut
    // already falls on one (or the "word" is the whole head).
    let head = if text[cut..].starts_with(char::is_whitespace) {
        head
    } else {
        head.rfind(char::is_whitespace).map_or(head, |i| &head[..i])
    };
    format!("{}...", head.trim_end())
}
