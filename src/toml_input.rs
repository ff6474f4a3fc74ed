//! TOML the writer wrote (front matter, `site.toml`) read into our types, with every
//! problem of the file reported in the writer's words, not serde's.
//!
//! serde stops at the first wrong value. To report them all, the document is parsed
//! once into spanned values; after each error the entry it points at is taken out and
//! the rest is read again, until it reads or nothing more can be taken out.

use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use crate::diagnostics::{Diagnostic, SourceFile};

/// More errors than this in one file are a wrong file, not a list to read.
const MAX_ERRORS: usize = 50;

/// The nearest of `candidates` to `word` (ignoring case), if it is near enough to be
/// what was meant.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Reads `text` (which sits at `offset` in `file`) into `T`, or every problem found.
pub(crate) fn read<T: DeserializeOwned>(
    file: &Arc<SourceFile>,
    text: &str,
    offset: usize,
    code: &'static str,
) -> Result<T, Vec<Diagnostic>> {
    match read_partial(file, text, offset, code) {
        (Some(v), errors) if errors.is_empty() => Ok(v),
        (_, errors) => Err(errors),
    }
}

/// Like [`read`], and also `T` read from what is left once the wrong entries are taken
/// out (when that reads), so the caller can check the rest and report its problems too.
pub(crate) fn read_partial<T: DeserializeOwned>(
    file: &Arc<SourceFile>,
    text: &str,
    offset: usize,
    code: &'static str,
) -> (Option<T>, Vec<Diagnostic>) {
    let at = |d: Diagnostic, span: Option<Range<usize>>| match span {
        Some(r) => d.at(file, offset + r.start..offset + r.end),
        None => d.in_file(file),
    };
    let (root, syntax) = DeTable::parse_recoverable(text);
    // A raw control character is reported as such (`control-character`), not twice.
    let at_control = |e: &toml::de::Error| {
        e.span().and_then(|r| text.get(r.start..)).and_then(|t| t.chars().next()).is_some_and(is_control)
    };
    let syntax: Vec<_> = syntax.into_iter().filter(|e| !at_control(e)).collect();
    if !syntax.is_empty() {
        return (
            None,
            syntax
                .iter()
                .take(MAX_ERRORS)
                .map(|e| {
                    let (message, hint) = syntax_words(e.message(), text, e.span());
                    at(Diagnostic::error(code, format!("not valid TOML: {message}")).hint(hint), e.span())
                })
                .collect(),
        );
    }
    // Escapes (`\b`, `\u0008`) make control characters the text does not show.
    let mut errors: Vec<Diagnostic> = Vec::new();
    escaped_controls(root.get_ref(), &mut |span, c| {
        let d = Diagnostic::error(
            "control-character",
            format!("this text has a control character (U+{:04X}), written as an escape", c as u32),
        )
        .hint("remove the escape: control characters make the feed invalid XML and show as nothing");
        errors.push(at(d, Some(span)));
    });
    // What was taken out: a required key taken out for its wrong value is not "missing" too.
    let mut taken: Vec<String> = Vec::new();
    // Nearly every file reads at once: that try takes the table without copying it.
    let mut root = match T::deserialize(toml::de::Deserializer::from(root)) {
        Ok(v) => return (Some(v), errors),
        Err(_) => DeTable::parse_recoverable(text).0,
    };
    loop {
        match T::deserialize(toml::de::Deserializer::from(root.clone())) {
            Ok(v) => return (Some(v), errors),
            Err(e) => {
                let span = e.span();
                let path = span.as_ref().and_then(|s| take_out(root.get_mut(), s));
                let missing = e.message().strip_prefix("missing field `").and_then(|r| r.split('`').next());
                let echo = missing.is_some_and(|f| taken.iter().any(|t| t == f || t.ends_with(&format!(".{f}"))));
                if !echo {
                    let (message, hint) = words(e.message(), path.as_deref(), text, span.as_ref());
                    let mut d = Diagnostic::error(code, message);
                    if let Some(h) = hint {
                        d = d.hint(h);
                    }
                    errors.push(at(d, span));
                }
                if let Some(p) = &path {
                    taken.push(p.clone());
                }
                if path.is_none() || errors.len() >= MAX_ERRORS {
                    return (None, errors);
                }
            }
        }
    }
}

