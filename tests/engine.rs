//! The engine `serve` keeps warm against `casebook build` from nothing: after every edit of
//! a random sequence, the site held in memory is, file for file and byte for byte, what a
//! fresh build of the same files writes, and nothing else. So is what a build with the
//! build cache writes over its previous output.
//!
//! CI runs a fixed seed; `CASEBOOK_ENGINE_CASES=500 cargo test --test engine` runs longer.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use casebook::config::Overrides;
use casebook::engine::{self, Engine, Options, Target};
use casebook::write::Memory;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const SLUGS: [&str; 4] = ["alpha-2021", "beta-2022", "gamma-2023", "delta-2024"];
const TECHNIQUES: [&str; 4] = ["T1078", "T1566.001", "T1190", "T1486"];
/// Actors: none, an ATT&CK group, a person (written two ways: the first case to name
/// the person decides the shared STIX object), and one nobody.
const ACTORS: [&str; 5] = ["", "APT29", "Jane Roe", "jane roe ", "Unknown"];
/// Sectors: one STIX knows, one it does not (written two ways, as above).
const SECTORS: [&str; 3] = ["Retail", "Basket weaving", "basket-weaving"];

/// What a case is made of; every edit changes one of these.
#[derive(Debug, Clone)]
struct CaseSpec {
    title: String,
    year: u16,
    detected_month: u8,
    technique: usize,
    confidence: &'static str,
    evidence: String,
    tlp: &'static str,
    draft: bool,
    org: usize,
    link_to: Option<usize>,
    actor: usize,
    sector: usize,
    /// The case this one translates (only the last case translates).
    translation_of: Option<usize>,
}

#[derive(Debug, Clone)]
enum Edit {
    Title(usize, String),
    /// A date that moves the case to another year.
    Year(usize, u16),
    Detected(usize, u8),
    Technique(usize, usize),
    Confidence(usize, &'static str),
    Evidence(usize, String),
    Tlp(usize, &'static str),
    Draft(usize, bool),
    Org(usize, usize),
    Link(usize, Option<usize>),
    Rename(usize),
    Delete(usize),
    Restore(usize),
    OrgProfile(String),
    Template(String),
    SiteTitle(String),
    /// `base_url` (one of two) and whether TLP:AMBER is published.
    Settings(bool, bool),
    Actor(usize, usize),
    Sector(usize, usize),
    Translation(Option<usize>),
    /// A broken front matter, fixed by the next step.
    Broken(usize),
    /// A link to no page of the site, which only the link check of the rendered pages
    /// finds, fixed by the next step.
    BrokenLink(usize),
}

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["Breach", "Leak", "Intrusion", "Incident", "漏洩", "Exfiltration"]).prop_map(String::from)
}

fn edit() -> impl Strategy<Value = Edit> {
    let i = 0..SLUGS.len();
    prop_oneof![
        (i.clone(), word()).prop_map(|(i, w)| Edit::Title(i, w)),
        (i.clone(), 2019u16..2025).prop_map(|(i, y)| Edit::Year(i, y)),
        (i.clone(), 1u8..13).prop_map(|(i, m)| Edit::Detected(i, m)),
        (i.clone(), 0..TECHNIQUES.len()).prop_map(|(i, t)| Edit::Technique(i, t)),
        (i.clone(), prop::sample::select(vec!["confirmed", "likely", "possible", "unconfirmed"]))
            .prop_map(|(i, c)| Edit::Confidence(i, c)),
        (i.clone(), word()).prop_map(|(i, w)| Edit::Evidence(i, w)),
        (i.clone(), prop::sample::select(vec!["clear", "amber", "green"])).prop_map(|(i, t)| Edit::Tlp(i, t)),
        (i.clone(), any::<bool>()).prop_map(|(i, d)| Edit::Draft(i, d)),
        (i.clone(), 0usize..3).prop_map(|(i, o)| Edit::Org(i, o)),
        (i.clone(), prop::option::of(0..SLUGS.len())).prop_map(|(i, l)| Edit::Link(i, l)),
        i.clone().prop_map(Edit::Rename),
        i.clone().prop_map(Edit::Delete),
        i.clone().prop_map(Edit::Restore),
        word().prop_map(Edit::OrgProfile),
        word().prop_map(Edit::Template),
        word().prop_map(Edit::SiteTitle),
        (any::<bool>(), any::<bool>()).prop_map(|(u, a)| Edit::Settings(u, a)),
        (i.clone(), 0..ACTORS.len()).prop_map(|(i, a)| Edit::Actor(i, a)),
        (i.clone(), 0..SECTORS.len()).prop_map(|(i, s)| Edit::Sector(i, s)),
        prop::option::of(0..SLUGS.len() - 1).prop_map(Edit::Translation),
        i.clone().prop_map(Edit::Broken),
        i.prop_map(Edit::BrokenLink),
    ]
}

