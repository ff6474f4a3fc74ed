//! Showing diagnostics: for people (`human`), for tools (`json`), and as GitHub
//! workflow annotations (`github`).

use std::collections::HashMap;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;
use serde_json::json;

use crate::diagnostics::{Diagnostic, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Human,
    Json,
    Github,
}

pub(crate) fn format(diags: &[Diagnostic], format: Format) -> String {
    match format {
        Format::Human => human(diags),
        Format::Json => json(diags),
        Format::Github => github(diags),
    }
}

/// Why cases are left out, as `build` and `serve` say it when they count them.
pub(crate) const LEFT_OUT_WHY: &str = "draft, embargo or TLP; `casebook check` lists them";

/// What `build` and `serve` list: the problems. The cases left out are `check`'s to
/// list; they only count them (a site with a hundred embargoed cases would otherwise
/// repeat a hundred notes on every save).
pub(crate) fn problems(diags: &[Diagnostic]) -> Vec<Diagnostic> {
    diags.iter().filter(|d| d.code != "case-left-out").cloned().collect()
}

/// `error[code]: message` with the file, line and column and the line itself.
pub(crate) fn human(diags: &[Diagnostic]) -> String {
    let mut files = SimpleFiles::new();
    let mut ids: HashMap<*const crate::diagnostics::SourceFile, usize> = HashMap::new();
    let config = term::Config::default();
    let mut out = String::new();
    for d in diags {
        let severity = match d.severity {
            Severity::Error => CsSeverity::Error,
            Severity::Warning => CsSeverity::Warning,
            Severity::Note => CsSeverity::Note,
        };
        let mut cs = CsDiagnostic::new(severity).with_code(d.code.as_ref());
        let mut message = d.message.clone();
        match &d.location {
            Some(loc) if loc.range.as_ref().is_some_and(|r| valid_range(loc.file.text(), r)) => {
                let id = *ids
                    .entry(std::sync::Arc::as_ptr(&loc.file))
                    .or_insert_with(|| files.add(loc.file.path.clone(), loc.file.text().to_string()));
                let range = loc.range.clone().unwrap_or_default();
                cs = cs.with_labels(vec![Label::primary(id, range)]);
            }
            Some(loc) => message = format!("{}: {message}", loc.file.path),
            None => {
                if let Some(p) = &d.path {
                    message = format!("{p}: {message}");
                }
            }
        }
        cs = cs.with_message(message);
        if let Some(h) = &d.hint {
            cs = cs.with_notes(vec![format!("help: {h}")]);
        }
        match term::emit_into_string(&config, &files, &cs) {
            Ok(s) => out.push_str(&s),
            Err(_) => out.push_str(&format!("{}[{}]: {}\n", d.severity.as_str(), d.code, d.message)),
        }
    }
    out
}

fn valid_range(text: &str, r: &std::ops::Range<usize>) -> bool {
    r.start <= r.end && r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
}

/// One JSON document: `{"diagnostics": [...], "errors": N, "warnings": N}`.
pub(crate) fn json(diags: &[Diagnostic]) -> String {
    let items: Vec<_> = diags
        .iter()
        .map(|d| {
            let (file, lc) = d.position().unzip();
            let lc = lc.flatten();
            json!({
                "severity": d.severity.as_str(),
                "code": d.code,
                "file": file,
                "line": lc.map(|(l, _)| l),
                "column": lc.map(|(_, c)| c),
                "message": d.message,
                "hint": d.hint,
            })
        })
        .collect();
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    let doc = json!({
        "diagnostics": items,
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
        "notes": count(Severity::Note),
    });
    format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default())
}

/// `::error file=F,line=L,col=C,title=code::message` (notes as `::notice`).
pub(crate) fn github(diags: &[Diagnostic]) -> String {
    // Workflow commands take %, CR and LF escaped, and `,` `:` too in properties.
    fn data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn prop(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some((file, lc)) = d.position() {
            props.push(format!("file={}", prop(&file)));
            if let Some((l, c)) = lc {
                props.push(format!("line={l}"));
                props.push(format!("col={c}"));
            }
        }
        props.push(format!("title={}", prop(&d.code)));
        let mut msg = d.message.clone();
        if let Some(h) = &d.hint {
            msg.push_str(&format!("\nhelp: {h}"));
        }
        out.push_str(&format!("::{level} {}::{}\n", props.join(","), data(&msg)));
    }
    out
}
