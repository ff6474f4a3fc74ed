//! ATT&CK Navigator layers, layer format 4.5 (mitre-attack/attack-navigator
//! `layers/spec/v4.5/layerformat.md`): one per case, scored by confidence, and one for
//! the whole site, scored by how many cases use each technique.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::permalink;
use crate::parse::case::Confidence;
use crate::resolve::Site;

pub const LAYER_VERSION: &str = "4.5";
pub const NAVIGATOR_VERSION: &str = "5.1.0";
pub const DOMAIN: &str = "enterprise-attack";

/// Comment of a site-layer technique: at most this many case slugs are listed.
const COMMENT_CASES: usize = 20;

/// Score of a confidence level in a case layer.
pub fn score(c: Confidence) -> u64 {
    match c {
        Confidence::Confirmed => 4,
        Confidence::Likely => 3,
        Confidence::Possible => 2,
        Confidence::Unconfirmed => 1,
    }
}

/// Colour of each score 0..=4; the gradient has one stop per score, so a score gets
/// exactly its legend colour.
const CASE_COLORS: [&str; 5] = ["#ffffff", "#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"];
const SITE_COLORS: [&str; 4] = ["#ffffff", "#fcbba1", "#fb6a4a", "#a50f15"];

/// The site layer's gradient up to `max` cases: no more stops than scores, since
/// mitreattack-python's gradient needs at least one score per step (white to the
/// darkest red either way).
fn site_colors(max: usize) -> Vec<&'static str> {
    match max {
        0 | 1 => vec![SITE_COLORS[0], SITE_COLORS[3]],
        2 => vec![SITE_COLORS[0], SITE_COLORS[2], SITE_COLORS[3]],
        _ => SITE_COLORS.to_vec(),
    }
}

fn label(c: Confidence) -> &'static str {
    match c {
        Confidence::Confirmed => "Confirmed",
        Confidence::Likely => "Likely",
        Confidence::Possible => "Possible",
        Confidence::Unconfirmed => "Unconfirmed",
    }
}

/// Longest layer name, in UTF-16 units: mitreattack-python's Excel export makes it a
/// sheet title, which Excel caps at 31 characters.
pub const NAME_MAX: usize = 31;

