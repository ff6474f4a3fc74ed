//! STIX 2.1 bundles: one per case (`cases/SLUG/stix.json`) and one for the whole site
//! (`stix-bundle.json`). They validate with the OASIS `stix2-validator` 3.2.0 as
//! `stix2_validator --strict --disable 302`.
//!
//! The model, per case:
//! - a `report` for the write-up (`published` = the write-up's date), whose
//!   `object_refs` name everything below;
//! - a `campaign` for the incident itself, which `targets` an `identity` per victim
//!   organization, a `location` per country and an `identity` (class) per sector
//!   (`industry-sector-ov` where one fits; the writer's words stay on the relationship),
//!   is `attributed-to` an `intrusion-set` per named actor (the ATT&CK group it names by
//!   id, name or alias, with its `G` id), or a `threat-actor` of resource level
//!   `individual` for the people listed in `[incident] individuals`, and `uses` an
//!   `attack-pattern` per technique (the relationship carries the evidence as
//!   `description` and the confidence as a number);
//! - an `indicator` per indicator (fanged, as written), which `indicates` the campaign;
//! - a `note` on the campaign with what STIX has no property for: incident dates, impact
//!   counts and data types, and the timeline;
//! - a victim whose profile names countries is `located-at` them;
//! - a translation is no second incident: it is a `language-content` on its original's
//!   report, and its bundle is the original's plus that object;
//! - an `identity` for the site itself, the `created_by_ref` of every object;
//! - the TLP 2.0 `marking-definition`s in use, exactly as OASIS publishes them, and
//!   `object_marking_refs` on every other object.
//!
//! **Ids** are stable: the SHA-1 name-based derivation of UUIDv5 over a fixed namespace
//! and `TYPE` + key (the case slug and what the object is within the case; the
//! organization slug, technique id or actor slug for objects shared between cases), with
//! the version nibble set to 4. STIX 2.1 asks for UUIDv4 in the ids of SDOs, SROs and
//! bundles (v5 is for observables), and the validator's `uuid-check` enforces it under
//! `--strict`; the bits are still a hash of the key, so the same input gives the same id.
//!
//! **Attack patterns** get our own ids, not MITRE's: an object with MITRE's id but our
//! `created_by_ref` and timestamps would be a new version of MITRE's object by someone
//! else, which STIX forbids. They carry the `mitre-attack` external reference
//! (`external_id`, `url`), which is how ATT&CK-aware tools match them.
//!
//! **Timestamps** come from each object's own data, never from the build nor from other
//! cases, so an object changes only when its own data does: a case's objects are
//! `created` on the write-up's `date` and `modified` on its `updated`; ATT&CK objects
//! keep the catalog's (MITRE's dates, or [`crate::attack::CATALOG_INSTANT`] for the
//! compact catalog); everything else shared between cases (the site, organizations,
//! sectors, countries, actors unknown to ATT&CK) has [`FIXED_INSTANT`].
//!
//! **Markings**: a case's own objects carry the case's TLP; public reference data
//! (ATT&CK techniques and groups, countries, sectors) and the site's identity are
//! `TLP:CLEAR`; victims and actors ATT&CK does not know carry the most restrictive level
//! the site publishes (`[publish] tlp`), never a level that depends on which cases there
//! are (the same object must not change when a case is added).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;

use bytes::Bytes;
use jiff::civil::Date;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{declare, permalink};
use crate::fingerprint::{of_bytes, Fingerprint, Hasher};
use crate::parse::case::{Confidence, IndicatorType, Tlp};
use crate::parse::date::{PartialDate, Qualifier};
use crate::render::{Chunk, Memo};
use crate::resolve::Site;
use crate::slug::slugify;
use crate::urls::Kind;

/// Namespace of every id this site generator makes (random, fixed forever).
const NAMESPACE: Uuid = Uuid::from_u128(0x2204e42a_e127_4f27_9286_dd15307042c9);

/// The TLP 2.0 marking-definition extension (OASIS cti-stix-common-objects).
const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// OASIS's fixed TLP 2.0 marking-definition id of a level.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The marking-definition object of a level, exactly as OASIS publishes it.
fn tlp_marking(tlp: Tlp) -> Value {
    let mut ext = Map::new();
    ext.insert(TLP_EXTENSION.to_string(), json!({"extension_type": "property-extension", "tlp_2_0": tlp.as_str()}));
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", tlp.as_str().to_uppercase()),
        "extensions": ext,
    })
}

/// Numeric STIX confidence (0-100) of a confidence level.
pub fn confidence(c: Confidence) -> u64 {
    match c {
        Confidence::Confirmed => 95,
        Confidence::Likely => 75,
        Confidence::Possible => 50,
        Confidence::Unconfirmed => 15,
    }
}

/// A stable id: SHA-1 name-based (the UUIDv5 derivation), stamped as version 4.
pub fn stable_id(kind: &str, key: &str) -> String {
    let hashed = Uuid::new_v5(&NAMESPACE, format!("{kind}\n{key}").as_bytes());
    let v4 = uuid::Builder::from_random_bytes(*hashed.as_bytes()).into_uuid();
    format!("{kind}--{v4}")
}

/// A STIX timestamp at midnight UTC of a day, to the millisecond.
fn ts(d: Date) -> String {
    format!("{d}T00:00:00.000Z")
}

/// A timestamp for a partial date, only when it names an exact day.
fn exact_ts(d: Option<PartialDate>) -> Option<(Date, String)> {
    let d = d?;
    if d.qualifier != Qualifier::Exact {
        return None;
    }
    let date = Date::new(d.year, d.month?, d.day?).ok()?;
    Some((date, ts(date)))
}