fn is_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Every string value holding a control character, with its span.
fn escaped_controls(table: &DeTable, found: &mut dyn FnMut(Range<usize>, char)) {
    fn value(v: &Spanned<DeValue>, found: &mut dyn FnMut(Range<usize>, char)) {
        match v.get_ref() {
            DeValue::String(s) => {
                if let Some(c) = s.chars().find(|&c| is_control(c)) {
                    found(v.span(), c);
                }
            }
            DeValue::Array(items) => items.iter().for_each(|i| value(i, found)),
            DeValue::Table(t) => escaped_controls(t, found),
            _ => {}
        }
    }
    for (_, v) in table.iter() {
        value(v, found);
    }
}

/// A TOML syntax error in the writer's words, and what to write.
fn syntax_words(message: &str, text: &str, span: Option<Range<usize>>) -> (String, String) {
    let message = one_line(message);
    let line_rest = span
        .and_then(|r| text.get(r.start..))
        // Up to the end of the line, or of the list item it is in.
        .map(|t| t.lines().next().unwrap_or("").split([',', ']', '}']).next().unwrap_or("").trim_end().to_string())
        .unwrap_or_default();
    let general = "values are written `key = value`; text goes in \"quotes\", lists in [brackets]".to_string();
    let what = message.split(", expected").next().unwrap_or(&message);
    let (said, hint) = match what {
        "string values must be quoted" => (
            "text must be in quotes".to_string(),
            if line_rest.is_empty() { general } else { format!("write \"{line_rest}\"") },
        ),
        "invalid basic string" => {
            ("this text has no closing `\"`".to_string(), "end the text with a `\"` on the same line".to_string())
        }
        "key with no value" => ("a key without `= value`".to_string(), general),
        "duplicate key" => {
            let name = line_rest.split('=').next().unwrap_or("").trim();
            let name = if name.is_empty() { "this key".to_string() } else { format!("`{name}`") };
            (format!("{name} is written twice"), "keep one of the two: TOML takes a key once per table".to_string())
        }
        "missing comma between array elements" => {
            ("a comma is missing between two items of the list".to_string(), "write e.g. [\"A\", \"B\"]".to_string())
        }
        w if w.starts_with("invalid date") || w.starts_with("invalid time") => (
            message.clone(),
            "dates are written 2025-03-05 (two-digit month and day); partial dates are strings: \"2019-09\""
                .to_string(),
        ),
        _ => (message.clone(), general),
    };
    (said, hint)
}

fn one_line(s: &str) -> String {
    s.trim_end().replace('\n', " ")
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
}

/// Takes the innermost entry that `span` points at out of the table; its dotted key.
fn take_out(table: &mut DeTable, span: &Range<usize>) -> Option<String> {
    let mut hit = None;
    for (k, v) in table.iter_mut() {
        let key: &str = k.get_ref();
        if let Some(inner) = take_out_value(v, span) {
            let key = key.to_string();
            // `[[techniqe]]` once: its only table taken out, the key goes too.
            if inner.is_empty() && matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
                let k = k.clone();
                table.remove(&k);
                return Some(key);
            }
            return Some(if inner.is_empty() { key } else { format!("{key}.{inner}") });
        }
        if covers(&k.span(), span) || covers(&v.span(), span) {
            hit = Some(k.clone());
        }
    }
    let hit = hit?;
    table.remove(&hit);
    Some(hit.into_inner().into_owned())
}

