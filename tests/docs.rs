//! The documentation keeps up with the code.

/// Every diagnostic code the code can emit is listed in docs/DIAGNOSTICS.md.
#[test]
fn every_diagnostic_code_is_documented() {
    let root = env!("CARGO_MANIFEST_DIR");
    let doc = std::fs::read_to_string(format!("{root}/docs/DIAGNOSTICS.md")).unwrap();
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(format!("{root}/src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            found.extend(codes_in(&text));
        }
    }
    assert!(found.len() > 40, "the scan finds the codes ({})", found.len());
    for code in found {
        assert!(doc.contains(&format!("| `{code}` |")), "{code} is not in docs/DIAGNOSTICS.md");
    }
}

/// String literals right after `error(`, `warning(`, `note(` or `Severity::X,`: the codes.
fn codes_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for opener in ["error(", "warning(", "note(", "Severity::Error,", "Severity::Warning,", "Severity::Note,"] {
        for (i, _) in text.match_indices(opener) {
            let rest = text[i + opener.len()..].trim_start();
            if let Some(lit) = rest.strip_prefix('"') {
                let code: String = lit.chars().take_while(|&c| c != '"').collect();
                if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()) {
                    out.push(code);
                }
            }
        }
    }
    out
}
