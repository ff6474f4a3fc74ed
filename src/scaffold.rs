//! `casebook init` and `casebook new`: files a writer fills in.

use std::fs;
use std::path::{Path, PathBuf};

use crate::slug::{is_valid_slug, slugify};

/// Writes `content` to `path` unless something is there already.
fn create(path: &Path, content: &str) -> Result<PathBuf, String> {
    if path.exists() {
        return Err(format!("{} exists already; not overwriting it", path.display()));
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    fs::write(path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.to_path_buf())
}

fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

/// A new case: a draft until the writer is done, its placeholders those that
/// [`crate::parse::case::PLACEHOLDERS`] finds once it is not a draft any more.
pub(crate) fn case_template(date: &str) -> String {
    let [title, org, summary, url, ref_title, body] = crate::parse::case::PLACEHOLDERS;
    format!(
        r#"+++
title = "{title}"
date = {date}
organizations = ["{org}"]
summary = "{summary}"
draft = true                  # remove this line when the case is ready to publish
tlp = "clear"
tags = []

[incident]
status = "confirmed"          # confirmed | suspected
sectors = []                  # e.g. ["Retail"]
countries = []                # ISO 3166-1 alpha-2, e.g. ["US"]
actors = []                   # e.g. ["unknown"], or an ATT&CK group id such as "G0016"
# started = ">2024-09"        # partial dates: "2024", "2024-09", "~2024-09", ">2024-09", "<2025"
# detected = {date}
# disclosed = {date}

[impact]
# people = 1000               # records, people, organizations, accounts
data_types = []               # e.g. ["Names", "Email addresses"]

# [[techniques]]
# id = "T1078"                # an ATT&CK Enterprise technique id
# tactic = "initial-access"
# confidence = "likely"       # confirmed | likely | possible | unconfirmed
# evidence = "What in the sources supports this."

# [[timeline]]
# date = {date}
# event = "What happened that day."

[[references]]
url = "{url}"
title = "{ref_title}"
date = {date}
+++
{body}
"#
    )
}

/// `new case SLUG`'s argument as a case's slug, or why it cannot be one (the command
/// line refuses it with this, before anything is written).
pub(crate) fn case_slug(arg: &str) -> Result<String, String> {
    // `new case acme-2025.md` means the file acme-2025.md, not acme-2025.md.md.
    let slug = arg.strip_suffix(".md").unwrap_or(arg);
    if !is_valid_slug(slug) {
        return Err(format!("{slug:?} cannot be a slug: use a-z, 0-9 and -, e.g. acme-2025"));
    }
    Ok(slug.to_string())
}

/// `new org NAME`'s argument, if it makes a file name.
pub(crate) fn org_name(name: &str) -> Result<String, String> {
    if slugify(name).is_empty() {
        return Err(format!("{name:?} has no letter or digit to make a file name from"));
    }
    Ok(name.to_string())
}

pub(crate) fn new_case(root: &Path, slug: &str) -> Result<PathBuf, String> {
    let slug = case_slug(slug)?;
    let slug = slug.as_str();
    let cases = root.join("content/cases");
    if cases.join(slug).join("index.md").exists() {
        return Err(format!("{} exists already; not overwriting it", cases.join(slug).join("index.md").display()));
    }
    create(&cases.join(format!("{slug}.md")), &case_template(&today()))
}

pub(crate) fn new_org(root: &Path, name: &str) -> Result<PathBuf, String> {
    org_name(name)?;
    let slug = slugify(name);
    // A JSON string is a valid TOML basic string.
    let name_toml = serde_json::to_string(name).unwrap_or_default();
    let content = format!(
        "+++\nname = {name_toml}\naliases = []\nsectors = []\ncountries = []\n# website = \"https://example.org\"\n# parent = \"Parent company\"\n+++\nWho they are, in a few sentences.\n"
    );
    create(&root.join("content/organizations").join(format!("{slug}.md")), &content)
}

/// Where Casebook's releases are published: the workflow `init` writes installs from here.
pub(crate) const RELEASES_REPOSITORY: &str = "casebook-ssg/casebook";

/// The GitHub Actions workflow of a new site: installs this version of casebook from its
/// release (checksum verified), checks, builds and deploys to GitHub Pages.
pub(crate) fn site_workflow() -> String {
    include_str!("site_workflow.yml")
        .replace("{{VERSION}}", env!("CARGO_PKG_VERSION"))
        .replace("{{REPOSITORY}}", RELEASES_REPOSITORY)
}

pub(crate) fn init(dir: &Path) -> Result<PathBuf, String> {
    if dir.exists() && fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(format!("{} exists and is not empty", dir.display()));
    }
    let date = today();
    create(
        &dir.join("site.toml"),
        "title = \"Breach Casebook\"\nbase_url = \"https://cases.example.org\"\nlanguage = \"en\"\ndescription = \"Case studies of data breaches\"\n\n[publish]\ntlp = [\"clear\", \"green\"]\n",
    )?;
    // The lock, a killed commit's journal and staging folders beside the output.
    create(&dir.join(".gitignore"), "/public/\n/.casebook-cache/\n/.public.casebook-*\n")?;
    create(&dir.join(".github/workflows/casebook.yml"), &site_workflow())?;
    create(
        &dir.join("content/cases/example-2025.md"),
        &format!(
            r#"+++
title = "Example Corp: customer records exposed through a stolen password"
date = {date}
organizations = ["Example Corp"]
summary = "A fictional case to show the format: replace it with your first write-up."
tlp = "clear"
tags = ["example"]

[incident]
status = "confirmed"
sectors = ["Retail"]
countries = ["US"]
actors = ["unknown"]
started = ">2025-01"
detected = 2025-02-03
disclosed = 2025-02-20

[impact]
people = 1200
data_types = ["Names", "Email addresses"]

[[techniques]]
id = "T1078"
tactic = "initial-access"
confidence = "likely"
evidence = "The (fictional) company said an employee's password was used from abroad."

[[timeline]]
date = 2025-02-03
event = "Unusual sign-ins noticed."

[[references]]
url = "https://example.org/notice"
title = "Notice of a security incident (fictional)"
publisher = "Example Corp"
date = 2025-02-20
+++
This is an example. Write what happened, how it was found and what was exposed,
and link to [the technique](attack:T1078) or [the company](<org:Example Corp>).
"#
        ),
    )?;
    create(
        &dir.join("content/organizations/example-corp.md"),
        "+++\nname = \"Example Corp\"\naliases = [\"Example\"]\nsectors = [\"Retail\"]\ncountries = [\"US\"]\n+++\nA fictional retailer.\n",
    )?;
    Ok(dir.to_path_buf())
}