const ORGS: [&str; 3] = ["Example Corp", "Acme Holdings", "Nihon Shoji"];

struct Site {
    dir: tempfile::TempDir,
    cases: Vec<CaseSpec>,
    /// site.toml: title, the other `base_url`, TLP:AMBER published.
    settings: (String, bool, bool),
    /// The file name each case is written under (renames move it); None: deleted.
    names: Vec<Option<String>>,
    /// The files written or removed since last asked, as a watcher would report them.
    touched: std::cell::RefCell<Vec<PathBuf>>,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cases = (0..SLUGS.len())
            .map(|i| CaseSpec {
                title: format!("Case {i}"),
                year: 2021 + i as u16,
                detected_month: 3,
                technique: i % TECHNIQUES.len(),
                confidence: "confirmed",
                evidence: "Stated by the company.".into(),
                tlp: "clear",
                draft: false,
                org: i % 2,
                link_to: None,
                actor: i % ACTORS.len(),
                sector: 0,
                translation_of: None,
            })
            .collect();
        let names = SLUGS.iter().map(|s| Some(s.to_string())).collect();
        let touched = Default::default();
        let site = Site { dir, cases, settings: ("Engine test".into(), false, false), names, touched };
        site.write_settings();
        site.write(
            "content/organizations/example-corp.md",
            "+++\nname = \"Example Corp\"\naliases = [\"Example\"]\n+++\nA company.\n",
        );
        site.write("static/robots-note.txt", "static file\n");
        for i in 0..SLUGS.len() {
            site.write_case(i);
        }
        site
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file unless it already says `text`, as an editor saves only a change.
    fn write(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        if fs::read_to_string(&p).is_ok_and(|old| old == text) {
            return;
        }
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        self.touched.borrow_mut().push(p);
    }

    fn remove(&self, rel: &str) {
        let p = self.root().join(rel);
        fs::remove_file(&p).unwrap();
        self.touched.borrow_mut().push(p);
    }

    fn write_settings(&self) {
        let (title, other_url, amber) = &self.settings;
        let url = if *other_url { "https://other.test/cases/" } else { "https://cases.test" };
        let tlp = if *amber { "[\"clear\", \"green\", \"amber\"]" } else { "[\"clear\", \"green\"]" };
        self.write("site.toml", &format!("title = {title:?}\nbase_url = {url:?}\n\n[publish]\ntlp = {tlp}\n"));
    }

