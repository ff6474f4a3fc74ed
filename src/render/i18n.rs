//! Interface strings: every word a theme puts around the content, in the page's language.
//!
//! Tables come from `i18n/LANG.toml` files, layered: the built-in theme's English first
//! (so strings made in Rust, and themes older than their own tables, always have one),
//! then the theme's files, then the site's own (its keys win). Templates ask by key with
//! `t(key="...")`; Rust code with [`tr`]. Neither passes a language: the page's is set
//! for the thread that renders it ([`with`], [`with_lang`]), as a locale is.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostics::Diagnostic;
use crate::load::{Template, STRINGS_SITE, STRINGS_THEME};
use crate::urls::Kind;

/// The language interface strings fall back to.
pub const FALLBACK: &str = "en";

/// Merged tables: language -> key -> text.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Strings {
    tables: HashMap<String, HashMap<String, String>>,
    /// Where each language's strings were read (theme, then site), for messages.
    files: BTreeMap<String, Vec<String>>,
}

/// `zh-Hans-CN` -> `zh`: tables are per primary language.
pub fn primary(lang: &str) -> String {
    lang.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase()
}

impl Strings {
    /// The tables of `templates`' string files (see [`crate::load`]), on top of the
    /// built-in English. Every malformed file is an error with its position.
    pub fn load(templates: &[Template]) -> Result<Strings, Vec<Diagnostic>> {
        let mut strings = Strings::default();
        let mut errors = Vec::new();
        if let Err(d) = strings.add(FALLBACK, &builtin_en(), None) {
            errors.push(d);
        }
        for prefix in [STRINGS_THEME, STRINGS_SITE] {
            for t in templates {
                let Some(lang) = t.name.strip_prefix(prefix).and_then(|n| n.strip_suffix(".toml")) else {
                    continue;
                };
                if let Err(d) = strings.add(&primary(lang), &t.file, Some(&t.file.path)) {
                    errors.push(d);
                }
            }
        }
        if errors.is_empty() {
            Ok(strings)
        } else {
            Err(errors)
        }
    }

    fn add(
        &mut self,
        lang: &str,
        file: &std::sync::Arc<crate::diagnostics::SourceFile>,
        name: Option<&str>,
    ) -> Result<(), Diagnostic> {
        let table: toml::Table = file.text().parse().map_err(|e: toml::de::Error| {
            let d = Diagnostic::error("i18n-invalid", format!("not a table of interface strings: {}", e.message()));
            match e.span() {
                Some(span) => d.at(file, span),
                None => d.in_file(file),
            }
        })?;
        let mut flat = Vec::new();
        flatten("", &table, &mut flat).map_err(|key| {
            Diagnostic::error("i18n-invalid", format!("{key:?} is not text: every interface string is a TOML string"))
                .in_file(file)
                .hint("write it as key = \"text\"; group keys with [tables]")
        })?;
        let entry = self.tables.entry(lang.to_string()).or_default();
        entry.extend(flat);
        if let Some(name) = name {
            self.files.entry(lang.to_string()).or_default().push(name.to_string());
        }
        Ok(())
    }

    /// The text of `key` in `lang`, else in English.
    pub fn get(&self, lang: &str, key: &str) -> Option<&str> {
        self.own(lang, key).or_else(|| self.own(FALLBACK, key))
    }

    /// The text of `key` in `lang`'s own tables only.
    fn own(&self, lang: &str, key: &str) -> Option<&str> {
        let table = |l: &str| self.tables.get(l).and_then(|t| t.get(key)).map(String::as_str);
        table(&lang.to_ascii_lowercase()).or_else(|| table(&primary(lang)))
    }

    /// `key` in `lang` with `{name}` replaced by `args`; with a `count` of 1, `KEY_one`
    /// when the table has it ("1 case", "2 cases"; languages without plurals need none).
    pub fn format(&self, lang: &str, key: &str, args: &[(&str, String)]) -> Option<String> {
        let one = args.iter().any(|(k, v)| *k == "count" && v == "1");
        // A language without plurals has no `_one`: its plain key serves, not English's `_one`.
        let singular = format!("{key}_one");
        let text = match self.own(lang, key) {
            Some(text) => one.then(|| self.own(lang, &singular)).flatten().unwrap_or(text),
            None => one.then(|| self.own(FALLBACK, &singular)).flatten().or_else(|| self.own(FALLBACK, key))?,
        };
        let mut out = text.to_string();
        for (k, v) in args {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        Some(out)
    }

    /// Warnings for what pages in `languages`, and every language a file is given for,
    /// show in English: one per key and language; one per language with no file at all.
    pub fn check(&self, languages: &BTreeSet<String>) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let Some(en) = self.tables.get(FALLBACK) else {
            return diags;
        };
        let mut langs: BTreeSet<String> = languages.iter().map(|l| primary(l)).collect();
        langs.extend(self.files.keys().cloned());
        langs.remove(FALLBACK);
        let mut keys: Vec<&String> = en.keys().collect();
        keys.sort();
        for lang in langs {
            let Some(table) = self.tables.get(&lang) else {
                diags.push(
                    Diagnostic::warning(
                        "i18n-missing",
                        format!("no interface strings for {lang:?}: pages in {lang} show the English interface"),
                    )
                    .in_path(format!("i18n/{lang}.toml"))
                    .hint(format!("copy the theme's i18n/en.toml to i18n/{lang}.toml and translate it")),
                );
                continue;
            };
            let file = self.files.get(&lang).and_then(|f| f.last()).cloned().unwrap_or_default();
            // `KEY_one` is optional where `KEY` is given: not every language has plurals.
            let missing = |k: &&&String| {
                !table.contains_key(k.as_str()) && k.strip_suffix("_one").is_none_or(|base| !table.contains_key(base))
            };
            for key in keys.iter().filter(missing) {
                diags.push(
                    Diagnostic::warning(
                        "i18n-missing",
                        format!("no string {key:?} for {lang:?}: pages in {lang} show the English {:?}", en[*key]),
                    )
                    .in_path(file.clone())
                    .hint(format!("add {key} to i18n/{lang}.toml (the site's own file wins over the theme's)")),
                );
            }
        }
        diags
    }
}