/// A layer name every Navigator tool accepts: none of the characters a sheet title may
/// not hold (`: \ / ? * [ ]`, openpyxl refuses them), no apostrophe at either end, at
/// most [`NAME_MAX`] characters (cut at a word when it can, marked with `…`), never
/// empty. The full title stays in the layer's description or metadata.
pub fn layer_name(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| match c {
            ':' | '\\' | '/' | '?' | '*' | '[' | ']' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut name = words.join(" ");
    if name.encode_utf16().count() > NAME_MAX {
        let mut cut = String::new();
        for c in name.chars() {
            if cut.encode_utf16().count() + c.len_utf16() > NAME_MAX - 1 {
                break;
            }
            cut.push(c);
        }
        // Back to the last space when it keeps most of the text.
        if let Some(sp) = cut.rfind(' ').filter(|&sp| sp >= cut.len() / 2) {
            cut.truncate(sp);
        }
        name = format!("{}…", cut.trim_end());
    }
    let name = name.trim_matches('\'').trim();
    if name.is_empty() {
        "Casebook layer".to_string()
    } else {
        name.to_string()
    }
}

/// One technique entry of a layer being built, keyed by (technique, tactic).
struct Entry {
    id: String,
    tactic: String,
    score: Option<u64>,
    comment: String,
    metadata: Vec<Value>,
    show_subtechniques: bool,
}

/// Entries in first-seen order, with parents of used sub-techniques added (unscored)
/// under the same tactic and marked to show their sub-techniques.
#[derive(Default)]
struct Entries {
    list: Vec<Entry>,
    at: BTreeMap<(String, String), usize>,
}

impl Entries {
    fn get_or_add(&mut self, id: &str, tactic: &str) -> &mut Entry {
        let key = (id.to_string(), tactic.to_string());
        let i = match self.at.get(&key) {
            Some(&i) => i,
            None => {
                self.list.push(Entry {
                    id: id.to_string(),
                    tactic: tactic.to_string(),
                    score: None,
                    comment: String::new(),
                    metadata: Vec::new(),
                    show_subtechniques: false,
                });
                self.at.insert(key, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        &mut self.list[i]
    }

    fn finish(mut self, site: &Site, links: &[Value]) -> Vec<Value> {
        let used: Vec<(String, String)> = self.list.iter().map(|e| (e.id.clone(), e.tactic.clone())).collect();
        for (id, tactic) in used {
            let parent = site.catalog.technique(&id).and_then(|t| t.subtechnique_of.clone());
            if let Some(parent) = parent {
                self.get_or_add(&parent, &tactic).show_subtechniques = true;
            }
        }
        self.list
            .into_iter()
            .map(|e| {
                let mut v = json!({
                    "techniqueID": e.id,
                    "tactic": e.tactic,
                    "enabled": true,
                    "showSubtechniques": e.show_subtechniques,
                });
                if let Some(s) = e.score {
                    v["score"] = json!(s);
                    v["comment"] = json!(e.comment);
                    v["metadata"] = json!(e.metadata);
                    v["links"] = json!(links);
                }
                v
            })
            .collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn layer(
    site: &Site,
    name: &str,
    description: &str,
    techniques: Vec<Value>,
    gradient: Value,
    legend: Vec<Value>,
    metadata: Vec<Value>,
    links: Vec<Value>,
) -> Value {
    json!({
        "name": name,
        "versions": {
            "attack": site.catalog.version,
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": DOMAIN,
        "description": description,
        // Every platform of the catalog: the filter shows the whole matrix.
        "filters": {"platforms": site.catalog.platforms()},
        "sorting": 3,
        "layout": {
            "layout": "side",
            "showID": true,
            "showName": true,
            "showAggregateScores": false,
            "countUnscored": false,
            "aggregateFunction": "max",
            "expandedSubtechniques": "annotated",
        },
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": gradient,
        "legendItems": legend,
        "showTacticRowBackground": false,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
        "metadata": metadata,
        "links": links,
    })
}

/// `cases/SLUG/attack-layer.json`: the case's techniques scored by confidence
/// (confirmed 4, likely 3, possible 2, unconfirmed 1), the evidence as comment.
pub fn case_layer(site: &Site, i: usize) -> Value {
    let sc = &site.cases[i];
    let c = &sc.case;
    let link = permalink(site, &sc.url);
    let links = vec![json!({"label": "Case", "url": link})];
    let mut entries = Entries::default();
    for (t, tactics) in c.techniques.iter().zip(&sc.tactics) {
        let Some(tech) = site.catalog.technique(&t.id.value) else {
            continue;
        };
        for tactic in tactics {
            let e = entries.get_or_add(&tech.id, tactic);
            let s = score(t.confidence);
            // The same technique twice under one tactic: the stronger claim wins.
            if e.score.is_none_or(|old| s > old) {
                e.score = Some(s);
                e.metadata = vec![json!({"name": "Confidence", "value": t.confidence.as_str()})];
            }
            let text = match &t.evidence {
                Some(ev) => format!("{}: {}", label(t.confidence), ev),
                None => label(t.confidence).to_string(),
            };
            if !e.comment.is_empty() {
                e.comment.push('\n');
            }
            e.comment.push_str(&text);
        }
    }
    let legend = [Confidence::Confirmed, Confidence::Likely, Confidence::Possible, Confidence::Unconfirmed]
        .iter()
        .map(|&c| json!({"label": label(c), "color": CASE_COLORS[score(c) as usize]}))
        .collect();
    let orgs: Vec<&str> = c.organizations.iter().map(|o| o.value.as_str()).collect();
    let metadata = vec![
        json!({"name": "Case", "value": c.slug}),
        json!({"name": "Title", "value": c.title}),
        json!({"name": "Organizations", "value": orgs.join(", ")}),
        json!({"name": "Happened", "value": sc.happened.to_iso()}),
        json!({"name": "Published", "value": c.date.to_string()}),
    ];
    let description = c.summary.clone().unwrap_or_else(|| c.title.clone());
    layer(
        site,
        &layer_name(&c.title),
        &description,
        entries.finish(site, &links),
        json!({"colors": CASE_COLORS, "minValue": 0, "maxValue": 4}),
        legend,
        metadata,
        links,
    )
}

/// `attack-layer.json`: every technique scored by the number of cases (one per
/// translation group) using it under each tactic.
pub fn site_layer(site: &Site) -> Value {
    let home = permalink(site, "");
    let links = vec![json!({"label": site.config.title.as_str(), "url": home})];
    let mut entries = Entries::default();
    // Cells in the order first used, as resolve gathered them: one entry each.
    let techniques = &site.taxonomy(crate::urls::Kind::Techniques).terms;
    for cell in &site.matrix.cells {
        entries.get_or_add(&techniques[cell.technique].slug, &cell.tactic);
    }
    let mut max = 0;
    for (e, cell) in entries.list.iter_mut().zip(&site.matrix.cells) {
        let n = cell.cases.len();
        max = max.max(n);
        e.score = Some(n as u64);
        let shown: Vec<&str> =
            cell.cases.iter().take(COMMENT_CASES).map(|&i| site.cases[i].case.slug.as_str()).collect();
        e.comment = format!(
            "{} case{}: {}{}",
            n,
            if n == 1 { "" } else { "s" },
            shown.join(", "),
            if n > COMMENT_CASES { format!(" and {} more", n - COMMENT_CASES) } else { String::new() }
        );
        e.metadata = vec![json!({"name": "Cases", "value": n.to_string()})];
    }
    let counted = site.cases.iter().filter(|c| c.counted).count();
    let metadata = vec![json!({"name": "Cases", "value": counted.to_string()})];
    let description = format!(
        "ATT&CK techniques in {} case{} of {}; score = number of cases using the technique under the tactic.",
        counted,
        if counted == 1 { "" } else { "s" },
        site.config.title
    );
    let legend = vec![
        json!({"label": "Fewer cases", "color": SITE_COLORS[1]}),
        json!({"label": format!("{} cases", max.max(1)), "color": SITE_COLORS[3]}),
    ];
    layer(
        site,
        &layer_name(&site.config.title),
        &description,
        entries.finish(site, &links),
        json!({"colors": site_colors(max.max(1)), "minValue": 0, "maxValue": max.max(1)}),
        legend,
        metadata,
        links,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_fit_a_sheet_title() {
        assert_eq!(layer_name("NTT: contract data"), "NTT contract data");
        assert_eq!(layer_name("'a/b'"), "a b");
        assert_eq!(layer_name(" :: "), "Casebook layer");
        let long = layer_name("NTT Communications: contract data of 17,891 business customers");
        assert_eq!(long, "NTT Communications contract…");
        let cjk = layer_name(&"漏".repeat(40));
        assert_eq!(cjk.chars().count(), NAME_MAX);
    }
}
