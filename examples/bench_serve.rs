//! Edit-to-visible latency of `casebook serve`.
//!
//! ```text
//! cargo run --release --example bench_serve -- gen DIR N
//! cargo run --release --example bench_serve -- run BINARY N [EDITS [PAUSE_MS]]
//! ```
//!
//! `gen` writes a site of N synthetic cases. `run` does that in a temporary folder,
//! starts `BINARY serve` on a free loopback port, and makes EDITS edits (default 10) of
//! each kind to one case, PAUSE_MS (default 300) apart: its title, a date that moves it
//! to another year, a technique added, its organization changed, TLP to amber. Each is
//! timed from the write until the page that shows the change, fetched over HTTP, shows
//! it (the case page, `/years/Y/`, `/techniques/T/`, `/organizations/O/`, and the case
//! page answering 404); the edit is then undone, untimed. Prints p50 and p95 per kind.
//! `scripts/bench-serve.sh` runs it at 1,000 and 10,000 cases.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TECHNIQUES: &[(&str, &str)] = &[
    ("T1078", "defense-evasion"),
    ("T1190", "initial-access"),
    ("T1566.001", "initial-access"),
    ("T1041", "exfiltration"),
    ("T1486", "impact"),
    ("T1059.001", "execution"),
    ("T1021.001", "lateral-movement"),
    ("T1003", "credential-access"),
    ("T1567.002", "exfiltration"),
    ("T1071.001", "command-and-control"),
];
const SECTORS: &[&str] =
    &["Telecommunications", "Healthcare", "Retail", "Finance", "Education", "Government", "Manufacturing", "Energy"];
const COUNTRIES: &[&str] = &["JP", "US", "DE", "FR", "GB", "KR", "AU", "BR", "IN", "CA"];
const TAGS: &[&str] = &["ransomware", "supply-chain", "phishing", "cloud", "insider", "vpn", "extortion"];
const DATA_TYPES: &[&str] = &["Names", "Email addresses", "Phone numbers", "Passwords"];

/// A small deterministic generator, so two runs make the same site.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// What an edit changes in a case.
#[derive(Default, Clone)]
struct Variant {
    title: Option<String>,
    year: Option<usize>,
    technique: Option<(&'static str, &'static str)>,
    org: Option<String>,
    tlp: Option<&'static str>,
}

pub fn case_text(i: usize, title: &str) -> String {
    variant_text(i, &Variant { title: Some(title.to_string()), ..Variant::default() })
}

fn variant_text(i: usize, v: &Variant) -> String {
    let default_title = format!("Case {i}");
    let title = v.title.as_deref().unwrap_or(&default_title);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
    let year = v.year.unwrap_or(2010 + (i % 15));
    let month = 1 + i % 12;
    let day = 1 + i % 28;
    let orgs = match &v.org {
        Some(o) => format!("{o:?}"),
        None if i.is_multiple_of(3) => format!("\"Org {}\", \"Group {}\"", i % 2000, i % 300),
        None => format!("\"Org {}\"", i % 2000),
    };
    let mut s = format!(
        "+++\ntitle = \"{title}\"\ndate = {year}-{month:02}-{day:02}\norganizations = [{orgs}]\n\
         summary = \"Synthetic case {i} for the serve benchmark.\"\ntlp = \"{}\"\ntags = [\"{}\", \"{}\"]\n\n\
         [incident]\nstatus = \"confirmed\"\nsectors = [\"{}\"]\ncountries = [\"{}\"]\n\
         detected = {year}-{month:02}-{day:02}\n\n[impact]\nrecords = {}\ndata_types = [\"{}\"]\n",
        v.tlp.unwrap_or("clear"),
        rng.pick(TAGS),
        rng.pick(TAGS),
        rng.pick(SECTORS),
        rng.pick(COUNTRIES),
        1000 + i * 7,
        rng.pick(DATA_TYPES),
    );
    let start = (rng.next() % TECHNIQUES.len() as u64) as usize;
    for k in 0..5 {
        let (id, tactic) = TECHNIQUES[(start + k * 3) % TECHNIQUES.len()];
        let _ = write!(s, "\n[[techniques]]\nid = \"{id}\"\ntactic = \"{tactic}\"\nconfidence = \"likely\"\n");
    }
    if let Some((id, tactic)) = v.technique {
        let _ = write!(s, "\n[[techniques]]\nid = \"{id}\"\ntactic = \"{tactic}\"\nconfidence = \"likely\"\n");
    }
    let _ = write!(s, "\n[[references]]\nurl = \"https://example.org/{i}\"\ntitle = \"Announcement {i}\"\n+++\n");
    for p in 0..4 {
        let _ = writeln!(
            s,
            "Paragraph {p} of case {i}. The intruders came in through an exposed service, \
             moved laterally over remote desktop, and took **data** out before encrypting \
             servers. The organization noticed on day {} and told regulators later.\n",
            p + i % 30
        );
    }
    s
}