    fn case_text(&self, i: usize) -> String {
        let c = &self.cases[i];
        let link = match c.link_to.and_then(|j| self.names[j].as_ref()) {
            Some(name) if j_is_other(i, c.link_to) => format!("See [the other case](@/cases/{name}.md).\n"),
            _ => String::new(),
        };
        let translation = match c.translation_of.and_then(|j| self.names[j].as_ref()) {
            Some(name) => format!("lang = \"ja\"\ntranslation_of = {name:?}\n"),
            None => String::new(),
        };
        let actor = match ACTORS[c.actor] {
            "" => String::new(),
            a if a.to_lowercase().contains("roe") => format!("actors = [{a:?}]\nindividuals = [{a:?}]\n"),
            a => format!("actors = [{a:?}]\n"),
        };
        format!(
            "+++\ntitle = {:?}\ndate = {}-06-01\norganizations = [{:?}]\nsummary = \"Summary of {}.\"\n\
             tlp = {:?}\ndraft = {}\n{translation}\n[incident]\nsectors = [{:?}]\ncountries = [\"JP\"]\n{actor}\
             detected = \"{}-{:02}\"\n\n[[techniques]]\nid = {:?}\nconfidence = {:?}\nevidence = {:?}\n\n\
             [[timeline]]\ndate = {}-01-15\nevent = \"Something happened.\"\n+++\n\
             ## What happened\n\nA paragraph about case {i}.\n\n{link}",
            c.title,
            c.year,
            ORGS[c.org],
            c.title,
            c.tlp,
            c.draft,
            SECTORS[c.sector],
            c.year,
            c.detected_month,
            TECHNIQUES[c.technique],
            c.confidence,
            c.evidence,
            c.year,
        )
    }

    fn path_of(&self, i: usize) -> Option<String> {
        self.names[i].as_ref().map(|n| format!("content/cases/{n}.md"))
    }

    fn write_case(&self, i: usize) {
        if let Some(p) = self.path_of(i) {
            self.write(&p, &self.case_text(i));
        }
    }

    fn apply(&mut self, edit: &Edit) {
        match edit.clone() {
            Edit::Title(i, w) => self.cases[i].title = format!("{w} {i}"),
            Edit::Year(i, y) => self.cases[i].year = y,
            Edit::Detected(i, m) => self.cases[i].detected_month = m,
            Edit::Technique(i, t) => self.cases[i].technique = t,
            Edit::Confidence(i, c) => self.cases[i].confidence = c,
            Edit::Evidence(i, w) => self.cases[i].evidence = format!("{w} seen in the logs."),
            Edit::Tlp(i, t) => self.cases[i].tlp = t,
            Edit::Draft(i, d) => self.cases[i].draft = d,
            Edit::Org(i, o) => self.cases[i].org = o,
            Edit::Link(i, l) => self.cases[i].link_to = l,
            Edit::Actor(i, a) => self.cases[i].actor = a,
            Edit::Sector(i, s) => self.cases[i].sector = s,
            Edit::Translation(t) => self.cases[SLUGS.len() - 1].translation_of = t,
            Edit::Rename(i) => {
                if let Some(old) = self.path_of(i) {
                    self.remove(&old);
                    let name = self.names[i].take().unwrap();
                    self.names[i] = Some(format!("{name}-r"));
                }
            }
            Edit::Delete(i) => {
                if let Some(old) = self.path_of(i) {
                    self.remove(&old);
                    self.names[i] = None;
                }
            }
            Edit::Restore(i) => {
                if self.names[i].is_none() {
                    self.names[i] = Some(SLUGS[i].to_string());
                }
            }
            Edit::OrgProfile(w) => {
                // The profile's country: the victim is `located-at` it in STIX.
                let country = if w.len() % 2 == 0 { "JP" } else { "US" };
                self.write(
                    "content/organizations/acme-holdings.md",
                    &format!(
                        "+++\nname = \"Acme Holdings\"\nsectors = [\"Retail\"]\ncountries = [{country:?}]\n+++\n\
                         {w} holding company.\n"
                    ),
                )
            }
            Edit::Template(w) => {
                let base = String::from_utf8(casebook::load::builtin_template("404.html").unwrap().to_vec()).unwrap();
                self.write("templates/404.html", &format!("{{# {w} #}}{base}<!-- {w} -->"));
            }
            Edit::SiteTitle(w) => {
                self.settings.0 = format!("{w} casebook");
                self.write_settings();
            }
            Edit::Settings(url, amber) => {
                (self.settings.1, self.settings.2) = (url, amber);
                self.write_settings();
            }
            Edit::Broken(i) => {
                if let Some(p) = self.path_of(i) {
                    self.write(&p, "+++\ntitle = 12\ndate = \"not a date\"\n+++\nBroken.\n");
                }
                return;
            }
            Edit::BrokenLink(i) => {
                if let Some(p) = self.path_of(i) {
                    self.write(&p, &(self.case_text(i) + "\nSee [the report](../no-such-case/).\n"));
                }
                return;
            }
        }
        // Links to a case that is gone would be errors of their own: dropped with it.
        for j in 0..self.cases.len() {
            if self.cases[j].link_to.is_some_and(|k| self.names[k].is_none() || k == j) {
                self.cases[j].link_to = None;
            }
            if self.cases[j].translation_of.is_some_and(|k| self.names[k].is_none()) {
                self.cases[j].translation_of = None;
            }
        }
        for j in 0..self.cases.len() {
            self.write_case(j);
        }
    }
}