/// `[a] b = "x"` -> `("a.b", "x")`; `Err(key)` for a value that is not text.
fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => out.push((key, s.clone())),
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(key),
        }
    }
    Ok(())
}

fn builtin_en() -> Arc<crate::diagnostics::SourceFile> {
    let text = crate::load::builtin_file("i18n/en.toml").map(String::from_utf8_lossy).unwrap_or_default();
    crate::diagnostics::SourceFile::new("(built-in theme)/i18n/en.toml", text.into_owned())
}

/// The built-in English alone, for strings made outside a page (no [`with`] around).
fn builtin() -> &'static Arc<Strings> {
    static BUILTIN: OnceLock<Arc<Strings>> = OnceLock::new();
    BUILTIN.get_or_init(|| Arc::new(Strings::load(&[]).unwrap_or_default()))
}

thread_local! {
    /// The strings and language of the page this thread renders, innermost last.
    static STRINGS: RefCell<Vec<Arc<Strings>>> = const { RefCell::new(Vec::new()) };
    static LANG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `strings` in `lang` as the interface of this thread.
pub fn with<R>(strings: &Arc<Strings>, lang: &str, f: impl FnOnce() -> R) -> R {
    STRINGS.with(|s| s.borrow_mut().push(strings.clone()));
    let r = with_lang(lang, f);
    STRINGS.with(|s| s.borrow_mut().pop());
    r
}

/// Runs `f` with `lang` as the interface language of this thread.
pub fn with_lang<R>(lang: &str, f: impl FnOnce() -> R) -> R {
    LANG.with(|l| l.borrow_mut().push(lang.to_string()));
    let r = f();
    LANG.with(|l| l.borrow_mut().pop());
    r
}

/// The interface language of this thread's page.
pub fn lang() -> String {
    LANG.with(|l| l.borrow().last().cloned()).unwrap_or_else(|| FALLBACK.to_string())
}

fn current() -> Arc<Strings> {
    STRINGS.with(|s| s.borrow().last().cloned()).unwrap_or_else(|| builtin().clone())
}

/// `key` in the page's language; the key itself if no table has it (a Rust-side typo
/// shows, rather than failing a build).
pub fn tr(key: &str) -> String {
    trf(key, &[])
}

/// As [`tr`], with `{name}` placeholders filled.
pub fn trf(key: &str, args: &[(&str, String)]) -> String {
    current().format(&lang(), key, args).unwrap_or_else(|| key.to_string())
}

/// A term's name in the page's language: countries have a name per language
/// (`country.JP`); every other term is as its writers wrote it.
pub fn term_name(kind: Kind, slug: &str, name: &str) -> String {
    if kind == Kind::Countries {
        let key = format!("country.{}", slug.to_ascii_uppercase());
        let local = tr(&key);
        if local != key {
            return local;
        }
    }
    name.to_string()
}

/// The Tera function `t(key="...", lang=?, count=?, NAME=?)`.
pub struct Function(pub Arc<Strings>);

impl tera::Function for Function {
    fn call(&self, args: &HashMap<String, Value>) -> tera::Result<Value> {
        let key = args.get("key").and_then(Value::as_str).ok_or_else(|| tera::Error::msg("t() needs key=\"...\""))?;
        let lang = args.get("lang").and_then(Value::as_str).filter(|l| !l.is_empty()).map_or_else(lang, str::to_string);
        let mut named: Vec<(&str, String)> = args
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "key" | "lang"))
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    // A count is grouped (17,891); a year or a page number is not.
                    Value::Number(n) if k == "count" => {
                        n.as_i64().map_or_else(|| n.to_string(), |n| super::filters::group_digits(n.into()))
                    }
                    other => other.to_string(),
                };
                (k.as_str(), text)
            })
            .collect();
        named.sort();
        match self.0.format(&lang, key, &named) {
            Some(s) => Ok(Value::String(s)),
            None => Err(tera::Error::msg(format!(
                "no interface string {key:?} in any i18n/LANG.toml: add it to the theme's i18n/en.toml"
            ))),
        }
    }
}

/// The Tera function `i18n_strings()`: the whole table, so the render's Rust side reads
/// the same strings as the templates (see [`of`]).
pub struct Table(pub Value);

impl tera::Function for Table {
    fn call(&self, _: &HashMap<String, Value>) -> tera::Result<Value> {
        Ok(self.0.clone())
    }
}

/// Registers `t` and `i18n_strings` on `tera`.
pub fn register(tera: &mut tera::Tera, strings: Strings) {
    let table = serde_json::to_value(&strings).unwrap_or_default();
    tera.register_function("t", Function(Arc::new(strings)));
    tera.register_function("i18n_strings", Table(table));
}

/// The strings registered on `tera` (the built-in English if none are).
pub fn of(tera: &tera::Tera) -> Arc<Strings> {
    tera.get_function("i18n_strings")
        .ok()
        .and_then(|f| f.call(&HashMap::new()).ok())
        .and_then(|v| serde_json::from_value(v).ok())
        .map_or_else(|| builtin().clone(), Arc::new)
}