/// A sector name as written -> the STIX 2.1 `industry-sector-ov` value, if one fits.
/// Matching ignores case, `-`/`_` and `&` vs `and`; sectors with no match are left out
/// (`--strict` accepts vocabulary values only).
pub fn industry_sector(name: &str) -> Option<&'static str> {
    let norm: String = name
        .to_lowercase()
        .replace('&', " and ")
        .replace(['-', '_', '/', ','], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(match norm.as_str() {
        "agriculture" | "farming" | "food and agriculture" => "agriculture",
        "aerospace" | "space" => "aerospace",
        "automotive" | "automobile" | "automobiles" | "cars" => "automotive",
        "chemical" | "chemicals" => "chemical",
        "commercial" | "commercial facilities" => "commercial",
        "communications" | "media and communications" => "communications",
        "construction" | "real estate" => "construction",
        "defense" | "defence" | "military" | "defense industrial base" => "defense",
        "education"
        | "higher education"
        | "university"
        | "universities"
        | "schools"
        | "academia"
        | "research and education" => "education",
        "energy" | "oil and gas" | "oil" | "gas" | "electricity" | "power" => "energy",
        "entertainment" | "media" | "gaming" | "video games" | "media and entertainment" => "entertainment",
        "financial services" | "finance" | "financial" | "banking" | "bank" | "banks" | "fintech" | "payments"
        | "cryptocurrency" | "investment" | "securities" => "financial-services",
        "government" | "public sector" | "public administration" => "government",
        "emergency services" => "emergency-services",
        "government local" | "local government" | "municipal" | "municipality" | "municipalities"
        | "city government" => "government-local",
        "government national" | "national government" | "federal government" | "central government" => {
            "government-national"
        }
        "government public services" | "public services" | "government services" => "government-public-services",
        "government regional" | "regional government" | "state government" | "provincial government" => {
            "government-regional"
        }
        "healthcare"
        | "health care"
        | "health"
        | "hospital"
        | "hospitals"
        | "medical"
        | "healthcare and public health" => "healthcare",
        "hospitality leisure"
        | "hospitality and leisure"
        | "hospitality"
        | "leisure"
        | "hotels"
        | "travel"
        | "tourism" => "hospitality-leisure",
        "infrastructure" | "critical infrastructure" => "infrastructure",
        "dams" => "dams",
        "nuclear" => "nuclear",
        "water" | "water and wastewater" => "water",
        "insurance" => "insurance",
        "manufacturing" | "industrial" => "manufacturing",
        "mining" => "mining",
        "non profit" | "nonprofit" | "ngo" | "charity" | "non governmental organization" => "non-profit",
        "pharmaceuticals" | "pharmaceutical" | "pharma" | "biotechnology" => "pharmaceuticals",
        "retail" | "e commerce" | "ecommerce" | "online retail" => "retail",
        "technology" | "information technology" | "it" | "software" | "it services" | "cloud" | "saas" | "tech" => {
            "technology"
        }
        "telecommunications" | "telecommunication" | "telecom" | "telecoms" | "telco" => "telecommunications",
        "transportation" | "transport" | "aviation" | "airline" | "airlines" | "airport" | "airports" | "logistics"
        | "shipping" | "maritime" | "rail" | "railway" | "railways" => "transportation",
        "utilities" | "utility" => "utilities",
        _ => return None,
    })
}

/// Actor names that say nobody is named.
fn is_unnamed_actor(name: &str) -> bool {
    matches!(
        name.trim().to_lowercase().as_str(),
        "" | "unknown" | "unknown actor" | "unattributed" | "unidentified" | "n/a" | "none"
    )
}

/// The `created`/`modified` of objects whose data states no date of its own (the site's
/// identity, organizations, sectors, countries, actors ATT&CK does not know): fixed, so
/// adding or removing a case never moves them.
pub const FIXED_INSTANT: &str = "2020-01-01T00:00:00.000Z";

/// A STIX object shared between cases: everything but its marking and creator, which
/// the graph adds once every case is scanned.
struct Shared {
    /// The first case to name it: it decides what the object says.
    by: usize,
    /// Public reference data (ATT&CK, countries, sectors) is `TLP:CLEAR`; what cases
    /// name (victims, actors) the most restrictive level the site publishes, so that
    /// neither depends on which cases there are.
    tlp: Tlp,
    /// Of all the object is made from: its id, marking, the settings, and what its first
    /// case gave it (see [`Graph::share`]).
    fingerprint: Fingerprint,
    /// The whole object serialized (it goes into many bundles as is).
    json: Bytes,
}

/// What one case refers to among the shared objects, each list without repeats.
#[derive(Default, Serialize, Deserialize)]
struct CaseRefs {
    victims: Vec<String>,
    actors: Vec<String>,
    /// Per technique use: the attack-pattern id (None when not in the catalog).
    techniques: Vec<Option<String>>,
    /// Sector identities, each with the sector names as the case writes them.
    sectors: Vec<(String, Vec<String>)>,
    countries: Vec<String>,
    /// Relationships shared between cases (a victim `located-at` its profile's country).
    links: Vec<String>,
}