fn j_is_other(i: usize, j: Option<usize>) -> bool {
    j.is_some_and(|j| j != i)
}

fn options(root: &Path, output: Option<&Path>) -> Options {
    Options {
        root: root.to_path_buf(),
        overrides: Overrides { output: output.map(Path::to_path_buf), ..Default::default() },
        write: output.is_some(),
        now: Some("2025-06-01T00:00:00Z".parse().unwrap()),
        external: None,
        cache: false,
    }
}

/// What `casebook build` writes from nothing: every file, or None when it fails.
fn fresh_build(root: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("public");
    let report = engine::run(&options(root, Some(&dest)), false);
    if report.diagnostics.has_errors() {
        return None;
    }
    Some(tree(&dest))
}

/// What `casebook build` writes over its last output with the build cache.
/// Also why the cache was not used, if it was not.
fn cached_build(root: &Path, dest: &Path) -> (Option<BTreeMap<String, Vec<u8>>>, Option<String>) {
    let report = engine::run(&Options { cache: true, ..options(root, Some(dest)) }, false);
    let files = (!report.diagnostics.has_errors()).then(|| tree(dest));
    (files, report.cache)
}

/// An output folder's files, without the marker every build leaves in it.
fn tree(dest: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = common::tree(dest);
    files.remove(casebook::write::MARKER);
    files
}

fn held(memory: &Memory) -> BTreeMap<String, Vec<u8>> {
    memory.snapshot().iter().map(|(k, v)| (k.clone(), v.bytes().to_vec())).collect()
}

/// The first difference between two sites, for a readable failure.
fn diff(warm: &BTreeMap<String, Vec<u8>>, cold: &BTreeMap<String, Vec<u8>>) -> Option<String> {
    for (p, b) in cold {
        match warm.get(p) {
            None => return Some(format!("{p}: built, but not held by the engine")),
            Some(w) if w != b => return Some(format!("{p}: differs from a fresh build")),
            _ => {}
        }
    }
    warm.keys().find(|p| !cold.contains_key(*p)).map(|p| format!("{p}: held by the engine, but not built"))
}

