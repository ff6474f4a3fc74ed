//! An organization profile: `content/organizations/SLUG.md` (FORMAT.md section 3).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::case::Located;
use super::markdown::{self, is_http_url, Rendered};
use super::{front_matter, Checker};
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::ContentFile;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    name: Spanned<String>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    #[serde(default)]
    sectors: Vec<Spanned<String>>,
    #[serde(default)]
    countries: Vec<Spanned<String>>,
    website: Option<Spanned<String>>,
    parent: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgProfile {
    pub slug: String,
    /// Linked by the engine, as [`Case::file`](super::case::Case::file).
    #[serde(skip)]
    pub file: Arc<SourceFile>,
    pub name: Located,
    pub aliases: Vec<Located>,
    pub sectors: Vec<Located>,
    pub countries: Vec<Located>,
    pub website: Option<String>,
    pub parent: Option<Located>,
    pub body: Rendered,
    pub body_offset: usize,
}

pub fn parse(content: &ContentFile, md: &markdown::Options) -> (Option<OrgProfile>, Vec<Diagnostic>) {
    let file = &content.file;
    let (raw, split, toml_errors) = match front_matter::<RawOrg>(file) {
        Ok(v) => v,
        Err(ds) => return (None, ds),
    };
    let mut c = Checker::new(file, split.toml_offset);
    c.diags.extend(toml_errors);
    if raw.name.get_ref().trim().is_empty() {
        c.error("value-empty", raw.name.span(), "organization name is empty", None);
    }
    let name = c.located(raw.name);
    let aliases = c.names(raw.aliases, "alias");
    let sectors = c.names(raw.sectors, "sector");
    let countries = c.countries(raw.countries);
    let website = raw.website.and_then(|w| {
        if is_http_url(w.get_ref().trim()) {
            Some(w.into_inner().trim().to_string())
        } else {
            c.error("website-invalid", w.span(), "website must be an http or https URL", None);
            None
        }
    });
    let parent = raw.parent.map(|p| c.located(p));
    let body = markdown::render(split.body, md);
    c.body_problems(&body, split.body_offset);
    // Kept even with errors, so later stages report theirs too; errors stop the write.
    let value = OrgProfile {
        slug: content.slug.clone(),
        file: file.clone(),
        name,
        aliases,
        sectors,
        countries,
        website,
        parent,
        body,
        body_offset: split.body_offset,
    };
    (Some(value), c.diags)
}
