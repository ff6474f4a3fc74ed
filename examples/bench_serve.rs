//! Edit-to-visible latency of `casebook serve`.
//!
//! ```text
//! cargo run --release --example bench_serve -- gen DIR N
//! cargo run --release --example bench_serve -- run BINARY N [EDITS [PAUSE_MS]]
//! ```
//!
//! `gen` writes a site of N synthetic cases. `run` does that in a temporary folder,
//! starts `BINARY serve` on a free loopback port, and EDITS times (default 10), PAUSE_MS
//! (default 300) after the last, edits one
//! case's title, timing from the write until (a) the `reload` message reaches a
//! WebSocket client and (b) the new title is fetched over HTTP. Prints the median and
//! the worst of each. `scripts/bench-serve.sh` runs it at 1,000 and 10,000 cases.

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

pub fn case_text(i: usize, title: &str) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
    let year = 2010 + (i % 15);
    let month = 1 + i % 12;
    let day = 1 + i % 28;
    let orgs = if i.is_multiple_of(3) {
        format!("\"Org {}\", \"Group {}\"", i % 2000, i % 300)
    } else {
        format!("\"Org {}\"", i % 2000)
    };
    let mut s = format!(
        "+++\ntitle = \"{title}\"\ndate = {year}-{month:02}-{day:02}\norganizations = [{orgs}]\n\
         summary = \"Synthetic case {i} for the serve benchmark.\"\ntags = [\"{}\", \"{}\"]\n\n\
         [incident]\nstatus = \"confirmed\"\nsectors = [\"{}\"]\ncountries = [\"{}\"]\n\
         detected = {year}-{month:02}-{day:02}\n\n[impact]\nrecords = {}\ndata_types = [\"{}\"]\n",
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
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
    let (mut ws, _) =
        tungstenite::connect(format!("ws://{addr}/__casebook/ws")).map_err(|e| format!("websocket: {e}"))?;
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    }
    let agent = ureq::Agent::new_with_defaults();
    let target = 7 % n;
    let path = dir.join(format!("content/cases/case-{target:05}.md"));
    let url = format!("http://{addr}/cases/case-{target:05}/");
    let (mut to_reload, mut to_visible) = (Vec::new(), Vec::new());
    for e in 0..edits {
        let title = format!("Edited title {e} of case {target}");
        let text = case_text(target, &title);
        std::thread::sleep(Duration::from_millis(pause));
        let t0 = Instant::now();
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        loop {
            let msg = ws.read().map_err(|e| format!("websocket read: {e}"))?;
            if let tungstenite::Message::Text(t) = msg {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                let page = format!("/cases/case-{target:05}/");
                let pages = v["pages"].as_array().cloned().unwrap_or_default();
                if v["type"] == "reload" && (v["all"] == true || pages.iter().any(|p| *p == page)) {
                    break;
                }
                if v["type"] == "error" {
                    return Err(format!("the edit broke the build: {t}"));
                }
            }
        }
        to_reload.push(t0.elapsed().as_secs_f64() * 1000.0);
        loop {
            let body = agent
                .get(&url)
                .call()
                .map_err(|e| e.to_string())?
                .body_mut()
                .read_to_string()
                .map_err(|e| e.to_string())?;
            if body.contains(&title) {
                break;
            }
            if t0.elapsed() > Duration::from_secs(30) {
                return Err("the edit never became visible".into());
            }
        }
        to_visible.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let worst = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    println!(
        "{n} cases, {edits} edits {pause} ms apart: edit -> reload message: median {:.1} ms, worst {:.1} ms; \
         edit -> new page fetched: median {:.1} ms, worst {:.1} ms",
        median(&mut to_reload.clone()),
        worst(&to_reload),
        median(&mut to_visible.clone()),
        worst(&to_visible)
    );
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