/// Inside a value: `Some("")` when an array item was taken out, `Some(path)` deeper.
fn take_out_value(v: &mut Spanned<DeValue>, span: &Range<usize>) -> Option<String> {
    match v.get_mut() {
        DeValue::Table(t) => take_out(t, span),
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                if let Some(p) = take_out_value(item, span) {
                    return Some(p);
                }
            }
            let at = items.iter().position(|i| covers(&i.span(), span))?;
            let mut kept = DeArray::new();
            for (n, item) in items.iter().enumerate() {
                if n != at {
                    kept.push(item.clone());
                }
            }
            *items = kept;
            Some(String::new())
        }
        _ => None,
    }
}

/// serde's message as the writer would say it, and what to write instead.
fn words(message: &str, path: Option<&str>, text: &str, span: Option<&Range<usize>>) -> (String, Option<String>) {
    let message = one_line(message);
    let key = path.map(|p| p.rsplit('.').next().unwrap_or(p).to_string());
    let named = match (&key, path) {
        (Some(k), Some(p)) if p.contains('.') => {
            format!("`{k}` in [{}]", p.rsplit_once('.').map_or("", |(t, _)| t))
        }
        (Some(k), _) => format!("`{k}`"),
        _ => "this value".to_string(),
    };
    let written = span.and_then(|s| text.get(s.clone())).unwrap_or("").trim();

    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        let hint = match did_you_mean(field, known.iter().map(String::as_str)) {
            Some(k) => format!("did you mean `{k}`?"),
            None if !known.is_empty() => format!("the keys allowed here are: {}", known.join(", ")),
            None => "this place takes no keys".to_string(),
        };
        return (format!("unknown key `{field}`"), Some(hint));
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        let hint = match did_you_mean(value, known.iter().map(String::as_str)) {
            Some(k) => format!("did you mean \"{k}\"?"),
            None => format!("write one of: {}", known.join(", ")),
        };
        return (format!("{named} cannot be \"{value}\""), Some(hint));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let hint = match field {
            "title" => "add a line such as title = \"Acme: customer records exposed\"",
            "date" => "add a line such as date = 2025-03-14",
            "organizations" => "add a line such as organizations = [\"Acme\"]",
            "name" => "add a line such as name = \"Acme\"",
            "id" => "each [[techniques]] entry needs id = \"T1078\" (an ATT&CK technique id)",
            "url" => "each [[references]] entry needs url = \"https://...\"",
            "event" => "each [[timeline]] entry needs event = \"what happened\"",
            _ => "add it; docs/cases.md lists what each file needs",
        };
        let place = path.filter(|p| !p.is_empty()).map(|p| format!(" in [{p}]")).unwrap_or_default();
        return (format!("`{field}` is missing{place}"), Some(hint.to_string()));
    }
    // An enum's value (`confidence`, `status`, `type`) that is not text.
    if message == "wanted string or table" {
        let msg = format!("{named} must be one of its words in quotes, not {written}");
        return (msg, Some("docs/cases.md lists the words each key takes".into()));
    }
    // A table written as a list (`incident = []`) or a list of tables (`[[incident]]`).
    if message.starts_with("invalid length") && message.contains("expected struct") {
        let hint = key.as_ref().map(|k| format!("write [{k}] on its own line, then its keys below it"));
        return (format!("{named} must be a table, not a list"), hint);
    }
    if message.starts_with("wanted exactly 1 element") {
        let hint = key.as_ref().map(|k| format!("write [{k}] with single brackets: there is one of it"));
        return (format!("{named} is one table, not a list of them"), hint);
    }
    if message.starts_with("invalid type:") || message.starts_with("invalid value:") {
        let expected = message.rsplit_once(", expected ").map_or("", |(_, e)| e);
        let whole = matches!(expected, "u64" | "u32" | "u16" | "u8" | "usize" | "i64" | "i32");
        let digits = written.trim_start_matches(['-', '+']).replace('_', "");
        // Digits serde would not take: out of the type's range.
        if whole && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return if written.starts_with('-') && !matches!(expected, "i64" | "i32") {
                (format!("{named} cannot be negative: {written}"), Some("write 0 or more".into()))
            } else {
                (format!("{named} is too large: {written}"), Some("check the figure against its source".into()))
            };
        }
        let (what, example) = expectation(expected, key.as_deref());
        let mut msg = format!("{named} must be {what}");
        if !written.is_empty() {
            msg.push_str(&format!(", not {written}"));
        }
        return (msg, example);
    }
    (message, None)
}

