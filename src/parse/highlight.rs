//! Syntax highlighting of fenced code blocks: syntect with two-face's extra
//! syntaxes (TOML, Dockerfile, Terraform...), classed HTML (`hl-` prefix) so
//! the colours live in one stylesheet with a light and a dark theme.
//! Built with Oniguruma: two-face's PowerShell grammar needs it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use syntect::highlighting::{Theme, ThemeSet};
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;
use two_face::theme::LazyThemeSet;

/// Class prefix keeps syntect's scope classes (`keyword`, `string`...) from
/// colliding with the site's own CSS.
pub const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Larger blocks are shown plain: highlighting time grows with the input and
/// write-ups are untrusted.
const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;

/// Loading the syntax set costs tens of milliseconds: do it once, on first use.
fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(two_face::syntax::extra_newlines)
}

/// Classed HTML spans for `code` in language `lang` (a fence token such as
/// `rust`, `ps1`, `PowerShell`). `None` when the language is unknown or
/// highlighting fails: the caller then shows escaped plain text.
pub fn highlight(code: &str, lang: &str) -> Option<String> {
    if lang.is_empty() || code.len() > MAX_HIGHLIGHT_BYTES {
        return None;
    }
    let set = syntaxes();
    let syntax = set.find_syntax_by_token(alias(lang))?;
    // A grammar bug must cost one block its colours, not the whole build.
    catch_unwind(AssertUnwindSafe(|| {
        let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, set, CLASS_STYLE);
        for line in LinesWithEndings::from(code) {
            generator.parse_html_for_line_which_includes_newline(line).ok()?;
        }
        Some(generator.finalize())
    }))
    .ok()
    .flatten()
}

/// Fence names people use that are neither a syntax name nor an extension.
fn alias(lang: &str) -> &str {
    match lang.to_ascii_lowercase().as_str() {
        "shell" | "console" | "shell-session" | "shellsession" => "bash",
        "golang" => "go",
        "dockerfile" | "docker" => "Dockerfile",
        _ => lang,
    }
}

/// Names of syntect's default themes and two-face's extra themes, sorted, deduplicated;
/// read once (every run checks `site.toml`'s against them).
pub fn theme_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let defaults = ThemeSet::load_defaults();
        let extra = LazyThemeSet::from(two_face::theme::extra());
        let mut names: Vec<String> =
            defaults.themes.keys().cloned().chain(extra.theme_names().map(str::to_owned)).collect();
        names.sort();
        names.dedup();
        names
    })
}

/// `site.toml`'s highlight themes, each an error at its key if there is no such theme
/// (checked with the files, so that their errors come in the same run).
pub fn check_themes(config: &crate::config::Config) -> Vec<crate::diagnostics::Diagnostic> {
    let markdown = &config.markdown;
    [("highlight_theme", &markdown.highlight_theme), ("highlight_theme_dark", &markdown.highlight_theme_dark)]
        .into_iter()
        .filter_map(|(key, name)| {
            let e = check_theme(name).err()?;
            let d = crate::diagnostics::Diagnostic::error("config-invalid", format!("[markdown] {key}: {e}"));
            Some(config.at_key("markdown", key, d))
        })
        .collect()
}

/// Whether `name` is a highlight theme, or what to write instead.
pub fn check_theme(name: &str) -> Result<(), String> {
    let names = theme_names();
    if names.binary_search_by(|n| n.as_str().cmp(name)).is_ok() {
        return Ok(());
    }
    Err(match crate::toml_input::did_you_mean(name, names.iter().map(String::as_str)) {
        Some(near) => format!("unknown highlight theme `{name}`; did you mean `{near}`?"),
        None => format!("unknown highlight theme `{name}`; available themes: {}", names.join(", ")),
    })
}

/// CSS for the `hl-` classes: `light` at top level, `dark` inside a
/// `prefers-color-scheme: dark` media query.
pub fn css(light: &str, dark: &str) -> Result<String, String> {
    let defaults = ThemeSet::load_defaults();
    let extra = LazyThemeSet::from(two_face::theme::extra());
    let find = |name: &str| -> Result<&Theme, String> {
        defaults.themes.get(name).or_else(|| extra.get(name)).ok_or_else(|| match check_theme(name) {
            Err(e) => e,
            Ok(()) => format!("highlight theme `{name}` cannot be loaded"),
        })
    };
    let light_css = theme_css(find(light)?)?;
    let dark_css = theme_css(find(dark)?)?;
    Ok(format!("{light_css}\n@media (prefers-color-scheme: dark) {{\n{dark_css}}}\n"))
}

