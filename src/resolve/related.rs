//! Related cases: the ones a write-up lists, then those sharing organizations or
//! techniques. Candidates are bounded per term, so this stays linear in the number of
//! cases even when one technique is in every case.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{SiteCase, Taxonomy};
use crate::urls::Kind;

/// At most this many related cases are shown.
pub const MAX_RELATED: usize = 6;
/// Neighbours looked at on each side in one term's case list.
const WINDOW: usize = 25;

pub fn compute(cases: &mut [SiteCase], taxonomies: &[Taxonomy], index_of: &HashMap<String, usize>) {
    let cases_ref = &*cases;
    let related: Vec<Vec<usize>> = (0..cases.len())
        .into_par_iter()
        .map(|i| {
            let cases = cases_ref;
            let case = &cases[i];
            let mut out: Vec<usize> = Vec::new();
            let skip = |j: usize, out: &Vec<usize>| j == i || out.contains(&j) || case.translations.contains(&j);
            // Listed ones first; unpublished ones silently drop out (never leaked).
            for r in &case.case.related {
                if let Some(&j) = index_of.get(&r.value) {
                    if !skip(j, &out) {
                        out.push(j);
                    }
                }
            }
            let mut scores: HashMap<usize, u32> = HashMap::new();
            for (kind, weight) in [(Kind::Organizations, 4), (Kind::Techniques, 1)] {
                for &t in &case.terms[kind.index()] {
                    let list = &taxonomies[kind.index()].terms[t].cases;
                    // Lists are in case order: nearest in time are nearest in the list.
                    let pos = list.partition_point(|&j| j < i);
                    let lo = pos.saturating_sub(WINDOW);
                    let hi = (pos + WINDOW + 1).min(list.len());
                    for &j in &list[lo..hi] {
                        if !skip(j, &out) && cases[j].counted {
                            *scores.entry(j).or_default() += weight;
                        }
                    }
                }
            }
            let mut ranked: Vec<(usize, u32)> = scores.into_iter().collect();
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
