//! Related cases: the ones a write-up lists, then those sharing the most with it
//! (organization, actor, sector, techniques), one entry per incident. Candidates are
//! bounded per term, so this stays linear in the number of cases even when one
//! technique is in every case.

use rustc_hash::FxHashMap as HashMap;

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
    let n = cases.len();
    let related: Vec<Vec<usize>> = (0..n)
        .into_par_iter()
        // Per thread: each case's score and the cases scored, summed in place instead of
        // sorting every hit (a few hundred per case).
        .map_init(
            || (vec![0u32; n], Vec::new()),
            |(score, touched), i| {
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
                let listed = out.len();
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
                        for &j in &list[lo..hi] {
                            if score[j] == 0 {
                                touched.push(j);
                            }
                            score[j] += weight;
                        }
                    }
                }
                let mut ranked: Vec<(usize, u32)> = Vec::new();
                for j in touched.drain(..) {
                    let s = std::mem::take(&mut score[j]);
                    if s >= MIN_SCORE && cases[j].counted && !skip(j, &out) {
                        ranked.push((j, s));
                    }
                }
                let order = |a: &(usize, u32), b: &(usize, u32)| {
                    b.1.cmp(&a.1).then(a.0.abs_diff(i).cmp(&b.0.abs_diff(i))).then(a.0.cmp(&b.0))
                };
                // Only the best few are kept: those are found first, then put in order.
                let keep = MAX_RELATED.max(case.case.related.len()).saturating_sub(listed);
                if keep < ranked.len() {
                    if keep > 0 {
                        ranked.select_nth_unstable_by(keep - 1, order);
                    }
                    ranked.truncate(keep);
                }
                ranked.sort_unstable_by(order);
                out.extend(ranked.into_iter().map(|(j, _)| j));
                out
            },
        )
        .collect();
    for (c, r) in cases.iter_mut().zip(related) {
        c.related = r;
    }
}
