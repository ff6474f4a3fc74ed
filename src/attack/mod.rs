//! The MITRE ATT&CK Enterprise catalog: tactics, techniques, groups, campaigns, software
//! and mitigations, with O(1) lookups by id.
//!
//! The catalog is compiled in (`data/attack/`, see its NOTICE.md for provenance and terms)
//! and parsed once. [`Catalog::from_json`] also reads MITRE's own STIX 2.1 bundle, so a
//! newer ATT&CK release can be used without regenerating the compact file.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::OnceLock;

mod stix;
#[cfg(test)]
mod tests;

/// The attribution ATT&CK's terms of use require on every built site.
pub const ATTRIBUTION: &str = "MITRE ATT&CK® and ATT&CK® are registered trademarks of The MITRE Corporation. Technique data © The MITRE Corporation, reproduced under the ATT&CK Terms of Use.";

/// The fixed `created`/`modified` of exported ATT&CK objects whose catalog entry has no
/// dates (the compact catalog): ATT&CK's first STIX publication, May 2017.
pub const CATALOG_INSTANT: &str = "2017-05-31T21:30:00.000Z";

/// The compiled-in catalog: ATT&CK Enterprise 18.1 in the compact shape.
const BUILTIN_JSON: &str = include_str!("../../data/attack/enterprise-attack-18.1.json");

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Tactic {
    pub id: String,
    pub shortname: String,
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub tactics: Vec<String>,
    pub subtechnique_of: Option<String>,
    pub platforms: Vec<String>,
    pub revoked: bool,
    pub revoked_by: Option<String>,
    pub deprecated: bool,
    pub url: String,
    pub stix_id: String,
    pub summary: String,
    pub used_by: Vec<String>,
    pub mitigations: Vec<String>,
    /// MITRE's STIX `created`/`modified` (only a STIX bundle has them; the compact
    /// catalog does not, see [`Catalog::stix_times`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

/// A group, campaign, software or mitigation.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Object {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub url: String,
    pub stix_id: String,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub deprecated: bool,
    /// MITRE's STIX `created`/`modified`, as for [`Technique`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

/// The catalog. Only [`Catalog::from_json`] and [`Catalog::builtin`] make one, because the
/// lookup indexes are built there; treat the public fields as read-only.
#[derive(Debug)]
pub struct Catalog {
    pub version: String,
    pub domain: String,
    pub tactics: Vec<Tactic>,
    pub techniques: Vec<Technique>,
    pub groups: Vec<Object>,
    pub campaigns: Vec<Object>,
    pub software: Vec<Object>,
    pub mitigations: Vec<Object>,
    /// `malware` or `tool`, parallel to `software` (kept apart so `Object` stays as it is).
    software_types: Vec<String>,
    /// Every platform of any technique, sorted and deduplicated (each Navigator layer lists them).
    platforms: Vec<String>,
    index: Index,
    /// Of the text it was read from: what the exports made from it declare as read.
    fingerprint: crate::fingerprint::Fingerprint,
}

/// Positions into the catalog's vectors, keyed by normalised id.
#[derive(Debug, Default)]
struct Index {
    techniques: HashMap<String, usize>,
    tactics: HashMap<String, usize>,
    groups: HashMap<String, usize>,
    campaigns: HashMap<String, usize>,
    software: HashMap<String, usize>,
    mitigations: HashMap<String, usize>,
    /// Lower-cased group name or alias -> best group (see `group_by_name`).
    group_names: HashMap<String, usize>,
    /// Parent technique position -> its sub-techniques' positions, sorted by id.
    subtechniques: HashMap<usize, Vec<usize>>,
}

/// Everything a catalog is made of, before indexing; both input formats produce this.
struct Parts {
    version: String,
    domain: String,
    tactics: Vec<Tactic>,
    techniques: Vec<Technique>,
    groups: Vec<Object>,
    campaigns: Vec<Object>,
    software: Vec<(Object, String)>,
    mitigations: Vec<Object>,
}

/// The top level of either input format, read in one pass: a STIX bundle has `type` and
/// `objects`, the compact catalog has the rest.
#[derive(serde::Deserialize)]
struct Input {
    #[serde(rename = "type")]
    kind: Option<String>,
    objects: Option<Vec<stix::StixObject>>,
    attack_version: Option<String>,
    domain: Option<String>,
    tactics: Option<Vec<Tactic>>,
    techniques: Option<Vec<Technique>>,
    groups: Option<Vec<Object>>,
    campaigns: Option<Vec<Object>>,
    software: Option<Vec<SoftwareRow>>,
    mitigations: Option<Vec<Object>>,
}

/// A compact-catalog software entry: an `Object` plus its `type`.
#[derive(serde::Deserialize)]
struct SoftwareRow {
    #[serde(flatten)]
    object: Object,
    #[serde(rename = "type", default)]
    kind: String,
}

impl Catalog {
    /// The compiled-in ATT&CK Enterprise 18.1 catalog, parsed on first use.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            // The data is fixed at compile time and loaded by the tests, so this cannot fail.
            Catalog::from_json(BUILTIN_JSON).unwrap_or_else(|e| panic!("compiled-in ATT&CK catalog: {e}"))
        })
    }

    /// Reads the compact catalog (the shape of `data/attack/*.json`) or MITRE's STIX 2.1
    /// bundle (`{"type":"bundle","objects":[...]}`).
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let input: Input = serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => format!("not an ATT&CK catalog: {e}"),
            _ => format!("not an ATT&CK catalog: invalid JSON: {e}"),
        })?;
        let parts = match (input.kind.as_deref(), input.objects) {
            (Some("bundle"), Some(objects)) => stix::convert(objects)?,
            (Some(other), _) if other != "bundle" && input.techniques.is_none() => {
                return Err(format!(
                    "not an ATT&CK catalog: expected the compact catalog or a STIX bundle (\"type\" is {other:?})"
                ))
            }
            (Some("bundle"), None) => return Err("not an ATT&CK catalog: STIX bundle without \"objects\"".into()),
            _ => {
                let missing = |key: &str| {
                    format!("not an ATT&CK catalog: expected the compact catalog or a STIX bundle (missing \"{key}\")")
                };
                let techniques = input.techniques.ok_or_else(|| missing("techniques"))?;
                let tactics = input.tactics.ok_or_else(|| missing("tactics"))?;
                Parts {
                    version: input.attack_version.unwrap_or_default(),
                    domain: input.domain.unwrap_or_else(|| "enterprise-attack".into()),
                    tactics,
                    techniques,
                    groups: input.groups.unwrap_or_default(),
                    campaigns: input.campaigns.unwrap_or_default(),
                    software: (input.software.unwrap_or_default().into_iter())
                        .map(|row| (row.object, row.kind))
                        .collect(),
                    mitigations: input.mitigations.unwrap_or_default(),
                }
            }
        };
        let mut catalog = Catalog::new(parts)?;
        catalog.fingerprint = crate::fingerprint::of_bytes(text.as_bytes());
        Ok(catalog)
    }

    /// Indexes the parts; duplicate ids are an error because a lookup could not tell them apart.
    fn new(parts: Parts) -> Result<Catalog, String> {
        let mut index = Index::default();
        let (software, software_types): (Vec<Object>, Vec<String>) = parts.software.into_iter().unzip();

        index.techniques = index_by("technique", &parts.techniques, |t| upper(&t.id))?;
        index.tactics = index_by("tactic", &parts.tactics, |t| lower(&t.shortname))?;
        index.groups = index_by("group", &parts.groups, |o| upper(&o.id))?;
        index.campaigns = index_by("campaign", &parts.campaigns, |o| upper(&o.id))?;
        index.software = index_by("software", &software, |o| upper(&o.id))?;
        index.mitigations = index_by("mitigation", &parts.mitigations, |o| upper(&o.id))?;

        for (child, t) in parts.techniques.iter().enumerate() {
            let parent = t.subtechnique_of.as_deref().map(upper);
            if let Some(&parent) = parent.and_then(|p| index.techniques.get(p.as_ref())) {
                index.subtechniques.entry(parent).or_default().push(child);
            }
        }
        for children in index.subtechniques.values_mut() {
            children.sort_by(|&a, &b| parts.techniques[a].id.cmp(&parts.techniques[b].id));
        }

        // A free name may be one group's name and another's alias, or belong to a revoked
        // group too (APT34 is revoked G0057 and an alias of OilRig): prefer a live group,
        // then a primary name over an alias, then the first in the list.
        let mut ranked: HashMap<String, (u8, usize)> = HashMap::default();
        for (i, g) in parts.groups.iter().enumerate() {
            let stale = u8::from(g.revoked || g.deprecated) * 2;
            let names = std::iter::once((&g.name, 0)).chain(g.aliases.iter().map(|a| (a, 1)));
            for (name, is_alias) in names {
                let key = name.trim().to_lowercase();
                let rank = (stale + is_alias, i);
                if !key.is_empty() && ranked.get(&key).is_none_or(|&best| rank < best) {
                    ranked.insert(key, rank);
                }
            }
        }
        index.group_names = ranked.into_iter().map(|(k, (_, i))| (k, i)).collect();
        let mut platforms: Vec<String> = parts.techniques.iter().flat_map(|t| t.platforms.iter().cloned()).collect();
        platforms.sort();
        platforms.dedup();

        Ok(Catalog {
            version: parts.version,
            domain: parts.domain,
            tactics: parts.tactics,
            techniques: parts.techniques,
            groups: parts.groups,
            campaigns: parts.campaigns,
            software,
            mitigations: parts.mitigations,
            software_types,
            platforms,
            index,
            fingerprint: 0,
        })
    }

    /// The fingerprint of the text the catalog was read from.
    pub fn fingerprint(&self) -> crate::fingerprint::Fingerprint {
        self.fingerprint
    }

    /// Every platform any technique runs on, sorted.
    pub fn platforms(&self) -> &[String] {
        &self.platforms
    }

    /// A technique or sub-technique by id; the `T` may be lower-case (`t1078.004`).
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        find(&self.techniques, &self.index.techniques, &upper(id), |t| &t.id)
    }

    /// A tactic by shortname (`initial-access`), ignoring case.
    pub fn tactic(&self, shortname: &str) -> Option<&Tactic> {
        let key = lower(shortname);
        let i = *self.index.tactics.get(key.as_ref())?;
        self.tactics.get(i).filter(|t| t.shortname.eq_ignore_ascii_case(&key))
    }

    /// A group by id (`G0016`).
    pub fn group(&self, id: &str) -> Option<&Object> {
        find(&self.groups, &self.index.groups, &upper(id), |o| &o.id)
    }

    /// A group by its name or any alias, ignoring case (`cozy bear` -> APT29), for actors
    /// written as free names. Live groups win over revoked or deprecated ones, and a
    /// group's own name over another group's alias.
    pub fn group_by_name(&self, name: &str) -> Option<&Object> {
        let i = *self.index.group_names.get(&name.trim().to_lowercase())?;
        self.groups.get(i)
    }

    /// A group by id (`G0016`), else by name or alias: how an actor as written is matched.
    pub fn group_of_actor(&self, actor: &str) -> Option<&Object> {
        self.group(actor).or_else(|| self.group_by_name(actor))
    }

    /// The `created` and `modified` of an ATT&CK object as exported: MITRE's own when the
    /// catalog is MITRE's STIX bundle, else [`CATALOG_INSTANT`] (the compact catalog keeps
    /// no dates). Either way a function of the catalog alone, never of the cases.
    pub fn stix_times<'a>(&self, created: &'a Option<String>, modified: &'a Option<String>) -> (&'a str, &'a str) {
        let created = created.as_deref().unwrap_or(CATALOG_INSTANT);
        (created, modified.as_deref().unwrap_or(created))
    }

    /// A campaign by id (`C0024`).
    pub fn campaign(&self, id: &str) -> Option<&Object> {
        find(&self.campaigns, &self.index.campaigns, &upper(id), |o| &o.id)
    }

    /// A piece of software (malware or tool) by id (`S0154`).
    pub fn software(&self, id: &str) -> Option<&Object> {
        find(&self.software, &self.index.software, &upper(id), |o| &o.id)
    }

    /// `malware` or `tool` for a software id.
    pub fn software_type(&self, id: &str) -> Option<&str> {
        let key = upper(id);
        let i = *self.index.software.get(key.as_ref())?;
        self.software.get(i).filter(|o| o.id.eq_ignore_ascii_case(&key))?;
        self.software_types.get(i).map(String::as_str)
    }

    /// A mitigation by id (`M1032`; also the deprecated `T…` course-of-action ids).
    pub fn mitigation(&self, id: &str) -> Option<&Object> {
        find(&self.mitigations, &self.index.mitigations, &upper(id), |o| &o.id)
    }

    /// A technique's sub-techniques (revoked and deprecated ones included), sorted by id.
    /// Empty for an unknown id or a technique without any.
    pub fn subtechniques(&self, id: &str) -> Vec<&Technique> {
        let key = upper(id);
        let Some(&parent) = self.index.techniques.get(key.as_ref()) else {
            return Vec::new();
        };
        let children = self.index.subtechniques.get(&parent).map(Vec::as_slice);
        (children.unwrap_or_default().iter()).filter_map(|&i| self.techniques.get(i)).collect()
    }
}

