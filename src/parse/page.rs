//! A free page: `content/pages/NAME.md`, published at `/NAME/`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::front_matter;
use super::markdown::{self, Rendered};
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::ContentFile;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    title: String,
    description: Option<String>,
    lang: Option<String>,
    #[serde(default)]
    draft: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page {
    pub slug: String,
    /// Linked by the engine, as [`Case::file`](super::case::Case::file).
    #[serde(skip)]
    pub file: Arc<SourceFile>,
    pub title: String,
    pub description: Option<String>,
    pub lang: Option<String>,
    pub draft: bool,
    pub body: Rendered,
    pub body_offset: usize,
}

pub fn parse(content: &ContentFile, md: &markdown::Options) -> (Option<Page>, Vec<Diagnostic>) {
    let file = &content.file;
    let (raw, split, toml_errors) = match front_matter::<RawPage>(file) {
        Ok(v) => v,
        Err(ds) => return (None, ds),
    };
    let body = markdown::render(split.body, md);
    let mut c = super::Checker::new(file, split.toml_offset);
    c.diags.extend(toml_errors);
    c.body_problems(&body, split.body_offset);
    // Kept even with errors, so later stages report theirs too; errors stop the write.
    let value = Page {
        slug: content.slug.clone(),
        file: file.clone(),
        title: raw.title,
        description: raw.description,
        lang: raw.lang,
        draft: raw.draft,
        body,
        body_offset: split.body_offset,
    };
    (Some(value), c.diags)
}