fn check_sequence(edits: &[Edit]) -> Result<(), TestCaseError> {
    let mut site = Site::new();
    let memory = Memory::default();
    let mut engine = Engine::new(site.root().to_path_buf(), Overrides::default());
    // A second engine keeps what its declared inputs say is unchanged, as release builds
    // do; the first (debug: verifying) makes everything and checks those declarations.
    // The second is also told which files changed, as `serve`'s watcher tells it, and so
    // looks at no other file: what it holds must still equal a fresh build.
    let (keeping_memory, mut keeping) =
        (Memory::default(), Engine::new(site.root().to_path_buf(), Overrides::default()));
    keeping.set_verify(false);
    keeping.saw(Some(site.touched.take()));
    let opts = options(site.root(), None);
    let first = engine.run(&opts, false, Target::Memory(&memory));
    prop_assert!(!first.diagnostics.has_errors(), "{:?}", first.diagnostics.items);
    keeping.run(&opts, false, Target::Memory(&keeping_memory));
    let mut last_good = held(&memory);
    let cached_out = tempfile::tempdir().unwrap();
    let cached_dest = cached_out.path().join("public");
    let cold = fresh_build(site.root());
    prop_assert!(cached_build(site.root(), &cached_dest).0 == cold, "a first cached build differs from a fresh one");
    prop_assert!(cold.as_ref() == Some(&last_good), "the first run differs from a fresh build");
    let mut keeping_good = held(&keeping_memory);
    for (n, edit) in edits.iter().enumerate() {
        site.apply(edit);
        let report = engine.run(&opts, false, Target::Memory(&memory));
        keeping.saw(Some(site.touched.take()));
        // As a browser would: the pages of the cases, their exports and the home page were
        // just looked at, so the run shows those first (or shows them gone).
        for path in keeping_good.keys().filter(|p| {
            *p == "index.html" || (p.starts_with("cases/") && (p.ends_with("/index.html") || p.ends_with("/stix.json")))
        }) {
            keeping_memory.ask(path);
        }
        keeping.run(&opts, false, Target::Memory(&keeping_memory));
        let now = held(&memory);
        match fresh_build(site.root()) {
            Some(cold) => {
                prop_assert!(!report.diagnostics.has_errors(), "step {n} {edit:?}: {:?}", report.diagnostics.items);
                if let Some(d) = diff(&now, &cold) {
                    return Err(TestCaseError::fail(format!("after step {n} ({edit:?}) of {edits:?}: {d}")));
                }
                keeping_good = held(&keeping_memory);
                if let Some(d) = diff(&keeping_good, &cold) {
                    return Err(TestCaseError::fail(format!("keeping engine, step {n} ({edit:?}) of {edits:?}: {d}")));
                }
                let (cached, note) = cached_build(site.root(), &cached_dest);
                // Only a template edit makes the cache untrusted.
                prop_assert!(
                    note.as_ref().is_none_or(|n| matches!(edit, Edit::Template(_)) && n.contains("theme")),
                    "step {n} {edit:?}: {note:?}"
                );
                if let Some(d) = diff(&cached.unwrap_or_default(), &cold) {
                    return Err(TestCaseError::fail(format!("cached build, step {n} ({edit:?}) of {edits:?}: {d}")));
                }
                last_good = now;
            }
            None => {
                // A broken site: the engine says so and keeps serving the last good one.
                prop_assert!(
                    report.diagnostics.has_errors(),
                    "step {n} {edit:?}: a fresh build failed, the engine did not"
                );
                prop_assert!(now == last_good, "step {n} {edit:?}: the held site changed on a failed run");
                // What it showed early is put back too.
                prop_assert!(
                    held(&keeping_memory) == keeping_good,
                    "step {n} {edit:?}: the keeping engine's site changed on a failed run"
                );
            }
        }
        if let Edit::Broken(i) | Edit::BrokenLink(i) = edit {
            // Its fix: the case as it was.
            site.write_case(*i);
        }
    }
    Ok(())
}

#[test]
fn a_warm_engine_matches_a_fresh_build_after_every_edit() {
    let cases = std::env::var("CASEBOOK_ENGINE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    // A fixed seed: CI runs the same sequences every time.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&prop::collection::vec(edit(), 1..10), |edits| check_sequence(&edits));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn withdrawn_cases_leave_every_output() {
    // TLP clear -> amber, then draft, then deleted: nothing of the case stays anywhere.
    let site = Site::new();
    let memory = Memory::default();
    let mut engine = Engine::new(site.root().to_path_buf(), Overrides::default());
    let opts = options(site.root(), None);
    engine.run(&opts, false, Target::Memory(&memory));
    assert!(memory.get("cases/alpha-2021/stix.json").is_some());
    assert!(memory.get("cases/alpha-2021/attack-layer.json").is_some());
    let mut site = site;
    site.apply(&Edit::Tlp(0, "amber"));
    let r = engine.run(&opts, false, Target::Memory(&memory));
    assert!(!r.diagnostics.has_errors());
    for (path, bytes) in memory.snapshot().iter() {
        assert!(!path.contains("alpha-2021"), "{path} is still held after the case became TLP:AMBER");
        assert!(!String::from_utf8_lossy(&bytes.bytes()).contains("Case 0"), "{path} still shows the case");
    }
    assert!(r.changed.iter().any(|p| p == "cases/alpha-2021/stix.json"), "the withdrawn export is reported as changed");
}
