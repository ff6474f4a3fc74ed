//! `site.toml`: the site's configuration. Every key has a default; unknown keys are errors.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diagnostics::{Diagnostic, SourceFile};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub title: String,
    pub base_url: String,
    pub language: String,
    pub description: String,
    pub theme: String,
    pub build: BuildConfig,
    pub markdown: MarkdownConfig,
    pub publish: PublishConfig,
    pub attack: AttackConfig,
    pub pagination: PaginationConfig,
    /// `site.toml` as read: a later stage's error about one of its values points at it.
    #[serde(skip)]
    pub file: Option<Arc<SourceFile>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildConfig {
    pub output: String,
    pub drafts: bool,
    /// Where `build` keeps what it needs to rebuild only what changed, relative to the root.
    pub cache: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkdownConfig {
    pub unsafe_html: bool,
    pub highlight_theme: String,
    /// Used inside `prefers-color-scheme: dark`.
    pub highlight_theme_dark: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishConfig {
    pub tlp: Vec<toml::Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackConfig {
    pub catalog: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaginationConfig {
    pub per_page: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Breach Casebook".into(),
            base_url: "http://localhost".into(),
            language: "en".into(),
            description: String::new(),
            theme: "default".into(),
            build: BuildConfig::default(),
            markdown: MarkdownConfig::default(),
            publish: PublishConfig::default(),
            attack: AttackConfig::default(),
            pagination: PaginationConfig::default(),
            file: None,
        }
    }
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig { output: "public".into(), drafts: false, cache: ".casebook-cache".into() }
    }
}

impl Default for MarkdownConfig {
    fn default() -> Self {
        MarkdownConfig {
            unsafe_html: false,
            highlight_theme: "InspiredGitHub".into(),
            highlight_theme_dark: "base16-ocean.dark".into(),
        }
    }
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig { tlp: vec![toml::Spanned::new(0..0, "clear".into()), toml::Spanned::new(0..0, "green".into())] }
    }
}

impl Default for AttackConfig {
    fn default() -> Self {
        AttackConfig { catalog: "builtin".into() }
    }
}

impl Default for PaginationConfig {
    fn default() -> Self {
        PaginationConfig { per_page: 50 }
    }
}

/// What the command line may override.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub output: Option<std::path::PathBuf>,
    pub base_url: Option<String>,
    pub drafts: bool,
}

impl Config {
    /// Parses `site.toml` and checks the values serde cannot.
    pub fn parse(file: &Arc<SourceFile>) -> Result<Config, Vec<Diagnostic>> {
        let controls = crate::diagnostics::control_chars(file);
        if !controls.is_empty() {
            return Err(controls);
        }
        let mut config: Config = crate::toml_input::read(file, file.text(), 0, "config-invalid")?;
        let mut errors = Vec::new();
        match base_url(&config.base_url) {
            Ok(url) => config.base_url = url,
            Err(e) => errors.push(
                Diagnostic::error("config-invalid", format!("base_url: {e}"))
                    .at(file, key_span(file.text(), "base_url"))
                    .hint("write e.g. base_url = \"https://cases.example.org\" (the address the site is served from)"),
            ),
        }
        if let Err((e, hint)) = language_tag(&config.language) {
            errors.push(
                Diagnostic::error("lang-invalid", format!("language: {e}"))
                    .at(file, key_span(file.text(), "language"))
                    .hint(hint),
            );
        }
        for level in &config.publish.tlp {
            if Tlp::parse(level.get_ref()).is_none() {
                errors.push(
                    Diagnostic::error(
                        "config-invalid",
                        format!("unknown TLP level {:?} in [publish] tlp", level.get_ref()),
                    )
                    .at(file, level.span())
                    .hint("use clear, green, amber, amber+strict or red"),
                );
            }
        }
        if config.pagination.per_page == 0 {
            errors.push(
                Diagnostic::error("config-invalid", "[pagination] per_page must be at least 1")
                    .at(file, table_key_span(file.text(), "pagination", "per_page")),
            );
        }
        config.file = Some(file.clone());
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    pub fn apply(&mut self, overrides: &Overrides) {
        // `--base-url` was checked by the command line (`base_url`); trimming again is harmless.
        if let Some(url) = &overrides.base_url {
            self.base_url = url.trim_end_matches('/').to_string();
        }
        if overrides.drafts {
            self.build.drafts = true;
        }
    }

    /// `d`, pointed at `key` of `[table]` in `site.toml` (`""`: a key at the top).
    pub fn at_key(&self, table: &str, key: &str, d: Diagnostic) -> Diagnostic {
        match &self.file {
            Some(file) => d.at(file, table_key_span(file.text(), table, key)),
            None => d.in_path("site.toml"),
        }
    }

    pub fn publishes(&self, tlp: Tlp) -> bool {
        self.publish.tlp.iter().any(|l| Tlp::parse(l.get_ref()) == Some(tlp))
    }
}

/// Where `key = ...` is written at the top of `text` (for pointing at it), else the start.
fn key_span(text: &str, key: &str) -> std::ops::Range<usize> {
    table_key_span(text, "", key)
}

/// Where `key = ...` is written in `[table]` of `text` (`""`: at the top), else the start.
fn table_key_span(text: &str, table: &str, key: &str) -> std::ops::Range<usize> {
    let mut at = 0;
    let mut inside = table.is_empty();
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            if table.is_empty() {
                break;
            }
            inside = t.trim_end().trim_start_matches('[').trim_end_matches(']').trim() == table;
        } else if inside && t.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')) {
            let start = at + (line.len() - t.len());
            return start..at + line.trim_end().len();
        }
        at += line.len();
    }
    0..0
}

