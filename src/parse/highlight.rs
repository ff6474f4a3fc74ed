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

/// Names of syntect's default themes and two-face's extra themes, sorted, deduplicated.
pub fn theme_names() -> Vec<String> {
    let defaults = ThemeSet::load_defaults();
    let extra = LazyThemeSet::from(two_face::theme::extra());
    let mut names: Vec<String> =
        defaults.themes.keys().cloned().chain(extra.theme_names().map(str::to_owned)).collect();
    names.sort();
    names.dedup();
    names
}

/// CSS for the `hl-` classes: `light` at top level, `dark` inside a
/// `prefers-color-scheme: dark` media query.
pub fn css(light: &str, dark: &str) -> Result<String, String> {
    let defaults = ThemeSet::load_defaults();
    let extra = LazyThemeSet::from(two_face::theme::extra());
    let find = |name: &str| -> Result<&Theme, String> {
        defaults.themes.get(name).or_else(|| extra.get(name)).ok_or_else(|| {
            let names = theme_names();
            match crate::toml_input::did_you_mean(name, names.iter().map(String::as_str)) {
                Some(near) => format!("unknown highlight theme `{name}`; did you mean `{near}`?"),
                None => format!("unknown highlight theme `{name}`; available themes: {}", names.join(", ")),
            }
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
    Ok(css.replacen(".hl-code {", "pre.code {", 1))
}