/// What scanning one case gives: what it refers to, and each shared object it names, in
/// the order named. Kept from run to run as a piece (a case that did not change is not
/// scanned again: 10,000 cases take a tenth of a second to scan).
#[derive(Default, Serialize, Deserialize)]
struct Scan {
    refs: CaseRefs,
    /// Id, TLP (its place in [`TLPS`]), fingerprint (see [`Shared::fingerprint`]).
    shares: Vec<(String, u8, Fingerprint)>,
    /// Scanning again to make the objects it shares: the body of each, the first made.
    #[serde(skip)]
    bodies: Option<HashMap<String, Value>>,
}

/// Every STIX object of the site, computed once for all bundles.
pub struct Graph<'s, 'c> {
    site: &'s Site<'c>,
    site_identity: Option<String>,
    shared: HashMap<String, Shared>,
    /// Shared ids in first-seen order (cases newest first).
    order: Vec<String>,
    refs: Vec<CaseRefs>,
    /// Per case: the case whose report it belongs to (itself, or the original of a
    /// translation, which becomes a `language-content` on that report).
    owner: Vec<usize>,
    /// Objects that appear in many bundles, serialized once (the shared ones keep theirs):
    /// the site's identity and each TLP marking definition.
    identity_json: Option<Bytes>,
    marking_json: [Bytes; 5],
    /// The TLP of shared objects that cases name (see [`Shared::tlp`]).
    named_tlp: Tlp,
    /// What every object reads of the site (see [`super::render_each`]).
    settings: Fingerprint,
    /// Per case: the fingerprint of all its own objects are made from (see [`Graph::own`]).
    own: Vec<Fingerprint>,
}

/// TLP levels in the order their marking definitions open a bundle.
pub(super) const TLPS: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

/// Pushes `id` unless `seen` has it: order kept, linear.
fn push_new(list: &mut Vec<String>, seen: &mut HashSet<String>, id: String) {
    if seen.insert(id.clone()) {
        list.push(id);
    }
}

impl<'s, 'c> Graph<'s, 'c> {
    /// Every case scanned for the objects it shares with others; those objects made (or
    /// taken from `memo` when what they are made from did not change).
    pub fn new(site: &'s Site<'c>, settings: Fingerprint, memo: &dyn Memo) -> Self {
        let n = site.cases.len();
        let index: HashMap<&str, usize> =
            site.cases.iter().enumerate().map(|(i, c)| (c.case.slug.as_str(), i)).collect();
        // The original of a translation: followed through `translation_of` while it is
        // published (bounded, though resolve already refuses cycles). Every case on the
        // way decides where it ends: each goes into what the case's own objects read.
        let (owner, chains): (Vec<usize>, Vec<Fingerprint>) = (0..n)
            .map(|i| {
                let mut at = i;
                let mut chain = Hasher::new();
                for _ in 0..n {
                    chain.bytes(&site.cases[at].fingerprint.to_le_bytes());
                    let next = site.cases[at].case.translation_of.as_ref().and_then(|t| index.get(t.value.as_str()));
                    match next {
                        Some(&j) if j != at => at = j,
                        _ => break,
                    }
                }
                (at, chain.finish())
            })
            .unzip();
        let mut g = Graph {
            site,
            site_identity: None,
            shared: HashMap::default(),
            order: Vec::new(),
            refs: Vec::with_capacity(n),
            owner,
            identity_json: None,
            marking_json: TLPS.map(|tlp| Bytes::from(serde_json::to_vec(&tlp_marking(tlp)).unwrap_or_default())),
            named_tlp: TLPS.iter().rev().copied().find(|&t| site.config.publishes(t)).unwrap_or(Tlp::Clear),
            settings,
            own: Vec::with_capacity(n),
        };
        // A translation tells of the same incident: its original's objects stand for it.
        let scans: Vec<Scan> = (0..n)
            .into_par_iter()
            .map(|i| {
                if g.owner[i] != i {
                    return Scan::default();
                }
                let make = &mut || postcard::to_allocvec(&g.scan(i, false)).unwrap_or_default();
                let piece = memo.piece(declare("stix-scan", [settings, g.scanned(i)]), make);
                postcard::from_bytes(&piece).unwrap_or_else(|_| g.scan(i, false))
            })
            .collect();
        // The first case to name a shared object decides it.
        for (i, scan) in scans.into_iter().enumerate() {
            for (id, tlp, fingerprint) in scan.shares {
                if !g.shared.contains_key(&id) {
                    let tlp = TLPS.get(usize::from(tlp)).copied().unwrap_or(Tlp::Red);
                    g.order.push(id.clone());
                    g.shared.insert(id, Shared { by: i, tlp, fingerprint, json: Bytes::new() });
                }
            }
            g.refs.push(scan.refs);
        }
        if n > 0 {
            g.site_identity = Some(stable_id("identity", &format!("site:{}", site_url(site))));
        }
        g.own = (0..n).map(|i| declare("stix-own", [settings, g.scanned(i), chains[i]])).collect();
        g.identity_json = g.site_identity_object().map(|v| Bytes::from(serde_json::to_vec(&v).unwrap_or_default()));
        // Objects to make again: their first case scanned again (once) for their bodies.
        let bodies: std::sync::Mutex<HashMap<usize, std::sync::Arc<Scan>>> = Default::default();
        let json: Vec<Bytes> = g
            .order
            .par_iter()
            .map(|id| {
                let by = g.shared[id].by;
                let make = &mut || {
                    let known = bodies.lock().unwrap_or_else(|e| e.into_inner()).get(&by).cloned();
                    let scan = known.unwrap_or_else(|| {
                        let scan = std::sync::Arc::new(g.scan(by, true));
                        bodies.lock().unwrap_or_else(|e| e.into_inner()).insert(by, scan.clone());
                        scan
                    });
                    let body = scan.bodies.as_ref().and_then(|b| b.get(id));
                    serde_json::to_vec(&g.shared_object(id, body.unwrap_or(&Value::Null))).unwrap_or_default()
                };
                memo.piece(g.shared[id].fingerprint, make)
            })
            .collect();
        for (id, json) in g.order.iter().zip(json) {
            if let Some(s) = g.shared.get_mut(id) {
                s.json = json;
            }
        }
        g
    }

