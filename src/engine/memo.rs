//! What the engine remembers of the pages it committed: each page's fingerprint, and the
//! `id`s the link check found in it, so a page kept as it was still answers for them.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::load::Template;
use crate::render::check::Seen;
use crate::render::{CardMemo, Fingerprint, Memo as RenderMemo};

#[derive(Debug, Default)]
pub struct Memo {
    pages: HashMap<String, Page>,
    pub cards: CardMemo,
}

#[derive(Debug, Clone)]
struct Page {
    fingerprint: Fingerprint,
    /// The `id="…"` needles links looked for here, and which of them the page had.
    wanted: Vec<String>,
    found: Vec<String>,
}

/// The fingerprint of the template set: any template edit renders every page again.
pub fn templates(templates: &[Template]) -> Fingerprint {
    let mut all: Vec<(&str, &str)> = templates.iter().map(|t| (t.name.as_str(), t.file.text.as_str())).collect();
    all.sort();
    let bytes = serde_json::to_vec(&all).unwrap_or_default();
    crate::render::of_bytes(&bytes)
}

/// One run's view of the memo: answers from the last commit, gathers this run's pages.
pub struct Run<'a> {
    before: &'a Memo,
    templates: Fingerprint,
    seen: &'a Seen,
    now: Mutex<HashMap<String, Page>>,
}

impl<'a> Run<'a> {
    pub fn new(before: &'a Memo, templates: Fingerprint, seen: &'a Seen) -> Self {
        Run { before, templates, seen, now: Mutex::new(HashMap::new()) }
    }

    /// The needles a kept page had.
    pub fn found(&self, path: &str) -> &[String] {
        self.before.pages.get(path).map(|p| p.found.as_slice()).unwrap_or(&[])
    }

    pub fn made(&self, path: &str, fingerprint: Fingerprint, found: Vec<String>) {
        let page = Page { fingerprint, wanted: self.seen.wanted(path).to_vec(), found };
        self.now.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), page);
    }

    pub fn into_memo(self, cards: CardMemo) -> Memo {
        Memo { pages: self.now.into_inner().unwrap_or_else(|e| e.into_inner()), cards }
    }
}

impl RenderMemo for Run<'_> {
    fn templates(&self) -> Fingerprint {
        self.templates
    }

    /// Same inputs, and links still look for the same ids there.
    fn unchanged(&self, path: &str, fingerprint: Fingerprint) -> bool {
        self.before.pages.get(path).is_some_and(|p| p.fingerprint == fingerprint && p.wanted == self.seen.wanted(path))
    }
}
