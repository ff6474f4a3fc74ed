//! Each content file parsed once per text: a file whose text (and the settings parsing
//! reads) did not change since the last run is not parsed again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::Config;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::{ContentFile, Sources};
use crate::parse::{self, case::Case, markdown, org::OrgProfile, page::Page};

type Cache<T> = HashMap<String, (Arc<SourceFile>, (Option<T>, Vec<Diagnostic>))>;

#[derive(Default)]
pub(super) struct Parsed {
    cases: Cache<Case>,
    orgs: Cache<OrgProfile>,
    pages: Cache<Page>,
    /// The Markdown options the caches were parsed with.
    options: Option<bool>,
}

impl Parsed {
    /// Every file of `sources`, parsed (from the cache where its text is the same).
    pub(super) fn parse(&mut self, sources: &Sources, config: &Config) -> (parse::Parsed, Vec<Diagnostic>) {
        let md = markdown::Options { unsafe_html: config.markdown.unsafe_html };
        if self.options != Some(md.unsafe_html) {
            *self = Parsed { options: Some(md.unsafe_html), ..Parsed::default() };
        }
        let mut diags = Vec::new();
        let cases = cached(&mut self.cases, &sources.cases, |f| parse::case::parse(f, &md), &mut diags);
        let organizations = cached(&mut self.orgs, &sources.organizations, |f| parse::org::parse(f, &md), &mut diags);
        let pages = cached(&mut self.pages, &sources.pages, |f| parse::page::parse(f, &md), &mut diags);
        (parse::Parsed { cases, organizations, pages }, diags)
    }
}

fn cached<T: Clone + Send>(
    cache: &mut Cache<T>,
    files: &[ContentFile],
    parse: impl Fn(&ContentFile) -> (Option<T>, Vec<Diagnostic>) + Sync,
    diags: &mut Vec<Diagnostic>,
) -> Vec<T> {
    let misses: Vec<&ContentFile> =
        files.iter().filter(|f| cache.get(&f.file.path).is_none_or(|(old, _)| old.text != f.file.text)).collect();
    let parsed: Vec<_> = misses.par_iter().map(|f| (f.file.path.clone(), (f.file.clone(), parse(f)))).collect();
    cache.extend(parsed);
    let keep: HashSet<&str> = files.iter().map(|f| f.file.path.as_str()).collect();
    cache.retain(|k, _| keep.contains(k.as_str()));
    let mut ok = Vec::with_capacity(files.len());
    for f in files {
        let (value, d) = &cache[&f.file.path].1;
        ok.extend(value.iter().cloned());
        diags.extend(d.iter().cloned());
    }
    ok
}
