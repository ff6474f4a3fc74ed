//! The numbers behind every chart, as plain data: computed once from the resolved site,
//! drawn by `charts`, and unit-tested here. Only counted cases go into statistics (a
//! translation that does not represent its group is the same incident again).

use std::collections::BTreeMap;

use crate::parse::date::{Bound, PartialDate, Precision, Qualifier, Span};
use crate::resolve::Site;
use crate::urls::{self, Kind};

/// Heat levels of matrix cells, 0 (unused) to 4, from the site's own counts: the
/// lower quartile, median and upper quartile of the used cells split them (up to four
/// distinct counts, one level each), so a site of six cases and one of ten thousand
/// both use the scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatScale {
    /// Highest count of each level but the last, rising, without repeats.
    breaks: Vec<usize>,
    min: usize,
    max: usize,
}

impl HeatScale {
    pub fn from_counts(counts: impl IntoIterator<Item = usize>) -> HeatScale {
        let mut v: Vec<usize> = counts.into_iter().filter(|&n| n > 0).collect();
        v.sort_unstable();
        let (min, max) = (v.first().copied().unwrap_or(0), v.last().copied().unwrap_or(0));
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        let mut distinct = v.clone();
        distinct.dedup();
        // Four values or fewer: one bin each (quartiles would merge them).
        let mut breaks: Vec<usize> = if distinct.len() <= 4 { distinct } else { vec![q(0.25), q(0.5), q(0.75)] };
        breaks.dedup();
        breaks.retain(|&b| b < max);
        HeatScale { breaks, min, max }
    }

    pub fn level(&self, count: usize) -> u8 {
        if count == 0 {
            return 0;
        }
        let above = self.breaks.iter().filter(|&&b| count > b).count();
        // Fewer bins than four: the top one is still the darkest.
        (4 - self.breaks.len() + above) as u8
    }

    /// (level, label) of each level some count falls in: `1`, `2–4`, `5+`.
    pub fn legend(&self) -> Vec<(u8, String)> {
        if self.max == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut lo = self.min;
        for &b in self.breaks.iter().chain(std::iter::once(&self.max)) {
            let label = if lo == b { lo.to_string() } else { format!("{lo}–{b}") };
            out.push((self.level(b), label));
            lo = b + 1;
        }
        out
    }
}

/// Five-number summary of a sample, in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// Quantile `p` of sorted values, by linear interpolation between closest ranks (R's
/// default, Excel's `QUARTILE.INC`).
fn quantile(sorted: &[i32], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    f64::from(sorted[lo]) + (h - lo as f64) * f64::from(sorted[hi] - sorted[lo])
}

pub fn summarize(values: &[i32]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    Some(Summary {
        n: v.len(),
        min: f64::from(v[0]),
        q1: quantile(&v, 0.25),
        median: quantile(&v, 0.5),
        q3: quantile(&v, 0.75),
        max: f64::from(v[v.len() - 1]),
    })
}

/// Why a case has no figure for a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    MissingStart,
    MissingEnd,
    YearOnly,
    VagueEnd,
    UpperBound,
    LowerBound,
    OpenToApproximate,
    Inconsistent,
}

impl Reason {
    pub fn key(self) -> &'static str {
        match self {
            Reason::MissingStart => "missing-start",
            Reason::MissingEnd => "missing-end",
            Reason::YearOnly => "year-only",
            Reason::VagueEnd => "vague-end",
            Reason::UpperBound => "upper-bound",
            Reason::LowerBound => "lower-bound",
            Reason::OpenToApproximate => "open-to-approximate",
            Reason::Inconsistent => "inconsistent",
        }
    }

    /// In words, for a span from `start` to `end` (`"start"`, `"detection"`).
    pub fn text(self, start: &str, end: &str) -> String {
        let args = [("start", start.to_string()), ("end", end.to_string())];
        super::super::i18n::trf(&format!("reason.{}", self.key()), &args)
    }
}

/// The figure of one case for a span, or why there is none. Only `Exact` and `About`
/// spans are figures; `AtMost`/`AtLeast` are bounds and left out of the distribution.
pub fn span_of(start: Option<PartialDate>, end: Option<PartialDate>) -> Result<Span, Reason> {
    let start = start.ok_or(Reason::MissingStart)?;
    let end = end.ok_or(Reason::MissingEnd)?;
    match Span::between(&start, &end) {
        Some(s) => match s.bound {
            Bound::Exact | Bound::About => Ok(s),
            Bound::AtMost => Err(Reason::UpperBound),
            Bound::AtLeast => Err(Reason::LowerBound),
        },
        None if start.precision() == Precision::Year || end.precision() == Precision::Year => Err(Reason::YearOnly),
        None if matches!(end.qualifier, Qualifier::After | Qualifier::Before) => Err(Reason::VagueEnd),
        None if matches!(start.qualifier, Qualifier::After | Qualifier::Before) => Err(Reason::OpenToApproximate),
        None => Err(Reason::Inconsistent),
    }
}