    /// Names a shared object (made by `body`, with its own `created` and `modified`);
    /// returns its id. `inputs`: the fingerprint of what `body` reads besides the id
    /// (which stands for its key), the settings and the catalog; the first case to name
    /// the object decides it, whichever case that is.
    fn share(
        &self,
        scan: &mut Scan,
        id: String,
        tlp: Tlp,
        inputs: Fingerprint,
        body: impl FnOnce() -> Value,
    ) -> String {
        let mut h = Hasher::new();
        h.bytes(id.as_bytes());
        h.bytes(tlp.as_str().as_bytes());
        let fingerprint = declare("stix-shared", [self.settings, inputs, h.finish()]);
        if let Some(bodies) = &mut scan.bodies {
            bodies.entry(id.clone()).or_insert_with(body);
        }
        let at = TLPS.iter().position(|&t| t == tlp).unwrap_or(TLPS.len() - 1);
        scan.shares.push((id.clone(), at as u8, fingerprint));
        id
    }

    /// What scanning case `i` reads (its [`CaseRefs`]): the case, and the profiles of the
    /// organizations it names (their countries).
    fn scanned(&self, i: usize) -> Fingerprint {
        let site = self.site;
        let orgs = site.cases[i].terms[Kind::Organizations.index()].iter().filter_map(|&t| site.orgs.get(t));
        declare("stix-scan", std::iter::once(site.cases[i].fingerprint).chain(orgs.map(|o| o.fingerprint)))
    }

    /// What case `i` refers to, and the shared objects it names (`bodies`: with what
    /// they say).
    fn scan(&self, i: usize, bodies: bool) -> Scan {
        let site = self.site;
        let sc = &site.cases[i];
        let c = &sc.case;
        let mut out = Scan { bodies: bodies.then(HashMap::default), ..Scan::default() };
        let mut refs = CaseRefs::default();
        let mut seen = HashSet::default();
        let orgs = site.taxonomy(Kind::Organizations);
        for &t in &sc.terms[Kind::Organizations.index()] {
            let term = &orgs.terms[t];
            let profile = site.orgs.get(t).and_then(|o| o.profile.as_ref());
            let id = stable_id("identity", &format!("organization:{}", term.slug));
            let mut read = Hasher::new();
            read.bytes(term.name.as_bytes());
            read.bytes(&site.orgs.get(t).map_or(0, |o| o.fingerprint).to_le_bytes());
            let id = self.share(&mut out, id, self.named_tlp, read.finish(), || {
                let mut v = fixed("identity");
                v["name"] = json!(term.name);
                v["identity_class"] = json!("organization");
                // Only what the profile states: the cases naming it must not change it.
                if let Some(p) = profile {
                    let mut sectors: Vec<&str> = p.sectors.iter().filter_map(|s| industry_sector(&s.value)).collect();
                    sectors.dedup();
                    if !sectors.is_empty() {
                        v["sectors"] = json!(sectors);
                    }
                    if !p.sectors.is_empty() {
                        let written: Vec<&str> = p.sectors.iter().map(|s| s.value.as_str()).collect();
                        v["description"] = json!(format!("Sectors as written: {}.", written.join(", ")));
                    }
                }
                v
            });
            for cc in profile.map(|p| p.countries.as_slice()).unwrap_or_default() {
                let loc = self.location(&mut out, &cc.value);
                let key = format!("located-at:organization:{}:{}", term.slug, cc.value);
                let (source, target) = (id.clone(), loc);
                let link = self.share(&mut out, stable_id("relationship", &key), self.named_tlp, 0, || {
                    let mut r = fixed("relationship");
                    r["relationship_type"] = json!("located-at");
                    r["source_ref"] = json!(source);
                    r["target_ref"] = json!(target);
                    r
                });
                push_new(&mut refs.links, &mut seen, link);
            }
            push_new(&mut refs.victims, &mut seen, id);
        }
        let mut sector_at: HashMap<String, usize> = HashMap::default();
        for s in &c.incident.sectors {
            let id = self.sector(&mut out, &s.value);
            match sector_at.get(&id) {
                Some(&k) => refs.sectors[k].1.push(s.value.clone()),
                None => {
                    sector_at.insert(id.clone(), refs.sectors.len());
                    refs.sectors.push((id, vec![s.value.clone()]));
                }
            }
        }
        for cc in &c.incident.countries {
            let id = self.location(&mut out, &cc.value);
            push_new(&mut refs.countries, &mut seen, id);
        }
        for a in &c.incident.actors {
            if is_unnamed_actor(&a.value) {
                continue;
            }
            let id = self.actor(&mut out, &a.value, &c.incident.individuals);
            push_new(&mut refs.actors, &mut seen, id);
        }
        for t in &c.techniques {
            let Some(tech) = site.catalog.technique(&t.id.value) else {
                refs.techniques.push(None);
                continue;
            };
            let id = stable_id("attack-pattern", &format!("mitre-attack:{}", tech.id));
            let id = self.share(&mut out, id, Tlp::Clear, 0, || {
                let (created, modified) = site.catalog.stix_times(&tech.created, &tech.modified);
                let phases: Vec<Value> =
                    tech.tactics.iter().map(|p| json!({"kill_chain_name": "mitre-attack", "phase_name": p})).collect();
                let mut v = json!({
                    "type": "attack-pattern",
                    "created": created,
                    "modified": modified,
                    "name": tech.name,
                    "external_references": [{
                        "source_name": "mitre-attack",
                        "external_id": tech.id,
                        "url": tech.url,
                    }],
                });
                if !phases.is_empty() {
                    v["kill_chain_phases"] = json!(phases);
                }
                if !tech.summary.is_empty() {
                    v["description"] = json!(tech.summary);
                }
                v
            });
            refs.techniques.push(Some(id));
        }
        out.refs = refs;
        out
    }