pub fn generate(dir: &Path, n: usize) -> std::io::Result<()> {
    let cases = dir.join("content/cases");
    std::fs::create_dir_all(&cases)?;
    std::fs::write(dir.join("site.toml"), "title = \"Bench\"\nbase_url = \"https://bench.example.org\"\n")?;
    for i in 0..n {
        std::fs::write(cases.join(format!("case-{i:05}.md")), case_text(i, &format!("Case {i}")))?;
    }
    Ok(())
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value at quantile `q` of `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// One kind of edit: the change, the URL that shows it, and how to tell it does.
struct Kind {
    name: &'static str,
    edit: fn(usize, usize) -> Variant,
    url: fn(usize, usize) -> String,
    /// Whether the fetched page (status, body) shows the edit `e` of case `i`.
    shows: fn(usize, usize, u16, &str) -> bool,
}

fn kinds() -> Vec<Kind> {
    vec![
        Kind {
            name: "title",
            edit: |_, e| Variant { title: Some(format!("Edited title {e}")), ..Variant::default() },
            url: |i, _| format!("cases/case-{i:05}/"),
            shows: |_, e, status, body| status == 200 && body.contains(&format!("Edited title {e}")),
        },
        Kind {
            name: "date to another year",
            edit: |_, e| Variant { year: Some(1990 + e % 5), ..Variant::default() },
            url: |_, e| format!("years/{}/", 1990 + e % 5),
            shows: |i, _, status, body| status == 200 && body.contains(&format!("case-{i:05}/")),
        },
        Kind {
            name: "technique added",
            edit: |_, _| Variant { technique: Some(("T1110", "credential-access")), ..Variant::default() },
            url: |_, _| "techniques/T1110/".to_string(),
            shows: |i, _, status, body| status == 200 && body.contains(&format!("case-{i:05}/")),
        },
        Kind {
            name: "organization changed",
            edit: |_, e| Variant { org: Some(format!("Moved Org {e}")), ..Variant::default() },
            url: |_, e| format!("organizations/moved-org-{e}/"),
            shows: |i, _, status, body| status == 200 && body.contains(&format!("case-{i:05}/")),
        },
        Kind {
            name: "TLP to amber",
            edit: |_, _| Variant { tlp: Some("amber"), ..Variant::default() },
            url: |i, _| format!("cases/case-{i:05}/stix.json"),
            shows: |_, _, status, _| status == 404,
        },
    ]
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<(u16, String), String> {
    let mut r = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    Ok((status, r.body_mut().read_to_string().unwrap_or_default()))
}

/// Writes `text` and waits until `url` satisfies `done`; the time it took, in ms.
fn until(
    agent: &ureq::Agent,
    path: &Path,
    text: &str,
    url: &str,
    done: &dyn Fn(u16, &str) -> bool,
) -> Result<f64, String> {
    let t0 = Instant::now();
    std::fs::write(path, text).map_err(|e| e.to_string())?;
    loop {
        let (status, body) = fetch(agent, url)?;
        if done(status, &body) {
            return Ok(t0.elapsed().as_secs_f64() * 1000.0);
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err(format!("the edit never became visible at {url}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run(binary: &str, n: usize, edits: usize, pause: u64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("casebook-bench-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    generate(&dir, n).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["serve", "--port", "0", "--root"])
        .arg(&dir)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {binary}: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line =
            lines.next().ok_or("the server stopped before it said where it serves")?.map_err(|e| e.to_string())?;
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap_or(rest).to_string();
        }
    };
    // Drain the rest of stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    println!("{n} cases: first build and serving after {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let target = 7 % n;
    let path = dir.join(format!("content/cases/case-{target:05}.md"));
    let original = variant_text(target, &Variant::default());
    println!("| {n} cases: edit | p50 ms | p95 ms |\n| --- | ---: | ---: |");
    for kind in kinds() {
        let mut times = Vec::new();
        for e in 0..edits {
            std::thread::sleep(Duration::from_millis(pause));
            let text = variant_text(target, &(kind.edit)(target, e));
            let url = format!("http://{addr}/{}", (kind.url)(target, e));
            times.push(until(&agent, &path, &text, &url, &|s, b| (kind.shows)(target, e, s, b))?);
            // Undone, untimed: the page no longer shows the edit.
            std::thread::sleep(Duration::from_millis(pause));
            until(&agent, &path, &original, &url, &|s, b| !(kind.shows)(target, e, s, b))?;
        }
        println!("| {} | {:.0} | {:.0} |", kind.name, quantile(&times, 0.5), quantile(&times, 0.95));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["gen", dir, n] => generate(Path::new(dir), n.parse().unwrap_or(1000)).map_err(|e| e.to_string()),
        ["run", bin, n] => run(bin, n.parse().unwrap_or(1000), 10, 300),
        ["run", bin, n, edits] => run(bin, n.parse().unwrap_or(1000), edits.parse().unwrap_or(10), 300),
        ["run", bin, n, edits, pause] => {
            run(bin, n.parse().unwrap_or(1000), edits.parse().unwrap_or(10), pause.parse().unwrap_or(300))
        }
        _ => Err("usage: bench_serve gen DIR N | bench_serve run BINARY N [EDITS [PAUSE_MS]]".into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