/// One case's figure in a distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanEntry {
    pub case: usize,
    pub span: Span,
}

/// A distribution of spans over the counted cases, with what was left out and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanStats {
    /// Shortest first (then site order).
    pub included: Vec<SpanEntry>,
    /// (case, reason), in site order.
    pub left_out: Vec<(usize, Reason)>,
    pub summary: Option<Summary>,
}

impl SpanStats {
    /// Each reason once, with how many cases it left out, most frequent first.
    pub fn reasons(&self) -> Vec<(Reason, usize)> {
        let mut by: BTreeMap<Reason, usize> = BTreeMap::new();
        for (_, r) in &self.left_out {
            *by.entry(*r).or_default() += 1;
        }
        let mut v: Vec<(Reason, usize)> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

fn span_stats(site: &Site, ends: impl Fn(usize) -> (Option<PartialDate>, Option<PartialDate>)) -> SpanStats {
    let mut included = Vec::new();
    let mut left_out = Vec::new();
    for i in (0..site.cases.len()).filter(|&i| site.cases[i].counted) {
        let (a, b) = ends(i);
        match span_of(a, b) {
            Ok(span) => included.push(SpanEntry { case: i, span }),
            Err(r) => left_out.push((i, r)),
        }
    }
    included.sort_by_key(|e| (e.span.days, e.case));
    let days: Vec<i32> = included.iter().map(|e| e.span.days).collect();
    SpanStats { summary: summarize(&days), included, left_out }
}

/// Dwell time: started to detected.
pub fn dwell_time(site: &Site) -> SpanStats {
    span_stats(site, |i| (site.cases[i].case.incident.started, site.cases[i].case.incident.detected))
}

/// Disclosure lag: detected to disclosed.
pub fn disclosure_lag(site: &Site) -> SpanStats {
    span_stats(site, |i| (site.cases[i].case.incident.detected, site.cases[i].case.incident.disclosed))
}

/// A labelled count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub key: String,
    pub label: String,
    pub url: Option<String>,
    pub value: u64,
}

/// Counted cases per year they happened, oldest first, years without cases included
/// (as 0) so the axis has no silent gaps.
pub fn per_year(site: &Site) -> Vec<Bar> {
    let mut by: BTreeMap<i16, u64> = BTreeMap::new();
    for c in site.cases.iter().filter(|c| c.counted) {
        *by.entry(c.happened.year).or_default() += 1;
    }
    let (Some(&first), Some(&last)) = (by.keys().next(), by.keys().next_back()) else {
        return Vec::new();
    };
    (first..=last)
        .map(|y| {
            let n = by.get(&y).copied().unwrap_or(0);
            Bar {
                key: y.to_string(),
                label: y.to_string(),
                url: (n > 0).then(|| urls::term(Kind::Years, &y.to_string())),
                value: n,
            }
        })
        .collect()
}

/// Counted cases per term of a taxonomy, most first, then by name.
pub fn per_term(site: &Site, kind: Kind) -> Vec<Bar> {
    let mut v: Vec<Bar> = site
        .taxonomy(kind)
        .terms
        .iter()
        .filter(|t| !t.cases.is_empty())
        .map(|t| Bar {
            key: t.slug.clone(),
            label: crate::render::i18n::term_name(kind, &t.slug, &t.name),
            url: Some(urls::term(kind, &t.slug)),
            value: t.cases.len() as u64,
        })
        .collect();
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase())));
    v
}

/// How many were affected in one case: people if given, else records, accounts, then
/// organizations; `key` says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    pub case: usize,
    pub key: &'static str,
    pub value: u64,
}

pub fn affected(site: &Site) -> Vec<Affected> {
    let mut v: Vec<Affected> = site
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.counted)
        .filter_map(|(i, c)| {
            let k = &c.case.impact.counts;
            let (key, value) = [
                ("people", k.people),
                ("records", k.records),
                ("accounts", k.accounts),
                ("organizations", k.organizations),
            ]
            .into_iter()
            .find_map(|(key, v)| v.map(|v| (key, v)))?;
            Some(Affected { case: i, key, value })
        })
        .collect();
    v.sort_by(|a, b| b.value.cmp(&a.value).then(a.case.cmp(&b.case)));
    v
}

/// Counted cases with no count at all.
pub fn affected_missing(site: &Site) -> Vec<usize> {
    site.cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.counted && c.case.impact.counts.iter().next().is_none())
        .map(|(i, _)| i)
        .collect()
}

