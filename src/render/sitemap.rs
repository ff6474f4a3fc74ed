//! `/sitemap.xml`, within the sitemaps.org limit of 50,000 URLs per file: up to that,
//! one `urlset` (the theme's `sitemap.xml` template); past it, the theme's template
//! renders `sitemap-1.xml`, `sitemap-2.xml`, ... and `/sitemap.xml` becomes a
//! `sitemapindex` naming them, so the URL search engines and `robots.txt` know never
//! changes.

use serde_json::Value;

use super::OutputFile;
use crate::html::escape;
use crate::resolve::Site;

/// The sitemaps.org limit of URLs in one sitemap file.
pub const MAX_URLS: usize = 50_000;

/// The sitemap files to render with the theme's template, as (site-relative URL, URLs):
/// `sitemap.xml` alone, or `sitemap-N.xml` of at most `max` URLs each.
pub fn parts(urls: Vec<Value>, max: usize) -> Vec<(String, Vec<Value>)> {
    if urls.len() <= max {
        return vec![("sitemap.xml".to_string(), urls)];
    }
    let mut parts = Vec::with_capacity(urls.len().div_ceil(max));
    let mut rest = urls.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<Value> = rest.by_ref().take(max).collect();
        parts.push((part_url(parts.len() + 1), chunk));
    }
    parts
}

/// Every file a sitemap of `count` URLs is written to, known before they are made:
/// `sitemap.xml`, and past `max` URLs the parts it names.
pub fn files(count: usize, max: usize) -> Vec<String> {
    let parts = if count <= max { 0 } else { count.div_ceil(max) };
    std::iter::once("sitemap.xml".to_string()).chain((1..=parts).map(part_url)).collect()
}

/// The `k`th part (from 1).
fn part_url(k: usize) -> String {
    format!("sitemap-{k}.xml")
}

/// The `sitemapindex` at `sitemap.xml` naming `parts`, each with the latest `lastmod`
/// of its URLs; `None` when there is one part (it is `sitemap.xml` itself).
pub fn index(site: &Site, parts: &[(String, Vec<Value>)]) -> Option<OutputFile> {
    if parts.len() < 2 {
        return None;
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (url, urls) in parts {
        xml.push_str("  <sitemap>\n    <loc>");
        xml.push_str(&escape(&crate::urls::permalink(&site.config.base_url, url)));
        xml.push_str("</loc>\n");
        if let Some(last) = urls.iter().filter_map(|u| u["lastmod"].as_str()).max() {
            xml.push_str("    <lastmod>");
            xml.push_str(&escape(last));
            xml.push_str("</lastmod>\n");
        }
        xml.push_str("  </sitemap>\n");
    }
    xml.push_str("</sitemapindex>\n");
    Some(OutputFile { path: "sitemap.xml".to_string(), bytes: xml.into_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn urls(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({"permalink": format!("https://x.org/{i}/"), "lastmod": format!("2020-01-{:02}", 1 + i % 28)})).collect()
    }

    /// The files known before the sitemap is made are those it makes.
    #[test]
    fn its_files_are_known_from_the_count_alone() {
        for n in [0, 1, 3, 4, 6, 7] {
            let made: Vec<String> = parts(urls(n), 3).into_iter().map(|(url, _)| url).collect();
            let expected: Vec<String> =
                if made.len() < 2 { made } else { std::iter::once("sitemap.xml".to_string()).chain(made).collect() };
            assert_eq!(files(n, 3), expected, "{n} URLs");
        }
    }

    #[test]
    fn one_file_up_to_the_limit() {
        let p = parts(urls(3), 3);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "sitemap.xml");
        assert_eq!(parts(urls(MAX_URLS), MAX_URLS).len(), 1);
    }

    #[test]
    fn numbered_files_past_it() {
        let p = parts(urls(7), 3);
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml"]);
        assert_eq!(p.iter().map(|(_, u)| u.len()).collect::<Vec<_>>(), [3, 3, 1]);
        assert_eq!(parts(urls(MAX_URLS + 1), MAX_URLS).len(), 2);
    }
}