    /// The `location` of a country code.
    fn location(&self, scan: &mut Scan, cc: &str) -> String {
        let id = stable_id("location", &format!("country:{cc}"));
        self.share(scan, id, Tlp::Clear, 0, || {
            let mut v = fixed("location");
            v["name"] = json!(crate::countries::country_name(cc).unwrap_or(cc));
            v["country"] = json!(cc);
            v
        })
    }

    /// The identity (class) of a sector: one per `industry-sector-ov` value, or per name
    /// as written when none fits.
    fn sector(&self, scan: &mut Scan, written: &str) -> String {
        let vocab = industry_sector(written);
        let key = vocab.map_or_else(|| format!("sector:{}", slugify(written)), |v| format!("industry-sector-ov:{v}"));
        let read = of_bytes(vocab.unwrap_or(written).as_bytes());
        self.share(scan, stable_id("identity", &key), Tlp::Clear, read, || {
            let mut v = fixed("identity");
            v["identity_class"] = json!("class");
            match vocab {
                Some(s) => {
                    v["name"] = json!(sector_label(s));
                    v["sectors"] = json!([s]);
                }
                None => v["name"] = json!(written),
            }
            v
        })
    }

    /// An actor as written: the ATT&CK group it names (by id, name or alias) as an
    /// `intrusion-set` with the group's id; else a person listed in `individuals` as a
    /// `threat-actor` of resource level `individual`; else an `intrusion-set` by name.
    fn actor(&self, scan: &mut Scan, written: &str, individuals: &[crate::parse::case::Located]) -> String {
        let catalog = &self.site.catalog;
        let tlp = self.named_tlp;
        if let Some(g) = catalog.group_of_actor(written) {
            let id = stable_id("intrusion-set", &format!("actor:{}", slugify(&g.name)));
            return self.share(scan, id, Tlp::Clear, 0, || {
                let (created, modified) = catalog.stix_times(&g.created, &g.modified);
                let mut v = json!({"type": "intrusion-set", "created": created, "modified": modified, "name": g.name});
                let aliases: Vec<&String> = g.aliases.iter().filter(|a| **a != g.name).collect();
                if !aliases.is_empty() {
                    v["aliases"] = json!(aliases);
                }
                v["external_references"] = json!([{"source_name": "mitre-attack", "external_id": g.id, "url": g.url}]);
                v
            });
        }
        if individuals.iter().any(|p| p.value.eq_ignore_ascii_case(written.trim())) {
            let id = stable_id("threat-actor", &format!("person:{}", slugify(written)));
            return self.share(scan, id, tlp, of_bytes(written.trim().as_bytes()), || {
                let mut v = fixed("threat-actor");
                v["name"] = json!(written.trim());
                v["resource_level"] = json!("individual");
                v
            });
        }
        let id = stable_id("intrusion-set", &format!("actor:{}", slugify(written)));
        self.share(scan, id, tlp, of_bytes(written.trim().as_bytes()), || {
            let mut v = fixed("intrusion-set");
            v["name"] = json!(written.trim());
            v
        })
    }

    /// The site's identity, the creator of every object (None for a site without cases).
    fn site_identity_object(&self) -> Option<Value> {
        let id = self.site_identity.as_ref()?;
        let site = self.site;
        let mut v = fixed("identity");
        v["spec_version"] = json!("2.1");
        v["id"] = json!(id);
        v["name"] = json!(site.config.title);
        v["identity_class"] = json!("organization");
        v["contact_information"] = json!(site_url(site));
        v["object_marking_refs"] = json!([tlp_marking_id(Tlp::Clear)]);
        if !site.config.description.is_empty() {
            v["description"] = json!(site.config.description);
        }
        Some(v)
    }

    fn shared_object(&self, id: &str, body: &Value) -> Value {
        let s = &self.shared[id];
        let mut v = body.clone();
        v["spec_version"] = json!("2.1");
        v["id"] = json!(id);
        v["created_by_ref"] = json!(self.site_identity);
        v["object_marking_refs"] = json!([tlp_marking_id(s.tlp)]);
        v
    }

