//! Related cases: the ones a write-up lists, then those sharing the most with it
//! (organization, actor, sector, techniques), one entry per incident. Candidates are
//! bounded per term, so this stays linear in the number of cases even when one
//! technique is in every case.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{SiteCase, Taxonomy};
use crate::urls::Kind;

/// At most this many related cases are shown (more when a write-up lists more).
pub const MAX_RELATED: usize = 5;
/// Neighbours looked at on each side in one term's case list.
const WINDOW: usize = 25;
/// What a shared term weighs. A shared organization or actor alone makes a case
/// related; a sector needs a technique too; techniques alone need three.
const WEIGHTS: [(Kind, u32); 4] =
    [(Kind::Organizations, 6), (Kind::Actors, 6), (Kind::Sectors, 2), (Kind::Techniques, 1)];
const MIN_SCORE: u32 = 3;

/// Actor names that say nobody is known: sharing them is not a relation.
pub fn is_unknown_actor(slug: &str) -> bool {
    matches!(slug, "unknown" | "unattributed" | "n-a" | "none")
}

pub fn compute(cases: &mut [SiteCase], taxonomies: &[Taxonomy], index_of: &HashMap<String, usize>) {
    let cases_ref = &*cases;
    let related: Vec<Vec<usize>> = (0..cases.len())
        .into_par_iter()
        .map(|i| {
            let cases = cases_ref;
            let case = &cases[i];
            let mut out: Vec<usize> = Vec::new();
            // One entry per incident: a case, its translations and itself are one.
            let same_incident = |j: usize, k: usize| j == k || cases[k].translations.contains(&j);
            let skip = |j: usize, out: &Vec<usize>| same_incident(j, i) || out.iter().any(|&k| same_incident(j, k));
            // Listed ones first; unpublished ones silently drop out (never leaked).
            for r in &case.case.related {
                if let Some(&j) = index_of.get(&r.value) {
                    if !skip(j, &out) {
                        out.push(j);
                    }
                }
            }
            // Each candidate once per shared term, then summed: a few hundred at most.
            let mut hits: Vec<(usize, u32)> = Vec::new();
            for (kind, weight) in WEIGHTS {
                let tax = &taxonomies[kind.index()];
                for &t in &case.terms[kind.index()] {
                    if kind == Kind::Actors && is_unknown_actor(&tax.terms[t].slug) {
                        continue;
                    }
                    let list = &tax.terms[t].cases;
                    // Lists are in case order: nearest in time are nearest in the list.
                    let pos = list.partition_point(|&j| j < i);
                    let lo = pos.saturating_sub(WINDOW);
                    let hi = (pos + WINDOW + 1).min(list.len());
                    hits.extend(list[lo..hi].iter().map(|&j| (j, weight)));
                }
            }
            hits.sort_unstable_by_key(|&(j, _)| j);
            let mut ranked: Vec<(usize, u32)> = Vec::new();
            for (j, w) in hits {
                match ranked.last_mut() {
                    Some((k, s)) if *k == j => *s += w,
                    _ => ranked.push((j, w)),
                }
            }
            ranked.retain(|&(j, s)| s >= MIN_SCORE && cases[j].counted && !skip(j, &out));
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.abs_diff(i).cmp(&b.0.abs_diff(i))).then(a.0.cmp(&b.0)));
            out.extend(ranked.into_iter().map(|(j, _)| j));
            out.truncate(MAX_RELATED.max(case.case.related.len()));
            out
        })
        .collect();
    for (c, r) in cases.iter_mut().zip(related) {
        c.related = r;
    }
}