fn theme_css(theme: &Theme) -> Result<String, String> {
    let css = css_for_theme_with_class_style(theme, CLASS_STYLE).map_err(|e| e.to_string())?;
    // syntect puts the theme's base colours on `.hl-code`; our blocks are
    // `<pre class="code">`, so aim that rule at them.
    Ok(readable(&css.replacen(".hl-code {", "pre.code {", 1)))
}

/// Least contrast of code text against its background: WCAG AA for normal text, with
/// a little room for rounding.
const MIN_CONTRAST: f64 = 4.6;

/// The theme's CSS with every text colour moved toward black (on a light background)
/// or white (on a dark one) just far enough to reach [`MIN_CONTRAST`]: popular themes
/// (InspiredGitHub's `#62a35c`, base16-ocean's `#bf616a`) fall short of it.
fn readable(css: &str) -> String {
    let base_bg = rule_colour(css, "pre.code {", "background-color:").unwrap_or([255, 255, 255]);
    let mut out = String::with_capacity(css.len());
    for rule in css.split_inclusive('}') {
        let bg = rule_colour(rule, "", "background-color:").unwrap_or(base_bg);
        let mut rest = rule;
        while let Some(at) = rest.find("color:") {
            let is_bg = rest[..at].ends_with("background-");
            out.push_str(&rest[..at + 6]);
            rest = &rest[at + 6..];
            let value = rest.trim_start();
            out.push_str(&rest[..rest.len() - value.len()]);
            rest = value;
            if let Some(fg) = (!is_bg).then(|| hex(value)).flatten() {
                let fixed = with_contrast(fg, bg);
                out.push_str(&format!("#{:02x}{:02x}{:02x}", fixed[0], fixed[1], fixed[2]));
                // Keep an alpha byte as the theme wrote it.
                let len = if value.as_bytes().get(7).is_some_and(u8::is_ascii_hexdigit) { 9 } else { 7 };
                rest = &rest[len..];
            }
        }
        out.push_str(rest);
    }
    out
}

/// The `#rrggbb` after `property` inside the rule that starts with `selector`.
fn rule_colour(css: &str, selector: &str, property: &str) -> Option<[u8; 3]> {
    let rule = &css[css.find(selector)?..];
    let rule = &rule[..rule.find('}').unwrap_or(rule.len())];
    hex(rule[rule.find(property)? + property.len()..].trim_start())
}

fn hex(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#')?.get(..6)?;
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn luminance(c: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// `fg` mixed with black or white, in small steps, until it reads on `bg`.
fn with_contrast(fg: [u8; 3], bg: [u8; 3]) -> [u8; 3] {
    let toward: f64 = if luminance(bg) > 0.18 { 0.0 } else { 255.0 };
    let mut c = fg;
    for step in 1..=20 {
        if contrast(c, bg) >= MIN_CONTRAST {
            break;
        }
        let t = f64::from(step) / 20.0;
        c = fg.map(|v| (f64::from(v) + (toward - f64::from(v)) * t).round() as u8);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_colour_reads_on_its_background() {
        for (light, dark) in [("InspiredGitHub", "base16-ocean.dark"), ("Solarized (light)", "Monokai Extended")] {
            let css = css(light, dark).unwrap();
            let (light_css, dark_css) = css.split_once("@media").unwrap();
            for part in [light_css, dark_css] {
                let bg = rule_colour(part, "pre.code {", "background-color:").unwrap();
                let mut checked = 0;
                for rule in part.split_inclusive('}') {
                    let rule_bg = rule_colour(rule, "", "background-color:").unwrap_or(bg);
                    for (i, _) in rule.match_indices("color:").filter(|(i, _)| !rule[..*i].ends_with("background-")) {
                        let fg = hex(rule[i + 6..].trim_start()).unwrap();
                        let c = contrast(fg, rule_bg);
                        assert!(c >= 4.5, "{fg:?} on {rule_bg:?}: {c:.2}:1 in\n{rule}");
                        checked += 1;
                    }
                }
                assert!(checked > 10, "only {checked} colours checked");
            }
        }
        // The fix keeps the hue: InspiredGitHub's green stays green, only darker.
        let green = with_contrast([0x62, 0xa3, 0x5c], [255, 255, 255]);
        assert!(green[1] > green[0] && green[1] > green[2] && contrast(green, [255, 255, 255]) >= 4.5);
    }
}
