//! Relative links and `#anchors` written in bodies, checked against the rendered
//! site: only once every page exists can we tell whether `../x/#y` leads anywhere.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::Asset;
use crate::parse::markdown::Rendered;
use crate::resolve::Site;
use crate::urls::{self, Kind};

/// What the link check needs of the rendered files, gathered while they stream past:
/// every path, and which of the wanted `id="…"` each page a `#fragment` may point to has.
#[derive(Debug, Default)]
pub struct Seen {
    /// Candidate target path -> needles (`id="…"`) some link looks for there.
    wanted: HashMap<String, Vec<String>>,
    /// Every path, and the (path, needle) present.
    got: std::sync::Mutex<(HashSet<String>, Found)>,
}

/// (path, needle) pairs seen.
type Found = HashSet<(String, String)>;

/// Bodies with local links: (rendered body, its file, offset of the body, page URL).
fn bodies<'a>(site: &'a Site) -> Vec<(&'a Rendered, &'a Arc<SourceFile>, usize, String)> {
    let mut bodies: Vec<(&Rendered, &Arc<SourceFile>, usize, String)> = Vec::new();
    for c in &site.cases {
        bodies.push((&c.case.body, &c.case.file, c.case.body_offset, c.url.clone()));
    }
    for p in &site.pages {
        bodies.push((&p.page.body, &p.page.file, p.page.body_offset, p.url.clone()));
    }
    let orgs = site.taxonomy(Kind::Organizations);
    for (t, o) in site.orgs.iter().enumerate() {
        if let Some(p) = &o.profile {
            bodies.push((&p.body, &p.file, p.body_offset, urls::term(Kind::Organizations, &orgs.terms[t].slug)));
        }
    }
    bodies
}

/// `dest` split: the candidate target paths (first existing wins) and the fragment.
fn targets(dest: &str, page_url: &str) -> Result<(Vec<String>, Option<String>), String> {
    let dest = dest.trim();
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let fragment = fragment.filter(|f| !f.is_empty()).map(str::to_string);
    if path.is_empty() {
        return Ok((vec![urls::output_path(page_url)], fragment));
    }
    let resolved =
        resolve(page_url, &percent_decode(path)).ok_or_else(|| format!("`{dest}` leads outside the site"))?;
    Ok((vec![resolved.clone(), urls::output_path(&resolved), format!("{resolved}/index.html")], fragment))
}

fn needle(fragment: &str) -> String {
    format!("id=\"{}\"", crate::html::escape(&percent_decode(fragment)))
}

impl Seen {
    /// Ready for the files of `site`: knows which pages' ids the links ask about.
    pub fn new(site: &Site) -> Self {
        let mut wanted: HashMap<String, Vec<String>> = HashMap::default();
        for (body, _, _, page_url) in bodies(site) {
            for link in &body.local {
                if let Ok((candidates, Some(fragment))) = targets(&link.dest, &page_url) {
                    let n = needle(&fragment);
                    for c in candidates {
                        let list = wanted.entry(c).or_default();
                        if !list.contains(&n) {
                            list.push(n.clone());
                        }
                    }
                }
            }
        }
        Seen { wanted, ..Seen::default() }
    }

    /// Records a rendered file: its path and the wanted needles it has, which it
    /// returns (for a page kept unchanged next time, see [`Seen::add_found`]). Safe to
    /// call from several threads.
    pub fn add(&self, path: &str, bytes: &[u8]) -> Vec<String> {
        let found: Vec<String> = match self.wanted.get(path) {
            Some(needles) => needles.iter().filter(|n| contains(bytes, n.as_bytes())).cloned().collect(),
            None => Vec::new(),
        };
        self.add_found(path, &found);
        found
    }

    /// Records a file with the needles it is known to have.
    pub fn add_found(&self, path: &str, found: &[String]) {
        if let Ok(mut got) = self.got.lock() {
            for n in found {
                got.1.insert((path.to_string(), n.clone()));
            }
            got.0.insert(path.to_string());
        }
    }

