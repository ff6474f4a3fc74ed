//! The MITRE ATT&CK Enterprise catalog: tactics, techniques, groups, mitigations. STUB.

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Tactic { pub id: String, pub shortname: String, pub name: String, pub url: String }

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
}

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
}

impl Catalog {
    pub fn builtin() -> &'static Catalog { todo!() }
    pub fn from_json(_text: &str) -> Result<Catalog, String> { todo!() }
    pub fn technique(&self, _id: &str) -> Option<&Technique> { todo!() }
    pub fn tactic(&self, _shortname: &str) -> Option<&Tactic> { todo!() }
    pub fn group(&self, _id: &str) -> Option<&Object> { todo!() }
    pub fn mitigation(&self, _id: &str) -> Option<&Object> { todo!() }
    pub fn subtechniques(&self, _id: &str) -> Vec<&Technique> { todo!() }
}
