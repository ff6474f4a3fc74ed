//! Any bytes as a case file: parse (front matter and Markdown) must give a case or
//! diagnostics, never a panic, and every diagnostic must point inside the file.
//! Run: `cargo fuzz run case_file --sanitizer none` (works on stable).
#![no_main]

use casebook::diagnostics::SourceFile;
use casebook::load::ContentFile;
use casebook::parse::{case, markdown};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let content = ContentFile { slug: "fuzz".into(), file: SourceFile::new("content/cases/fuzz.md", text) };
    let (_, diags) = case::parse(&content, &markdown::Options::default());
    for d in diags {
        if let Some(r) = d.location.and_then(|l| l.range) {
            assert!(r.end <= text.len());
        }
    }
});