    /// The objects of case `i` that belong to it alone, report first; for a
    /// translation, one `language-content` on its original's report.
    fn own_objects(&self, i: usize) -> Vec<Value> {
        let site = self.site;
        let sc = &site.cases[i];
        let c = &sc.case;
        let refs = &self.refs[i];
        let slug = &c.slug;
        let created = ts(c.date);
        let modified = ts(modified_date(c));
        let marking = json!([tlp_marking_id(c.tlp)]);
        let common = |kind: &str, key: &str| -> Value {
            json!({
                "type": kind,
                "spec_version": "2.1",
                "id": stable_id(kind, &format!("case:{slug}:{key}")),
                "created": created,
                "modified": modified,
                "created_by_ref": self.site_identity,
                "object_marking_refs": marking,
            })
        };

        let owner = self.owner[i];
        if owner != i {
            let original = &site.cases[owner].case;
            let mut text = Map::new();
            text.insert("name".into(), json!(c.title));
            if let Some(s) = &c.summary {
                text.insert("description".into(), json!(s));
            }
            let lang = c.lang.as_deref().unwrap_or(&site.config.language);
            let mut contents = Map::new();
            contents.insert(lang.to_string(), Value::Object(text));
            let mut lc = common("language-content", "language-content");
            lc["object_ref"] = json!(report_id(&original.slug));
            lc["object_modified"] = json!(ts(modified_date(original)));
            lc["contents"] = Value::Object(contents);
            lc["external_references"] = json!([case_reference(site, sc)]);
            return vec![lc];
        }

        let mut relationships = Vec::new();
        // Keys already used, with how often: the same pair twice (a technique under two
        // tactics) gets `KEY#2`, `KEY#3`, ... in one step each.
        let mut used: HashMap<String, usize> = HashMap::default();
        let mut relationship = |key: String, rtype: &str, source: &str, target: &str| {
            let n = used.entry(key.clone()).or_insert(0);
            *n += 1;
            let key = if *n == 1 { key } else { format!("{key}#{n}") };
            let mut r = common("relationship", &key);
            r["relationship_type"] = json!(rtype);
            r["source_ref"] = json!(source);
            r["target_ref"] = json!(target);
            r
        };

        let mut campaign = common("campaign", "campaign");
        campaign["name"] = json!(c.title);
        if let Some(s) = &c.summary {
            campaign["description"] = json!(s);
        }
        let first = exact_ts(c.incident.started);
        let last = exact_ts(c.incident.contained);
        if let Some((d, t)) = &first {
            campaign["first_seen"] = json!(t);
            if let Some((d2, t2)) = &last {
                if d2 >= d {
                    campaign["last_seen"] = json!(t2);
                }
            }
        }
        let campaign_id = campaign["id"].as_str().unwrap_or_default().to_string();

        for v in refs.victims.iter().chain(&refs.countries) {
            relationships.push(relationship(format!("targets:{v}"), "targets", &campaign_id, v));
        }
        for (s, written) in &refs.sectors {
            let mut r = relationship(format!("targets:{s}"), "targets", &campaign_id, s);
            r["description"] = json!(format!("Sector as written: {}.", written.join(", ")));
            relationships.push(r);
        }
        for a in &refs.actors {
            relationships.push(relationship(format!("attributed-to:{a}"), "attributed-to", &campaign_id, a));
        }
        for ((t, ap), tactics) in c.techniques.iter().zip(&refs.techniques).zip(&sc.tactics) {
            let Some(ap) = ap else { continue };
            let tactic = t.tactic.as_ref().map(|x| x.value.to_ascii_lowercase()).unwrap_or_default();
            let mut r = relationship(format!("uses:{ap}:{tactic}"), "uses", &campaign_id, ap);
            r["confidence"] = json!(confidence(t.confidence));
            let mut description = format!(
                "Confidence: {}. Tactic{}: {}.",
                t.confidence.as_str(),
                if tactics.len() == 1 { "" } else { "s" },
                tactics.join(", ")
            );
            if let Some(ev) = &t.evidence {
                description.push(' ');
                description.push_str(ev);
            }
            r["description"] = json!(description);
            relationships.push(r);
        }

        let mut indicators = Vec::new();
        let mut indicator_ids = HashSet::default();
        for x in &c.indicators {
            let mut ind = common("indicator", &format!("indicator:{}:{}", super::api::indicator_type(x.kind), x.value));
            let ind_id = ind["id"].as_str().unwrap_or_default().to_string();
            if !indicator_ids.insert(ind_id.clone()) {
                continue;
            }
            ind["name"] = json!(format!("{} {}", indicator_label(x.kind), x.value));
            ind["description"] = json!(x
                .note
                .clone()
                .unwrap_or_else(|| format!("Indicator published in the case study \"{}\".", c.title)));
            ind["pattern"] = json!(pattern(x.kind, &x.value));
            ind["pattern_type"] = json!("stix");
            ind["valid_from"] = json!(created);
            relationships.push(relationship(format!("indicates:{ind_id}"), "indicates", &ind_id, &campaign_id));
            indicators.push(ind);
        }

        // What STIX has no property for (timeline, impact, incident dates), as a note on
        // the campaign, so an importer keeps it as text.
        let mut facts = Vec::new();
        for (key, d) in c.incident.dates() {
            facts.push(format!("- {key}: {}", d.to_iso()));
        }
        for (key, n) in c.impact.counts.iter() {
            facts.push(format!("- {key} affected: {n}"));
        }
        if !c.impact.data_types.is_empty() {
            let types: Vec<&str> = c.impact.data_types.iter().map(|d| d.value.as_str()).collect();
            facts.push(format!("- data types: {}", types.join(", ")));
        }
        for t in &c.timeline {
            facts.push(format!("- {}: {}", t.date.to_iso(), t.event));
        }
        let note = (!facts.is_empty()).then(|| {
            let mut note = common("note", "facts");
            note["abstract"] = json!("Incident dates, impact and timeline");
            note["content"] = json!(facts.join("\n"));
            note["object_refs"] = json!([campaign_id]);
            note
        });

        let mut object_refs: Vec<Value> = vec![json!(campaign_id)];
        object_refs.extend(self.case_shared_ids(i).into_iter().map(|v| json!(v)));
        object_refs.extend(note.iter().map(|o| o["id"].clone()));
        object_refs.extend(indicators.iter().map(|o| o["id"].clone()));
        object_refs.extend(relationships.iter().map(|o| o["id"].clone()));

        let mut external = vec![case_reference(site, sc)];
        for r in &c.references {
            let source = r.publisher.clone().unwrap_or_else(|| host(&r.url).to_string());
            let mut e = json!({"source_name": source, "url": r.url});
            if let Some(t) = &r.title {
                e["description"] = json!(t);
            }
            external.push(e);
        }

        let mut report = common("report", "report");
        report["name"] = json!(c.title);
        if let Some(s) = &c.summary {
            report["description"] = json!(s);
        }
        report["published"] = json!(created);
        report["report_types"] = json!(["threat-report"]);
        report["object_refs"] = json!(object_refs);
        report["external_references"] = json!(external);
        report["lang"] = json!(c.lang.as_deref().unwrap_or(&site.config.language));
        if !c.tags.is_empty() {
            report["labels"] = json!(c.tags.iter().map(|t| &t.value).collect::<Vec<_>>());
        }

        let mut out = vec![report, campaign];
        out.extend(note);
        out.extend(indicators);
        out.extend(relationships);
        out
    }