/// What a serde `expected ...` means for the writer, and an example.
fn expectation(expected: &str, key: Option<&str>) -> (String, Option<String>) {
    let number_example = match key {
        Some("per_page") => "50",
        _ => "17891",
    };
    match expected {
        "u64" | "u32" | "u16" | "u8" | "usize" => (
            format!("a whole number, like {number_example}"),
            Some("write digits only, without quotes; 17,891 is written 17891 or 17_891".into()),
        ),
        "i64" | "i32" => {
            (format!("a whole number, like {number_example}"), Some("write digits only, without quotes".into()))
        }
        "a boolean" => ("true or false".into(), Some("write true or false, without quotes".into())),
        "a string" => ("text in quotes".into(), Some("write e.g. \"Acme\"".into())),
        "a sequence" => ("a list".into(), Some("write e.g. [\"first\", \"second\"]".into())),
        "struct" | "a map" => ("a table".into(), None),
        e if e.starts_with("struct ") => ("a table".into(), None),
        e => (e.to_string(), None),
    }
}

/// The names in backticks of serde's "expected one of `a`, `b`".
fn backticked(s: &str) -> Vec<String> {
    s.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        title: String,
        #[serde(default)]
        count: Option<u64>,
        #[serde(default)]
        inner: Inner,
    }
    #[derive(Debug, Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        flag: Option<bool>,
        level: Option<Level>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Level {
        Low,
        High,
    }

    fn errors(text: &str) -> Vec<String> {
        let file = SourceFile::new("x.toml", text);
        match read::<T>(&file, text, 0, "x") {
            Ok(_) => Vec::new(),
            Err(ds) => ds.into_iter().map(|d| format!("{} | {}", d.message, d.hint.unwrap_or_default())).collect(),
        }
    }

    #[test]
    fn every_error_in_words() {
        let e = errors("title = \"t\"\ncount = \"17891\"\ntitel = 1\n[inner]\nflag = \"yes\"\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].starts_with("`count` must be a whole number, like 17891, not \"17891\""), "{e:?}");
        assert!(e.iter().any(|m| m.starts_with("unknown key `titel` | did you mean `title`?")), "{e:?}");
        assert!(e.iter().any(|m| m.starts_with("`flag` in [inner] must be true or false")), "{e:?}");
        assert_eq!(errors("title = \"t\""), Vec::<String>::new());
        assert!(errors("count = 1")[0].starts_with("`title` is missing"));
        assert!(errors("title = ")[0].starts_with("not valid TOML"));
        assert_eq!(errors("title = Acme breach")[0], "not valid TOML: text must be in quotes | write \"Acme breach\"");
        assert_eq!(errors("title = [Acme, B]")[0], "not valid TOML: text must be in quotes | write \"Acme\"");
    }

    #[test]
    fn shapes_and_sizes_in_words() {
        let first = |text: &str| errors(text).into_iter().next().unwrap_or_default();
        assert_eq!(first("title = \"t\"\ncount = -1"), "`count` cannot be negative: -1 | write 0 or more");
        assert!(first("title = \"t\"\ncount = 18446744073709551616").starts_with("`count` is too large"));
        assert!(first("title = \"t\"\ninner = []").starts_with("`inner` must be a table, not a list | write [inner]"));
        assert!(first("title = \"t\"\n[inner]\nlevel = 1").starts_with("`level` in [inner] must be one of its words"));
        assert!(first("title = \"t\"\ntitle = \"u\"").starts_with("not valid TOML: `title` is written twice"));
    }

    #[test]
    fn suggestions_are_near() {
        assert_eq!(did_you_mean("sumary", ["summary", "title"]), Some("summary"));
        assert_eq!(did_you_mean("zzz", ["summary", "title"]), None);
    }
}