/// The most used techniques of one tactic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TacticTop {
    pub shortname: String,
    pub name: String,
    pub url: String,
    pub techniques: Vec<Bar>,
}

/// Per tactic (ATT&CK order; tactics no case uses are skipped), its `n` techniques used
/// by the most counted cases, ties by id.
pub fn top_techniques(site: &Site, counts: &BTreeMap<(String, String), usize>, n: usize) -> Vec<TacticTop> {
    site.catalog
        .tactics
        .iter()
        .filter_map(|t| {
            let mut techs: Vec<(&String, usize)> = counts
                .range((t.shortname.clone(), String::new())..)
                .take_while(|((tactic, _), _)| *tactic == t.shortname)
                .map(|((_, id), &c)| (id, c))
                .collect();
            if techs.is_empty() {
                return None;
            }
            techs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            techs.truncate(n);
            Some(TacticTop {
                shortname: t.shortname.clone(),
                name: t.name.clone(),
                url: urls::term(Kind::Tactics, &t.shortname),
                techniques: techs
                    .into_iter()
                    .map(|(id, c)| Bar {
                        key: id.clone(),
                        label: site.catalog.technique(id).map_or_else(|| id.clone(), |x| format!("{id} {}", x.name)),
                        url: Some(urls::term(Kind::Techniques, id)),
                        value: c as u64,
                    })
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PartialDate {
        PartialDate::parse(s).unwrap()
    }

    #[test]
    fn quartiles_interpolate() {
        let s = summarize(&[10, 1, 4, 7]).unwrap();
        assert_eq!((s.n, s.min, s.max), (4, 1.0, 10.0));
        assert_eq!(s.median, 5.5);
        assert_eq!(s.q1, 3.25);
        assert_eq!(s.q3, 7.75);
        let one = summarize(&[42]).unwrap();
        assert_eq!((one.q1, one.median, one.q3), (42.0, 42.0, 42.0));
        assert!(summarize(&[]).is_none());
        let odd = summarize(&[3, 1, 2]).unwrap();
        assert_eq!((odd.q1, odd.median, odd.q3), (1.5, 2.0, 2.5));
    }

    #[test]
    fn spans_only_from_precise_enough_dates() {
        assert_eq!(span_of(Some(p("2020-01-01")), Some(p("2020-01-31"))).unwrap().days, 30);
        assert_eq!(span_of(Some(p("~2020-01")), Some(p("2020-03-01"))).unwrap().bound, Bound::About);
        assert_eq!(span_of(None, Some(p("2020-01-01"))), Err(Reason::MissingStart));
        assert_eq!(span_of(Some(p("2020-01-01")), None), Err(Reason::MissingEnd));
        assert_eq!(span_of(Some(p("2019")), Some(p("2020-01-01"))), Err(Reason::YearOnly));
        assert_eq!(span_of(Some(p(">2019-09")), Some(p("2020-05-07"))), Err(Reason::UpperBound));
        assert_eq!(span_of(Some(p("<2019-09")), Some(p("2020-05-07"))), Err(Reason::LowerBound));
        assert_eq!(span_of(Some(p("2019-09-01")), Some(p(">2020-05"))), Err(Reason::VagueEnd));
        assert_eq!(span_of(Some(p(">2019-09")), Some(p("~2020-05"))), Err(Reason::OpenToApproximate));
        assert_eq!(span_of(Some(p("2020-05-07")), Some(p("2020-01-01"))), Err(Reason::Inconsistent));
    }

    #[test]
    fn heat_bins_are_quartiles_of_the_data() {
        // Mostly single uses: 1 | 2 | 3 | 4–9.
        let scale = HeatScale::from_counts([1, 1, 1, 1, 1, 2, 2, 3, 9, 4, 0]);
        let legend = scale.legend();
        let labels: Vec<(u8, &str)> = legend.iter().map(|(l, t)| (*l, t.as_str())).collect();
        assert_eq!(labels, [(1, "1"), (2, "2"), (3, "3"), (4, "4–9")]);
        assert_eq!([0, 1, 2, 3, 9].map(|n| scale.level(n)), [0, 1, 2, 3, 4]);
        // Few distinct counts: one level each.
        let few = HeatScale::from_counts([1, 1, 1, 1, 1, 1, 2, 3]);
        assert_eq!([1, 2, 3].map(|n| few.level(n)), [2, 3, 4]);
        // A wide spread uses all four.
        let wide = HeatScale::from_counts(1..=100);
        assert_eq!(
            wide.legend().iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
            ["1–26", "27–51", "52–75", "76–100"]
        );
        // One value: one bin, the darkest.
        assert_eq!(HeatScale::from_counts([5, 5]).legend(), [(4, "5".to_string())]);
        assert!(HeatScale::from_counts([]).legend().is_empty());
    }
}
