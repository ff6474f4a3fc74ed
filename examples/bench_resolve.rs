//! Time of the resolve stage alone, on a site parsed once.
//!
//! ```text
//! cargo run --release --example bench_resolve -- SITE [RUNS]
//! ```
//!
//! Loads and parses SITE, then resolves it RUNS times (default 10) and prints each
//! run's milliseconds and the median: what `build --timings` shows as `resolve`, less
//! the noise of the stages around it.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use casebook::parse::{self, markdown};

// As the binary's: resolve allocates a good deal, and glibc's malloc times differently.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first().map(Path::new) else {
        eprintln!("usage: bench_resolve SITE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).map_or(10, |n| n.parse().expect("RUNS is a number"));
    let config_file = casebook::load::read_config(root).expect("site.toml");
    let config = casebook::config::Config::parse(&config_file).expect("valid site.toml");
    let (sources, _) = casebook::load::load(root, &config, &mut Default::default());
    let md = markdown::Options { unsafe_html: config.markdown.unsafe_html };
    let cases = sources.cases.par_iter().filter_map(|f| parse::case::parse(f, &md).0).map(Arc::new).collect();
    let organizations =
        sources.organizations.par_iter().filter_map(|f| parse::org::parse(f, &md).0).map(Arc::new).collect();
    let pages = sources.pages.par_iter().filter_map(|f| parse::page::parse(f, &md).0).map(Arc::new).collect();
    let parsed = parse::Parsed { cases, organizations, pages };
    let catalog = casebook::attack::Catalog::builtin();
    let now = jiff::Timestamp::now();
    let mut times = Vec::new();
    let mut digest = None;
    for _ in 0..runs {
        let input = parse::Parsed {
            cases: parsed.cases.clone(),
            organizations: parsed.organizations.clone(),
            pages: parsed.pages.clone(),
        };
        let start = Instant::now();
        let (site, diags) = casebook::resolve::resolve(input, config.clone(), catalog, now);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        println!("resolve: {ms:.1} ms ({} cases, {} diagnostics)", site.cases.len(), diags.len());
        times.push(ms);
        digest = Some(site_digest(&site));
    }
    times.sort_by(f64::total_cmp);
    println!("median: {:.1} ms over {runs} runs", times[times.len() / 2]);
    if let Some(d) = digest {
        println!("digest: {d:016x}");
    }
}

/// What the site came to, in one number: two versions of resolve that print the same
/// resolved the same (fingerprints cover each case's terms, related cases and body).
fn site_digest(site: &casebook::resolve::Site) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in &site.cases {
        (c.fingerprint, &c.url, &c.related, &c.translations, c.counted, &c.tactics, &c.terms).hash(&mut h);
    }
    for o in &site.orgs {
        (o.fingerprint, &o.body_html, o.parent, &o.children).hash(&mut h);
    }
    for p in &site.pages {
        (p.fingerprint, &p.body_html).hash(&mut h);
    }
    for t in &site.taxonomies {
        for term in &t.terms {
            (&term.slug, &term.name, &term.cases).hash(&mut h);
        }
    }
    h.finish()
}