    /// The needles links look for in `path`: a page kept from the last build is only
    /// as good as these were then.
    pub fn wanted(&self, path: &str) -> &[String] {
        self.wanted.get(path).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// The site's own static files that a page or export of the same path replaces: the
/// writer's file would vanish from the output without a word.
pub fn shadowed(seen: &Seen, assets: &[Asset], root: &std::path::Path) -> Vec<Diagnostic> {
    let got = seen.got.lock().unwrap_or_else(|e| e.into_inner());
    assets
        .iter()
        .filter(|a| got.0.contains(&a.dest))
        .filter_map(|a| match &a.data {
            crate::load::AssetData::File(path) => Some(
                Diagnostic::warning("static-shadowed", format!("not published: Casebook makes /{} itself", a.dest))
                    .in_path(crate::load::display(root, path))
                    .hint("remove or rename this file; what the site makes at that address is published instead"),
            ),
            crate::load::AssetData::Builtin(_) => None,
        })
        .collect()
}

pub fn local_links(site: &Site, seen: &Seen, assets: &[Asset]) -> Vec<Diagnostic> {
    let got = seen.got.lock().unwrap_or_else(|e| e.into_inner());
    let (paths, found) = &*got;
    let seen = (paths, found);
    let assets: HashSet<&str> = assets.iter().map(|a| a.dest.as_str()).collect();
    let mut diags = Vec::new();
    for (body, file, offset, page_url) in bodies(site) {
        for link in &body.local {
            let at = offset + link.range.start..offset + link.range.end;
            if let Err(message) = check_one(&link.dest, &page_url, seen, &assets) {
                diags.push(Diagnostic::error("link-broken", message).at(file, at).hint(
                    "relative links are resolved from the page's URL (a case is at /cases/SLUG/); link to cases with @/cases/SLUG.md",
                ));
            }
        }
    }
    diags
}

type Got<'a> = (&'a HashSet<String>, &'a HashSet<(String, String)>);

fn check_one(dest: &str, page_url: &str, (paths, found): Got, assets: &HashSet<&str>) -> Result<(), String> {
    let (candidates, fragment) = targets(dest, page_url)?;
    let dest = dest.trim();
    let target = if candidates.len() == 1 {
        candidates.into_iter().next().unwrap_or_default()
    } else {
        let resolved = candidates[0].clone();
        candidates
            .into_iter()
            .find(|p| paths.contains(p.as_str()) || assets.contains(p.as_str()))
            .ok_or_else(|| format!("`{dest}` leads to /{resolved}, which the site does not have"))?
    };
    if let Some(fragment) = fragment {
        if !paths.contains(&target) {
            return Err(format!("`{dest}`: /{target} is not a page, so it has no #{fragment}"));
        }
        if !found.contains(&(target.clone(), needle(&fragment))) {
            return Err(format!("`{dest}`: /{target} has no element with id \"{fragment}\""));
        }
    }
    Ok(())
}

/// `page_url` + relative `href`, as a site path; None when it climbs above the root.
fn resolve(page_url: &str, href: &str) -> Option<String> {
    let mut parts: Vec<&str> = if href.starts_with('/') { Vec::new() } else { page_url.split('/').collect() };
    parts.pop();
    for seg in href.trim_start_matches('/').split('/') {
        match seg {
            ".." => {
                parts.pop()?;
            }
            "." => {}
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Lossy where the bytes are not UTF-8: the path then matches nothing, as it should.
fn percent_decode(s: &str) -> String {
    crate::parse::markdown::percent_decode(s).unwrap_or_else(|| s.to_string())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_paths() {
        assert_eq!(resolve("cases/a/", "../b/").as_deref(), Some("cases/b/"));
        assert_eq!(resolve("cases/a/", "../../techniques/T1078/").as_deref(), Some("techniques/T1078/"));
        assert_eq!(resolve("cases/a/", "diagram.png").as_deref(), Some("cases/a/diagram.png"));
        assert_eq!(resolve("cases/a/", "../../../x"), None);
        assert_eq!(percent_decode("a%20b"), "a b");
    }
}