    /// The shared objects case `i` refers to, in a fixed order, each once.
    fn case_shared_ids(&self, i: usize) -> Vec<&String> {
        let refs = &self.refs[i];
        let mut seen = HashSet::default();
        let ids = (refs.victims.iter())
            .chain(&refs.countries)
            .chain(refs.sectors.iter().map(|(id, _)| id))
            .chain(&refs.actors)
            .chain(refs.techniques.iter().flatten())
            .chain(&refs.links);
        ids.filter(|id| seen.insert(*id)).collect()
    }

    /// A bundle of serialized `objects`, opened by the marking definitions of `tlps`.
    fn bundle_file(&self, path: String, key: &str, tlps: &BTreeSet<Tlp>, objects: Vec<Bytes>) -> super::OutputFile {
        let head = json!({"type": "bundle", "id": stable_id("bundle", key)});
        if objects.is_empty() {
            return super::json_file(path, &head);
        }
        let mut b = head;
        b["objects"] = json!([]);
        super::splice(path, &b, "objects", self.markings(tlps).chain(objects))
    }

    /// The marking definitions of `tlps`, serialized, in the order that opens a bundle.
    fn markings<'g>(&'g self, tlps: &'g BTreeSet<Tlp>) -> impl Iterator<Item = Bytes> + 'g {
        TLPS.iter().zip(&self.marking_json).filter(|(t, _)| tlps.contains(t)).map(|(_, m)| m.clone())
    }

    /// The objects of case `i` that belong to it alone, each serialized.
    fn own_json(&self, i: usize) -> impl Iterator<Item = Bytes> {
        self.own_objects(i).into_iter().map(|o| Bytes::from(serde_json::to_vec(&o).unwrap_or_default()))
    }

    /// Of all `cases/SLUG/stix.json` is made from: its own objects and its original's,
    /// and the shared objects they name.
    pub fn case_bundle_fingerprint(&self, i: usize) -> Fingerprint {
        let owner = self.owner[i];
        let shared = self.case_shared_ids(owner).into_iter().map(|id| self.shared[id].fingerprint);
        declare("stix-case", [self.own[owner], self.own[i]].into_iter().chain(shared))
    }

    /// `cases/SLUG/stix.json`: the site's identity, the report, the shared objects the
    /// case names, then its other own objects. A translation's bundle is its original's
    /// with the translation's `language-content` added.
    pub fn case_bundle_file(&self, i: usize, path: String) -> super::OutputFile {
        let owner = self.owner[i];
        let mut tlps = BTreeSet::new();
        let mut objects = Vec::new();
        if let Some(identity) = &self.identity_json {
            tlps.insert(Tlp::Clear);
            objects.push(identity.clone());
        }
        tlps.insert(self.site.cases[owner].case.tlp);
        let mut own = self.own_json(owner);
        objects.extend(own.next()); // the report first
        for id in self.case_shared_ids(owner) {
            let s = &self.shared[id];
            tlps.insert(s.tlp);
            objects.push(s.json.clone());
        }
        objects.extend(own);
        if owner != i {
            tlps.insert(self.site.cases[i].case.tlp);
            objects.extend(self.own_json(i));
        }
        self.bundle_file(path, &format!("case:{}", self.site.cases[i].case.slug), &tlps, objects)
    }

