//! Relative links and `#anchors` written in bodies, checked against the rendered
//! site: only once every page exists can we tell whether `../x/#y` leads anywhere.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::OutputFile;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::Asset;
use crate::parse::markdown::Rendered;
use crate::resolve::Site;
use crate::urls::{self, Kind};

pub fn local_links(site: &Site, files: &[OutputFile], assets: &[Asset]) -> Vec<Diagnostic> {
    let pages: HashMap<&str, &[u8]> = files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())).collect();
    let assets: HashSet<&str> = assets.iter().map(|a| a.dest.as_str()).collect();
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
    let mut diags = Vec::new();
    for (body, file, offset, page_url) in bodies {
        for link in &body.local {
            let at = offset + link.range.start..offset + link.range.end;
            if let Err(message) = check_one(&link.dest, &page_url, &pages, &assets) {
                diags.push(Diagnostic::error("link-broken", message).at(file, at).hint(
                    "relative links are resolved from the page's URL (a case is at /cases/SLUG/); link to cases with @/cases/SLUG.md",
                ));
            }
        }
    }
    diags
}

fn check_one(dest: &str, page_url: &str, pages: &HashMap<&str, &[u8]>, assets: &HashSet<&str>) -> Result<(), String> {
    let dest = dest.trim();
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let target = if path.is_empty() {
        urls::output_path(page_url)
    } else {
        let resolved =
            resolve(page_url, &percent_decode(path)).ok_or_else(|| format!("`{dest}` leads outside the site"))?;
        [resolved.clone(), urls::output_path(&resolved), format!("{resolved}/index.html")]
            .into_iter()
            .find(|p| pages.contains_key(p.as_str()) || assets.contains(p.as_str()))
            .ok_or_else(|| format!("`{dest}` leads to /{resolved}, which the site does not have"))?
    };
    if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
        let html = pages
            .get(target.as_str())
            .ok_or_else(|| format!("`{dest}`: /{target} is not a page, so it has no #{fragment}"))?;
        let needle = format!("id=\"{}\"", crate::html::escape(&percent_decode(fragment)));
        if !contains(html, needle.as_bytes()) {
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

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
