//! One fingerprint per case, organization and free page: what a view can read of it
//! alone. Its file's text stands for everything parsed from it (parsing reads nothing
//! else but settings, which are an input of every page); added is what resolve made of
//! it with the help of other files: its URL, the names of its terms (a profile may
//! rename an organization), related cases and translations by slug, and where its links
//! go. Its body is its text parsed with the Markdown settings, its links filled in: the
//! text's hash, those settings and the links' URLs stand for the body, which is not
//! hashed again (90 MB at 10,000 cases). A view that also reads another case declares
//! that case too.

use rayon::prelude::*;

use super::{Site, SiteCase};
use crate::fingerprint::{Fingerprint, Hasher};
use crate::urls::Kind;

pub(super) fn fill(site: &mut Site) {
    let markdown = {
        let mut h = Hasher::new();
        h.bytes(format!("{:?}", site.config.markdown).as_bytes());
        h.finish()
    };
    let fps: Vec<Fingerprint> = site.cases.par_iter().map(|c| case(site, c, markdown)).collect();
    for (c, fp) in site.cases.iter_mut().zip(fps) {
        c.fingerprint = fp;
    }
    let fps: Vec<Fingerprint> = (0..site.orgs.len()).map(|t| organization(site, t)).collect();
    for (o, fp) in site.orgs.iter_mut().zip(fps) {
        o.fingerprint = fp;
    }
    for p in &mut site.pages {
        let mut h = Hasher::new();
        h.bytes(p.page.file.path.as_bytes());
        h.bytes(&p.page.file.text_hash().to_le_bytes());
        h.bytes(p.url.as_bytes());
        h.bytes(p.body_html.as_bytes());
        p.fingerprint = h.finish();
    }
}

fn term_names(site: &Site, h: &mut Hasher, kind: Kind, terms: impl IntoIterator<Item = usize>) {
    let tax = site.taxonomy(kind);
    for t in terms {
        h.bytes(tax.terms[t].slug.as_bytes());
        h.bytes(tax.terms[t].name.as_bytes());
    }
    h.bytes(b"\x01");
}

fn case(site: &Site, c: &SiteCase, markdown: Fingerprint) -> Fingerprint {
    let mut h = Hasher::new();
    h.bytes(c.case.file.path.as_bytes());
    h.bytes(&c.case.file.text_hash().to_le_bytes());
    h.bytes(c.url.as_bytes());
    for kind in Kind::ALL {
        term_names(site, &mut h, kind, c.terms[kind.index()].iter().copied());
    }
    h.value(&c.tactics);
    h.bytes(&[u8::from(c.counted)]);
    for &j in c.related.iter().chain([usize::MAX].iter()).chain(&c.translations) {
        h.bytes(site.cases.get(j).map_or(b"\x01".as_slice(), |o| o.case.slug.as_bytes()));
    }
    h.bytes(&markdown.to_le_bytes());
    for url in &c.link_urls {
        h.bytes(url.as_deref().map_or(b"\x01".as_slice(), |u| u.as_bytes()));
    }
    h.finish()
}

fn organization(site: &Site, t: usize) -> Fingerprint {
    let o = &site.orgs[t];
    let mut h = Hasher::new();
    if let Some(p) = &o.profile {
        h.bytes(p.file.path.as_bytes());
        h.bytes(&p.file.text_hash().to_le_bytes());
    }
    let orgs = Kind::Organizations;
    term_names(site, &mut h, orgs, [t]);
    term_names(site, &mut h, orgs, o.parent);
    term_names(site, &mut h, orgs, o.children.iter().copied());
    h.bytes(o.body_html.as_bytes());
    h.finish()
}
