//! Export benchmark: STIX, Navigator and JSON exports with 100,000 indicators and
//! 100,000 technique mappings, in one case and spread over 1,000 cases.
//!
//! ```text
//! cargo run --release --example bench_stix [-- N]
//! ```
//!
//! Writes each site under a temporary folder, builds it with the library (as `casebook
//! build` does) and prints the build's wall time and the exports' part of it
//! (`build --timings`' "exports (JSON, Navigator, STIX)"). N (default 100,000) is the
//! number of indicators and of mappings; run it at N/2 and N to see that time grows
//! linearly.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use casebook::attack::Catalog;
use casebook::config::Overrides;
use casebook::engine::{self, Options};

/// Writes `cases` cases sharing `n` indicators and `n` technique mappings between them.
fn write_site(dir: &Path, cases: usize, n: usize) {
    let cat = Catalog::builtin();
    let techniques: Vec<&str> =
        (cat.techniques.iter()).filter(|t| !t.revoked && !t.deprecated).take(200).map(|t| t.id.as_str()).collect();
    std::fs::create_dir_all(dir.join("content/cases")).unwrap();
    std::fs::write(dir.join("site.toml"), "title = \"Bench\"\nbase_url = \"https://bench.example.org\"\n").unwrap();
    let per = n / cases;
    for c in 0..cases {
        let mut s = String::new();
        // Inline tables: one case must stay under the 8 MiB a text file may have.
        let _ = write!(
            s,
            "+++\ntitle = \"Case {c}\"\ndate = 2024-01-{:02}\norganizations = [\"Org {}\"]\n",
            1 + c % 28,
            c % 97
        );
        s.push_str("techniques = [\n");
        for k in 0..per {
            // Repeats of the same technique: the relationship keys that once cost a
            // quadratic loop.
            let _ = writeln!(s, "{{id=\"{}\"}},", techniques[(c * per + k) % techniques.len()]);
        }
        s.push_str("]\nindicators = [\n");
        for k in 0..per {
            let v = c * per + k;
            let _ = writeln!(s, "{{type=\"ip\",value=\"10.{}.{}.{}\"}},", (v >> 16) & 255, (v >> 8) & 255, v & 255);
        }
        s.push_str("]\n\n[incident]\nsectors = [\"Finance\"]\ncountries = [\"JP\"]\nactors = [\"G0016\"]\n");
        s.push_str("+++\nBody.\n");
        std::fs::write(dir.join(format!("content/cases/case-{c:05}.md")), s).unwrap();
    }
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    for cases in [1, 1000] {
        let dir = tempfile::tempdir().unwrap();
        write_site(dir.path(), cases, n);
        let start = Instant::now();
        let report = engine::run(
            &Options {
                root: dir.path().to_path_buf(),
                overrides: Overrides { output: Some(dir.path().join("public")), ..Default::default() },
                write: true,
                ..Default::default()
            },
            false,
        );
        let wall = start.elapsed();
        assert!(!report.diagnostics.has_errors(), "{:#?}", report.diagnostics.items.first());
        let exports = report.render_parts.iter().find(|(p, _)| p.starts_with("exports")).map_or(0, |p| p.1);
        let stix = std::fs::metadata(dir.path().join("public/stix-bundle.json")).map_or(0, |m| m.len());
        println!(
            "{n} indicators + {n} mappings in {cases} case(s): build {:.2} s, exports {:.2} s, stix-bundle.json {:.1} MB",
            wall.as_secs_f64(),
            exports as f64 / 1000.0,
            stix as f64 / 1e6
        );
    }
}
