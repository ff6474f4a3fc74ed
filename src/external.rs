//! `check --external`: fetches every external link once, a few at a time, with a
//! timeout and one retry. A link that answers with an error status is a warning
//! (an error under `--strict`); one that cannot be reached at all is only a note, so a
//! check without network never fails for that.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::diagnostics::{Diagnostic, SourceFile};
use crate::resolve::Site;

#[derive(Debug, Clone)]
pub struct Options {
    pub concurrency: usize,
    pub timeout: Duration,
    pub retries: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { concurrency: 8, timeout: Duration::from_secs(15), retries: 1 }
    }
}

enum Outcome {
    Ok,
    Status(u16),
    Unreachable(String),
}

type Places = Vec<(Arc<SourceFile>, std::ops::Range<usize>)>;

/// Every external URL of the published site, with where each is written.
fn collect(site: &Site) -> BTreeMap<String, Places> {
    let mut urls: BTreeMap<String, Places> = BTreeMap::new();
    let mut add = |url: &str, file: &Arc<SourceFile>, range: std::ops::Range<usize>| {
        urls.entry(url.trim().to_string()).or_default().push((file.clone(), range));
    };
    // Fields keep no span of their own: the URL's first place in the file is where it is written.
    let find = |file: &SourceFile, url: &str| file.text().find(url).map_or(0..0, |i| i..i + url.len());
    for c in &site.cases {
        let file = &c.case.file;
        for r in &c.case.references {
            add(&r.url, file, find(file, &r.url));
        }
        for l in &c.case.body.external {
            add(&l.dest, file, c.case.body_offset + l.range.start..c.case.body_offset + l.range.end);
        }
    }
    for o in &site.orgs {
        if let Some(p) = &o.profile {
            if let Some(w) = &p.website {
                add(w, &p.file, find(&p.file, w));
            }
            for l in &p.body.external {
                add(&l.dest, &p.file, p.body_offset + l.range.start..p.body_offset + l.range.end);
            }
        }
    }
    urls
}

fn fetch(agent: &ureq::Agent, url: &str, retries: u32) -> Outcome {
    let mut last = Outcome::Unreachable(String::new());
    for attempt in 0..=retries {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(500 * u64::from(attempt)));
        }
        // HEAD first; some servers refuse it, so an error status is tried again with GET.
        let head = agent.head(url).call();
        let result = match head {
            Ok(r) if r.status().as_u16() < 400 => return Outcome::Ok,
            _ => agent.get(url).call(),
        };
        last = match result {
            Ok(r) if r.status().as_u16() < 400 => return Outcome::Ok,
            Ok(r) => Outcome::Status(r.status().as_u16()),
            Err(e) => Outcome::Unreachable(e.to_string()),
        };
        // A 4xx is an answer: asking again will not change it.
        if matches!(last, Outcome::Status(s) if s < 500 && s != 429) {
            break;
        }
    }
    last
}

pub(crate) fn check(site: &Site, options: &Options) -> Vec<Diagnostic> {
    let urls = collect(site);
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(options.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("casebook/", env!("CARGO_PKG_VERSION"), " (link check)"))
        .build();
    let agent: ureq::Agent = config.into();
    let queue: Mutex<Vec<&String>> = Mutex::new(urls.keys().rev().collect());
    let results: Mutex<BTreeMap<&String, Outcome>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..options.concurrency.clamp(1, 64).min(urls.len().max(1)) {
            s.spawn(|| {
                while let Some(url) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let outcome = fetch(&agent, url, options.retries);
                    if let Ok(mut r) = results.lock() {
                        r.insert(url, outcome);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let mut diags = Vec::new();
    let (mut ok, mut broken, mut unreachable) = (0, 0, 0);
    for (url, outcome) in &results {
        let places = &urls[*url];
        match outcome {
            Outcome::Ok => ok += 1,
            Outcome::Status(status) => {
                broken += 1;
                for (file, range) in places {
                    diags.push(
                        Diagnostic::warning("external-broken", format!("{url} answers HTTP {status}"))
                            .at(file, range.clone())
                            .hint("update or remove the link; an archived copy (web.archive.org) can replace a dead source"),
                    );
                }
            }
            Outcome::Unreachable(e) => {
                unreachable += 1;
                let (file, range) = &places[0];
                diags.push(
                    Diagnostic::note("external-unreachable", format!("{url} could not be reached: {e}"))
                        .at(file, range.clone()),
                );
            }
        }
    }
    diags.push(Diagnostic::note(
        "external-summary",
        format!("external links: {} checked, {ok} fine, {broken} broken, {unreachable} unreachable", results.len()),
    ));
    diags
}