/// Maps each item's key to its position, refusing duplicates.
fn index_by<T>(what: &str, items: &[T], key: impl Fn(&T) -> Cow<'_, str>) -> Result<HashMap<String, usize>, String> {
    let mut map = HashMap::with_capacity_and_hasher(items.len(), Default::default());
    for (i, item) in items.iter().enumerate() {
        let k = key(item).into_owned();
        if k.is_empty() {
            return Err(format!("ATT&CK catalog: {what} #{} has an empty id", i + 1));
        }
        if map.contains_key(&k) {
            return Err(format!("ATT&CK catalog: duplicate {what} id {k:?}"));
        }
        map.insert(k, i);
    }
    Ok(map)
}

/// Looks a key up and checks the hit, so a catalog whose public vectors were edited after
/// construction gives `None` rather than the wrong entry.
fn find<'a, T>(items: &'a [T], index: &HashMap<String, usize>, key: &str, id: impl Fn(&T) -> &String) -> Option<&'a T> {
    let item = items.get(*index.get(key)?)?;
    id(item).eq_ignore_ascii_case(key).then_some(item)
}

/// ATT&CK ids are upper-case ASCII (`T1078.004`, `G0016`); only allocate when needed.
fn upper(id: &str) -> Cow<'_, str> {
    let id = id.trim();
    if id.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(id.to_ascii_uppercase())
    } else {
        Cow::Borrowed(id)
    }
}

/// Tactic shortnames are lower-case ASCII (`command-and-control`).
fn lower(name: &str) -> Cow<'_, str> {
    let name = name.trim();
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}