    /// `stix-bundle.json`: every case, each shared object once, written to `stream`
    /// object by object (never held whole, as a tree or as bytes). Each case's own
    /// objects are one piece, made again only when what they are made from changed.
    pub fn site_bundle_file(&self, path: &str, sinks: &super::Sinks) {
        let mut tlps = BTreeSet::new();
        let mut items: Vec<Bytes> = Vec::new();
        if let Some(identity) = &self.identity_json {
            tlps.insert(Tlp::Clear);
            items.push(identity.clone());
        }
        for id in &self.order {
            tlps.insert(self.shared[id].tlp);
        }
        // Every case has its own objects (at least its report), marked with its TLP.
        tlps.extend(self.site.cases.iter().map(|c| c.case.tlp));
        let head = json!({"type": "bundle", "id": stable_id("bundle", "site")});
        // No case, no object: no identity, nothing shared.
        if self.site.cases.is_empty() {
            let bytes = Bytes::from(super::json_bytes(&head));
            let fingerprint = of_bytes(&bytes);
            return sinks.stream(path, fingerprint, || std::iter::once(Chunk::of(bytes)));
        }
        let mut b = head;
        b["objects"] = json!([]);
        let Some((head, tail)) = super::split(&b, "objects") else { return };
        // What opens the list (markings, the site's identity) is small: made every time.
        let front: Bytes = std::iter::once(head)
            .chain(super::with_commas(self.markings(&tlps).chain(items), super::COMMA))
            .collect::<Vec<_>>()
            .concat()
            .into();
        // Each case's objects as one piece, each object after a comma (the markings
        // always come first, so no case's objects open the list).
        let own: Vec<Fingerprint> = self.own.iter().map(|&fp| declare("stix-site-own", [fp])).collect();
        let shared = self.order.iter().map(|id| self.shared[id].fingerprint);
        let ends = [of_bytes(&front), of_bytes(&tail)];
        let fingerprint = declare("stix-site", ends.into_iter().chain(shared).chain(own.iter().copied()));
        sinks.stream(path, fingerprint, || {
            let comma = Chunk::of(super::COMMA);
            let shared = self.order.iter().flat_map(move |id| [comma.clone(), Chunk::of(self.shared[id].json.clone())]);
            let own = super::in_order(self.site.cases.len(), move |i| {
                sinks.memo.hashed_piece(own[i], &mut || {
                    self.own_json(i).flat_map(|o| [super::COMMA, o]).collect::<Vec<_>>().concat()
                })
            });
            std::iter::once(Chunk::of(front)).chain(shared).chain(own).chain([Chunk::of(tail)])
        });
    }
}

fn modified_date(c: &crate::parse::case::Case) -> Date {
    c.updated.map_or(c.date, |u| u.max(c.date))
}

/// The fields every shared object without dates of its own starts with.
fn fixed(kind: &str) -> Value {
    json!({"type": kind, "created": FIXED_INSTANT, "modified": FIXED_INSTANT})
}

/// The id of a case's report (a translation's `language-content` points at it).
fn report_id(slug: &str) -> String {
    stable_id("report", &format!("case:{slug}:report"))
}

/// The external reference to a case's page on the site.
fn case_reference(site: &Site, sc: &crate::resolve::SiteCase) -> Value {
    json!({
        "source_name": site.config.title,
        "external_id": sc.case.slug,
        "url": permalink(site, &sc.url),
        "description": "The case study on the site that published this report.",
    })
}

/// The name of an `industry-sector-ov` value: `financial-services` -> `Financial Services`.
fn sector_label(value: &str) -> String {
    value
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn site_url(site: &Site) -> String {
    site.config.base_url.trim_end_matches('/').to_string()
}

/// The host of a URL, for a reference without a publisher.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let h = &rest[..end];
    if h.is_empty() {
        "reference"
    } else {
        h
    }
}

fn indicator_label(t: IndicatorType) -> &'static str {
    match t {
        IndicatorType::Domain => "Domain",
        IndicatorType::Ip => "IP address",
        IndicatorType::Url => "URL",
        IndicatorType::Email => "Email address",
        IndicatorType::Sha256 => "SHA-256",
        IndicatorType::Sha1 => "SHA-1",
        IndicatorType::Md5 => "MD5",
        IndicatorType::File => "File name",
    }
}

/// A STIX pattern string literal: quotes and backslashes escaped.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The STIX pattern of an indicator, fanged (as written).
pub fn pattern(t: IndicatorType, value: &str) -> String {
    let v = literal(value.trim());
    match t {
        IndicatorType::Domain => format!("[domain-name:value = {v}]"),
        IndicatorType::Ip if value.contains(':') => format!("[ipv6-addr:value = {v}]"),
        IndicatorType::Ip => format!("[ipv4-addr:value = {v}]"),
        IndicatorType::Url => format!("[url:value = {v}]"),
        IndicatorType::Email => format!("[email-addr:value = {v}]"),
        IndicatorType::Sha256 => format!("[file:hashes.'SHA-256' = {v}]"),
        IndicatorType::Sha1 => format!("[file:hashes.'SHA-1' = {v}]"),
        IndicatorType::Md5 => format!("[file:hashes.MD5 = {v}]"),
        IndicatorType::File => format!("[file:name = {v}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_v4_shaped() {
        let a = stable_id("report", "case:x:report");
        assert_eq!(a, stable_id("report", "case:x:report"));
        assert_ne!(a, stable_id("report", "case:y:report"));
        let u = Uuid::parse_str(a.trim_start_matches("report--")).unwrap();
        assert_eq!(u.get_version_num(), 4);
    }

    #[test]
    fn patterns_escape() {
        assert_eq!(pattern(IndicatorType::File, r"a'b\c.exe"), r"[file:name = 'a\'b\\c.exe']");
        assert_eq!(pattern(IndicatorType::Ip, "2001:db8::1"), "[ipv6-addr:value = '2001:db8::1']");
    }

    #[test]
    fn sectors_map() {
        assert_eq!(industry_sector("Telecommunications"), Some("telecommunications"));
        assert_eq!(industry_sector("Financial Services"), Some("financial-services"));
        assert_eq!(industry_sector("aviation"), Some("transportation"));
        assert_eq!(industry_sector("Government"), Some("government"));
        assert_eq!(industry_sector("Basket weaving"), None);
    }
}