/// A site's address: an absolute http(s) URL with a host, no query or fragment; the
/// trailing `/` dropped. Used for `base_url` and `--base-url`.
pub fn base_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let bad = |why: &str| Err(format!("{url:?} is not a web address: {why}"));
    let lower = url.trim().to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return bad("it must start with https:// (or http://)");
    }
    if trimmed.len() <= "https:/".len() && trimmed.ends_with(':') {
        return bad("it names no host");
    }
    let uri: http::Uri = match trimmed.parse() {
        Ok(u) => u,
        Err(_) => return bad("it has characters a URL cannot have (spaces?)"),
    };
    match uri.host() {
        Some(h) if !h.is_empty() && !h.starts_with('.') && !h.ends_with('.') => {}
        _ => return bad("it names no host"),
    }
    if uri.query().is_some() || trimmed.contains('#') {
        return bad("a site's address has no `?` or `#` part");
    }
    Ok(trimmed.to_string())
}

/// A BCP 47 language tag that is in the IANA registry (`en`, `zh-Hant`, `pt-BR`), or
/// why not and what to write.
pub fn language_tag(tag: &str) -> Result<(), (String, String)> {
    const NAMES: [(&str, &str); 16] = [
        ("english", "en"),
        ("chinese", "zh"),
        ("japanese", "ja"),
        ("korean", "ko"),
        ("french", "fr"),
        ("german", "de"),
        ("spanish", "es"),
        ("portuguese", "pt"),
        ("italian", "it"),
        ("dutch", "nl"),
        ("russian", "ru"),
        ("arabic", "ar"),
        ("ukrainian", "uk"),
        ("polish", "pl"),
        ("hebrew", "he"),
        ("turkish", "tr"),
    ];
    let valid = language_tags::LanguageTag::parse(tag.trim()).is_ok_and(|t| t.validate().is_ok());
    if valid {
        return Ok(());
    }
    let lower = tag.trim().to_lowercase();
    let hint = match NAMES.iter().find(|(name, _)| *name == lower) {
        Some((_, code)) => format!("did you mean \"{code}\"? languages are written as BCP 47 tags"),
        None => "use a BCP 47 tag such as \"en\", \"zh\", \"ja\", \"pt-BR\" or \"zh-Hant\"".to_string(),
    };
    Err((format!("{tag:?} is not a language tag"), hint))
}

/// TLP 2.0 levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    #[serde(rename = "clear")]
    Clear,
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    pub fn parse(s: &str) -> Option<Tlp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "clear" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_web_addresses() {
        assert_eq!(base_url("https://cases.example.org/").unwrap(), "https://cases.example.org");
        assert_eq!(base_url("https://user.github.io/repo").unwrap(), "https://user.github.io/repo");
        assert!(base_url("http://localhost:1111").is_ok());
        for bad in ["notaurl", "https://", "ftp://x.example", "https://exa mple.org", "https://x.example/?a=1", "//x"] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
        assert!(base_url("https://").unwrap_err().ends_with("it names no host"));
    }

    #[test]
    fn languages_are_registered_tags() {
        for good in ["en", "zh", "zh-Hant", "pt-BR", "ja", "en-US"] {
            assert!(language_tag(good).is_ok(), "{good}");
        }
        let (_, hint) = language_tag("english").unwrap_err();
        assert!(hint.contains("\"en\""), "{hint}");
        assert!(language_tag("xx-notreal-tag-zz").is_err());
    }
}
