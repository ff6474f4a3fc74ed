//! Load: walk the site, read every file it is made of, refuse what is outside it.
//!
//! Nothing here understands front matter; it only knows the layout of FORMAT.md
//! section 1 and hands on the files as text.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::config::Config;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::slug::is_valid_slug;

/// Larger Markdown files are refused: no write-up is this long, a mistake is.
pub const MAX_TEXT_BYTES: u64 = 8 * 1024 * 1024;

/// The default theme, compiled in by `build.rs`.
mod default_theme {
    include!(concat!(env!("OUT_DIR"), "/default_theme.rs"));
}

/// A Markdown file with the slug it is published under.
#[derive(Debug, Clone)]
pub struct ContentFile {
    pub slug: String,
    pub file: Arc<SourceFile>,
}

/// A file copied to the output as is.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Output path relative to the output root, `/`-separated.
    pub dest: String,
    pub data: AssetData,
}

#[derive(Debug, Clone)]
pub enum AssetData {
    File(PathBuf),
    Builtin(&'static [u8]),
}

/// Names under which interface strings ride with the templates (`PREFIX` + `LANG.toml`):
/// the theme's `i18n/` and the site's own. No template file can have these names.
pub const STRINGS_THEME: &str = "i18n:theme/";
pub const STRINGS_SITE: &str = "i18n:site/";

/// A file of the theme: a Tera template, or a table of interface strings (named
/// [`STRINGS_THEME`]/[`STRINGS_SITE`] + `LANG.toml`), kept together so that whatever
/// compiles and caches the one does the same with the other.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub file: Arc<SourceFile>,
}

#[derive(Debug, Default)]
pub struct Sources {
    pub cases: Vec<ContentFile>,
    pub organizations: Vec<ContentFile>,
    pub pages: Vec<ContentFile>,
    /// Theme templates with the site's `templates/` overrides applied.
    pub templates: Vec<Template>,
    /// Theme static, then the site's `static/`, then case bundle assets (later wins).
    pub assets: Vec<Asset>,
}

/// Reads `site.toml` (missing is fine: every key has a default).
pub fn read_config(root: &Path) -> Result<Arc<SourceFile>, Diagnostic> {
    let path = root.join("site.toml");
    if !root.is_dir() {
        return Err(Diagnostic::error("site-missing", format!("{} is not a folder", root.display())));
    }
    if !path.exists() {
        return Ok(SourceFile::new("site.toml", ""));
    }
    read_text(root, &path)
}

/// Content files read by an earlier load, by path, with the stamp they had then
/// ([`FileStamp`]): one that still has it is not read again. `serve` keeps this from
/// run to run; the build cache keeps it between builds ([`Known::stored`]), with the
/// fingerprint of each text instead of the text, so a build after one edit reads one
/// file, not ten thousand.
/// Like git's index, a file changed less than [`SETTLED`] before it was read is read
/// again next time: a second write within the clock's tick would leave its stamp unchanged.
#[derive(Debug, Default)]
pub struct Known {
    files: std::collections::HashMap<Arc<Path>, KnownFile>,
    /// Whether the last load stamped a file anew or dropped one.
    changed: bool,
    /// How many content files the last load read, and how many it knew by their stamps.
    counts: (usize, usize),
    /// Each content folder as the last load listed it: kept while what changed is known
    /// (`serve`'s watcher) and no file was added to it or taken away.
    listings: std::collections::HashMap<PathBuf, Listing>,
}

/// The files under a folder, as [`walk_files`] found them, with what it said.
#[derive(Debug)]
struct Listing {
    /// Sorted; shared with the [`Known`] files, so a listing kept costs no copy of a path.
    files: Vec<Arc<Path>>,
    diags: Vec<Diagnostic>,
}

impl Listing {
    /// Whether the files `changed` (some perhaps elsewhere) leave this listing of `dir`
    /// as it is: each is still a file if it was one, and still none if it was not.
    fn holds(&self, dir: &Path, changed: &[PathBuf]) -> bool {
        // The folder itself, or one above it, made, moved or removed: listed again.
        if changed.iter().any(|p| dir.starts_with(p)) {
            return false;
        }
        changed.iter().filter_map(|p| Some((p, p.strip_prefix(dir).ok()?))).all(|(p, rel)| {
            // What the walk skips (an editor's swap file) changes no listing.
            if rel.iter().any(|c| skipped(&c.to_string_lossy())) {
                return true;
            }
            match fs::symlink_metadata(p) {
                Ok(meta) if meta.file_type().is_file() => self.files.binary_search_by(|q| (**q).cmp(p)).is_ok(),
                // A folder, or a link: listed again (rare).
                Ok(_) => false,
                // Gone: it was no file, nor a folder of any.
                Err(_) => {
                    let at = self.files.partition_point(|q| **q < **p);
                    !self.files.get(at).is_some_and(|q| q.starts_with(p))
                }
            }
        })
    }
}

/// A file as an earlier load read it: its stamp, text, and what the check for control
/// characters said of it (the text is the same, so is that).
#[derive(Debug)]
struct KnownFile {
    stamp: FileStamp,
    file: Arc<SourceFile>,
    controls: Vec<Diagnostic>,
}

/// How long ago a file must have changed for its stamp to be trusted: longer than the
/// coarsest times a file system keeps (FAT's two seconds), so that any later write,
/// even of the same size, gives the file another time.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

/// What tells that a file was not written to since: its size, its modification time,
/// and (on Unix) its device, inode and the time of its last change, which any write,
/// truncation, rename, `touch` or restore from an archive sets to the clock and no
/// program can set back. Content files are known by it ([`Known`]), and so is the
/// build cache's own piece file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileStamp {
    len: u64,
    /// Nanoseconds since the epoch.
    modified: i128,
    changed: i128,
    device: u64,
    inode: u64,
}

impl FileStamp {
    /// The stamp of a file with this metadata. Elsewhere than on Unix there is no change
    /// time: only size and modification time tell.
    pub fn of(meta: &fs::Metadata) -> Option<FileStamp> {
        let modified = nanos(meta.modified().ok()?)?;
        #[cfg(unix)]
        let (changed, device, inode) = {
            use std::os::unix::fs::MetadataExt;
            (i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()), meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (changed, device, inode) = (0, 0, 0);
        Some(FileStamp { len: meta.len(), modified, changed, device, inode })
    }

    /// The stamp of a file with this metadata, if it settled: changed at least
    /// [`SETTLED`] ago.
    fn settled(meta: &fs::Metadata) -> Option<FileStamp> {
        let stamp = Self::of(meta)?;
        let before = nanos(std::time::SystemTime::now().checked_sub(SETTLED)?)?;
        (stamp.modified < before && stamp.changed < before).then_some(stamp)
    }
}

/// Nanoseconds since the epoch.
fn nanos(t: std::time::SystemTime) -> Option<i128> {
    i128::try_from(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos()).ok()
}

/// A file of [`Known`] as the build cache keeps it: the fingerprint of its text stands
/// for the text, which is read again only if something asks for it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredFile {
    path: PathBuf,
    shown: String,
    stamp: FileStamp,
    text: crate::fingerprint::Fingerprint,
    controls: Vec<Diagnostic>,
}

impl Known {
    /// What the build cache keeps of it. Paths are kept relative to the site's `root`, so
    /// the cache holds for the same files however the root is spelled, and wherever the
    /// site folder was moved to.
    pub fn stored(&self, root: &Path) -> Vec<StoredFile> {
        let mut files: Vec<StoredFile> = self
            .files
            .iter()
            .map(|(path, k)| StoredFile {
                path: path.strip_prefix(root).unwrap_or(path).to_path_buf(),
                shown: k.file.path.clone(),
                stamp: k.stamp,
                text: k.file.text_hash(),
                controls: k.controls.clone(),
            })
            .collect();
        // Any fixed order will do (the same cache, the same bytes): bytes, not components.
        files.sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
        files
    }

    /// The files the build cache kept (under `root`), to be read only if their stamp changed.
    pub fn restored(files: Vec<StoredFile>, root: &Path) -> Known {
        let files = files
            .into_iter()
            .map(|f| {
                let path = root.join(&f.path);
                let file = SourceFile::unread(f.shown, path.clone(), f.text);
                let mut controls = f.controls;
                for d in &mut controls {
                    if let Some(at) = &mut d.location {
                        at.file = file.clone();
                    }
                }
                (Arc::from(path), KnownFile { stamp: f.stamp, file, controls })
            })
            .collect();
        Known { files, ..Known::default() }
    }

    /// How many content files the last load read, and how many it knew by their stamps
    /// (`build --timings` says so: in CI, a fresh checkout stamps every file anew).
    pub fn counts(&self) -> (usize, usize) {
        self.counts
    }

    /// Whether the last load stamped a file anew or dropped one: the stamps a cache keeps
    /// changed.
    pub fn changed(&self) -> bool {
        self.changed
    }
}

/// Loads the site. `changed`: the files written to, made or removed since the last load
/// with this `known` (`serve`'s watcher says so), so that only those are looked at again
/// and a content folder is listed again only if one of them was added to it or taken
/// from it; `None` when that is not known (`build`), and everything is looked at.
pub fn load(
    root: &Path,
    config: &Config,
    known: &mut Known,
    changed: Option<&[PathBuf]>,
) -> (Sources, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut before = std::mem::take(known);
    known.files.reserve(before.files.len());
    let mut sources = Sources::default();
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut walk = |dir: &str, known: &mut Known, diags: &mut Vec<Diagnostic>| {
        let dir = root.join(dir);
        let listing = match (before.listings.remove(&dir), changed) {
            (Some(listing), Some(changed)) if listing.holds(&dir, changed) => listing,
            _ => {
                let mut said = Vec::new();
                let files = walk_files(root, &canonical_root, &dir, &mut said).into_iter().map(Arc::from).collect();
                Listing { files, diags: said }
            }
        };
        diags.extend(listing.diags.iter().cloned());
        let files = listing.files.clone();
        known.listings.insert(dir, listing);
        files
    };
    let [case_files, org_files, page_files] = CONTENT_DIRS.map(|d| walk(&format!("content/{d}"), known, &mut diags));
    // Unless the watcher says which files changed, each is asked its stamp.
    let changed: Option<std::collections::HashSet<&Path>> = changed.map(|c| c.iter().map(PathBuf::as_path).collect());
    let look = Look { before: &before, changed: changed.as_ref() };

    misplaced(root, &mut diags);
    // Cases: `cases/SLUG.md` or a bundle `cases/SLUG/index.md` with its assets.
    let mut case_paths = Vec::with_capacity(case_files.len());
    let mut bundles_without_index = std::collections::BTreeMap::<String, Vec<String>>::new();
    let cases_dir = root.join("content/cases");
    for path in case_files {
        let rel = path.strip_prefix(&cases_dir).unwrap_or(&path);
        let mut parts = rel.iter().map(|p| p.to_string_lossy());
        let (first, second) = (parts.next().unwrap_or_default(), parts.next());
        match second {
            None if first.ends_with(".md") => case_paths.push((first.trim_end_matches(".md").to_string(), path)),
            Some(file) if file == "index.md" && parts.next().is_none() => case_paths.push((first.into_owned(), path)),
            Some(_) => {
                let dir = first.into_owned();
                let inside = rel.strip_prefix(&dir).unwrap_or(rel).to_string_lossy().replace('\\', "/");
                if !cases_dir.join(&dir).join("index.md").is_file() {
                    bundles_without_index.entry(dir.clone()).or_default().push(inside.clone());
                }
                // A bundle's folder name is its slug: checked when its index.md is read.
                if is_valid_slug(&dir) {
                    let dest = format!("cases/{dir}/{inside}");
                    sources.assets.push(Asset { dest, data: AssetData::File(path.to_path_buf()) });
                }
            }
            None => diags.push(not_markdown(&first, "case", "content/cases/SLUG.md").in_path(display(root, &path))),
        }
    }
    for (dir, files) in bundles_without_index {
        let md: Vec<&String> = files.iter().filter(|f| f.ends_with(".md") && !f.contains('/')).collect();
        let hint = match md.as_slice() {
            [one] => format!("rename {one} to index.md to make the folder the case `{dir}`"),
            _ => format!("a case bundle is content/cases/{dir}/index.md with its files beside it"),
        };
        diags.push(
            Diagnostic::warning(
                "content-ignored",
                "this folder has no index.md, so it is not a case; its files are only copied",
            )
            .in_path(format!("content/cases/{dir}/"))
            .hint(hint),
        );
    }
    // One slug, one case: `x.md` beside `x/index.md` would overwrite each other.
    case_paths.sort();
    let mut unique: Vec<(String, Arc<Path>)> = Vec::with_capacity(case_paths.len());
    for (slug, path) in case_paths {
        match unique.last() {
            Some((last, kept)) if *last == slug => diags.push(
                Diagnostic::error(
                    "case-duplicate",
                    format!(
                        "{} makes the same case `{slug}`: both would be /cases/{slug}/, one overwriting the other",
                        display(root, kept)
                    ),
                )
                .in_path(display(root, &path))
                .hint(format!("keep one: a case is either content/cases/{slug}.md or content/cases/{slug}/index.md")),
            ),
            _ => unique.push((slug, path)),
        }
    }
    let case_paths = unique;
    sources.cases = read_content(root, case_paths, "case", (&look, known), &mut diags);

    for (dir, kind, listed, target) in
        [("content/organizations", "organization", org_files, 0), ("content/pages", "page", page_files, 1)]
    {
        let mut paths = Vec::new();
        for path in listed {
            let rel = path.strip_prefix(root.join(dir)).unwrap_or(&path);
            match rel.to_str() {
                Some(name) if name.ends_with(".md") && !name.contains(['/', '\\']) => {
                    paths.push((name.trim_end_matches(".md").to_string(), path))
                }
                Some(name) if !name.contains(['/', '\\']) => {
                    diags.push(not_markdown(name, kind, &format!("{dir}/SLUG.md")).in_path(display(root, &path)))
                }
                _ => diags.push(
                    Diagnostic::warning(
                        "content-ignored",
                        format!("not read: {kind} files sit directly in {dir}/, not in a folder below it"),
                    )
                    .in_path(display(root, &path))
                    .hint(format!("move it to {dir}/SLUG.md")),
                ),
            }
        }
        let files = read_content(root, paths, kind, (&look, known), &mut diags);
        if target == 0 {
            sources.organizations = files
        } else {
            sources.pages = files
        }
    }
    known.changed |= known.files.len() != before.files.len();

    // Theme: a folder of the site's own, else the compiled-in default.
    let theme_dir = root.join("themes").join(&config.theme);
    let mut templates = std::collections::BTreeMap::new();
    if theme_dir.is_dir() {
        load_named(root, &canonical_root, &theme_dir.join("templates"), "", &mut templates, &mut diags);
        load_named(root, &canonical_root, &theme_dir.join("i18n"), STRINGS_THEME, &mut templates, &mut diags);
        add_static(root, &canonical_root, &theme_dir.join("static"), &mut sources.assets, &mut diags);
    } else if config.theme == "default" {
        for (path, bytes) in default_theme::FILES {
            if let Some(name) = path.strip_prefix("templates/") {
                let text = String::from_utf8_lossy(bytes).into_owned();
                let file = SourceFile::new(format!("(built-in theme)/templates/{name}"), text);
                templates.insert(name.to_string(), Template { name: name.to_string(), file });
            } else if let Some(name) = path.strip_prefix("i18n/") {
                let text = String::from_utf8_lossy(bytes).into_owned();
                let file = SourceFile::new(format!("(built-in theme)/i18n/{name}"), text);
                let name = format!("{STRINGS_THEME}{name}");
                templates.insert(name.clone(), Template { name, file });
            } else if let Some(dest) = path.strip_prefix("static/") {
                sources.assets.push(Asset { dest: dest.to_string(), data: AssetData::Builtin(bytes) });
            }
        }
    } else {
        diags.push(
            config
                .at_key(
                    "",
                    "theme",
                    Diagnostic::error(
                        "theme-missing",
                        format!("theme {:?} not found: no folder themes/{}", config.theme, config.theme),
                    ),
                )
                .hint({
                    let themes: Vec<String> = fs::read_dir(root.join("themes"))
                        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                        .unwrap_or_default();
                    match crate::toml_input::did_you_mean(&config.theme, themes.iter().map(String::as_str)) {
                        Some(near) => format!("did you mean theme = \"{near}\"?"),
                        None => "create the folder, or use theme = \"default\"".to_string(),
                    }
                }),
        );
    }
    load_named(root, &canonical_root, &root.join("templates"), "", &mut templates, &mut diags);
    load_named(root, &canonical_root, &root.join("i18n"), STRINGS_SITE, &mut templates, &mut diags);
    sources.templates = templates.into_values().collect();
    // Site static goes after the theme's so it overrides; bundle assets were pushed first
    // but live under cases/, which static/ has no reason to shadow.
    add_static(root, &canonical_root, &root.join("static"), &mut sources.assets, &mut diags);
    (sources, diags)
}

/// The folders a site may have under `content/`, and at its root (beside `site.toml`):
/// the one place the input layout is spelled (serve watches these, the output may not
/// be inside them).
const CONTENT_DIRS: [&str; 3] = ["cases", "organizations", "pages"];
pub(crate) const ROOT_DIRS: [&str; 5] = ["content", "templates", "static", "themes", "i18n"];

/// Folders and files where nothing is read: a typo in a folder name must not make a
/// write-up vanish without a word.
fn misplaced(root: &Path, diags: &mut Vec<Diagnostic>) {
    let entries = |dir: &Path| -> Vec<(String, bool)> {
        let mut v: Vec<(String, bool)> = fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().is_dir()))
                    .filter(|(n, _)| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    // A site with no content/ is an empty one; a file by that name is a mistake.
    for at in std::iter::once("content".to_string()).chain(CONTENT_DIRS.iter().map(|d| format!("content/{d}"))) {
        let path = root.join(&at);
        if path.exists() && !path.is_dir() {
            diags.push(
                Diagnostic::error("content-not-folder", format!("{at} is a file, not a folder: nothing in it is read"))
                    .in_path(at.clone())
                    .hint(format!("{at}/ is a folder of Markdown files: move this file away and make the folder")),
            );
        }
    }
    for (name, is_dir) in entries(&root.join("content")) {
        if is_dir && CONTENT_DIRS.contains(&name.as_str()) {
            continue;
        }
        let mut d = Diagnostic::warning(
            "content-ignored",
            if is_dir {
                "this folder is not read: content/ holds only cases/, organizations/ and pages/"
            } else {
                "this file is not read: content/ holds only the folders cases/, organizations/ and pages/"
            },
        )
        .in_path(format!("content/{name}{}", if is_dir { "/" } else { "" }));
        let stem = name.trim_end_matches(".md");
        d = match crate::toml_input::did_you_mean(stem, CONTENT_DIRS) {
            Some(m) if is_dir => d.hint(format!("did you mean content/{m}/? rename the folder")),
            _ if !is_dir && name.ends_with(".md") => d.hint(format!("a case goes in content/cases/{name}")),
            _ => d,
        };
        diags.push(d);
    }
    for (name, is_dir) in entries(root) {
        if !is_dir || ROOT_DIRS.contains(&name.as_str()) {
            continue;
        }
        if let Some(m) = crate::toml_input::did_you_mean(&name, ROOT_DIRS).filter(|m| !root.join(m).exists()) {
            diags.push(
                Diagnostic::warning("content-ignored", format!("this folder is not read; did you mean {m}/?"))
                    .in_path(format!("{name}/"))
                    .hint(format!("rename it to {m}/")),
            );
        }
    }
}

/// A file of another kind where a Markdown file of `kind` was expected.
fn not_markdown(name: &str, kind: &str, expected: &str) -> Diagnostic {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let markdownish = [".markdown", ".mdown", ".mkd", ".mkdn", ".txt", ".MD", ".Md"].iter().any(|e| name.ends_with(e));
    let d = Diagnostic::warning("content-ignored", format!("not read: {kind} files are `.md` files ({expected})"));
    if markdownish {
        d.hint(format!("rename it to {stem}.md"))
    } else {
        d
    }
}

fn bad_slug(slug: &str, kind: &str) -> Diagnostic {
    Diagnostic::error("slug-invalid", format!("{slug:?} cannot be a {kind} slug: it is part of the page's URL"))
        .hint("rename the file using only a-z, 0-9, `-`, `_` and `.` (e.g. ntt-communications-2020.md)")
}

/// What the last load knew, and what changed since if that is known.
struct Look<'a> {
    before: &'a Known,
    changed: Option<&'a std::collections::HashSet<&'a Path>>,
}

fn read_content(
    root: &Path,
    paths: Vec<(String, Arc<Path>)>,
    kind: &str,
    (look, known): (&Look, &mut Known),
    diags: &mut Vec<Diagnostic>,
) -> Vec<ContentFile> {
    let results: Vec<_> = paths
        .into_par_iter()
        .map(|(slug, path)| {
            if !is_valid_slug(&slug) {
                return Err(bad_slug(&slug, kind).in_path(display(root, &path)));
            }
            // A file an earlier load read (serve, or a build with the cache) is asked its
            // stamp by path, and most often not opened; any other is opened once and asked
            // through the open file (one path lookup each, not three).
            let known = look.before.files.get(&path);
            // A file the watcher did not see change is as it was: not even asked its stamp.
            if let (Some(k), Some(changed)) = (known, look.changed) {
                if !changed.contains(&*path) {
                    let stat = Some((path, k.stamp));
                    return Ok((ContentFile { slug, file: k.file.clone() }, k.controls.clone(), false, stat));
                }
            }
            let opened = known.is_none().then(|| open_text(root, &path));
            let stat = match &opened {
                Some(opened) => opened.as_ref().ok().map(|(_, meta)| meta.clone()),
                None => fs::metadata(&path).ok(),
            };
            let stat = stat.as_ref().and_then(FileStamp::settled);
            let read = match (stat, known) {
                (Some(stamp), Some(k)) if stamp == k.stamp => Ok((k.file.clone(), k.controls.clone(), false)),
                _ => match opened {
                    Some(opened) => opened.and_then(|(file, meta)| read_open(root, &path, file, &meta)),
                    None => read_text(root, &path),
                }
                .map(|file| {
                    let controls = crate::diagnostics::control_chars(&file);
                    (file, controls, true)
                }),
            };
            read.map(|(file, controls, read)| (ContentFile { slug, file }, controls, read, stat.map(|s| (path, s))))
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok((f, controls, read, stat)) => {
                // What the build cache keeps of it changes with a file stamped anew.
                known.changed |= read && stat.is_some();
                if read {
                    known.counts.0 += 1;
                } else {
                    known.counts.1 += 1;
                }
                if let Some((path, stamp)) = stat {
                    known.files.insert(path, KnownFile { stamp, file: f.file.clone(), controls: controls.clone() });
                }
                diags.extend(controls);
                files.push(f)
            }
            Err(d) => diags.push(d),
        }
    }
    files.sort_by(|a, b| a.slug.cmp(&b.slug));
    files
}

/// Every file under `dir` as a template named `prefix` + its path there; with a prefix
/// (interface strings), only `LANG.toml` files directly in `dir`.
fn load_named(
    root: &Path,
    canonical_root: &Path,
    dir: &Path,
    prefix: &str,
    templates: &mut std::collections::BTreeMap<String, Template>,
    diags: &mut Vec<Diagnostic>,
) {
    for path in walk_files(root, canonical_root, dir, diags) {
        let name = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if !prefix.is_empty() && (!name.ends_with(".toml") || name.contains('/')) {
            diags.push(
                Diagnostic::warning("content-ignored", "not a table of interface strings: expected i18n/LANG.toml")
                    .in_path(display(root, &path)),
            );
            continue;
        }
        match read_text(root, &path) {
            Ok(file) => {
                let name = format!("{prefix}{name}");
                templates.insert(name.clone(), Template { name, file });
            }
            Err(d) => diags.push(d),
        }
    }
}

fn add_static(root: &Path, canonical_root: &Path, dir: &Path, assets: &mut Vec<Asset>, diags: &mut Vec<Diagnostic>) {
    for path in walk_files(root, canonical_root, dir, diags) {
        let dest = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        assets.push(Asset { dest, data: AssetData::File(path) });
    }
}

/// Hidden files and editors' backups (`.x`, `x~`, `#x#`): never part of a site.
pub(crate) fn skipped(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || name.starts_with('#')
}

/// Every regular file under `dir`, sorted; hidden and editor files skipped.
/// Symbolic links are followed only while they stay inside the site.
fn walk_files(root: &Path, canonical_root: &Path, dir: &Path, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return files;
    }
    let walker = WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !skipped(&e.file_name().to_string_lossy()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(|p| display(root, p)).unwrap_or_default();
                diags.push(Diagnostic::error("io", format!("cannot read: {e}")).in_path(path));
                continue;
            }
        };
        let path = entry.path();
        if entry.path_is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(canonical_root) && target.is_file() => files.push(path.to_path_buf()),
                Ok(target) if target.starts_with(canonical_root) => diags.push(
                    Diagnostic::warning("symlink-ignored", "symbolic link to a folder is not followed")
                        .in_path(display(root, path)),
                ),
                Ok(_) => diags.push(
                    Diagnostic::error("symlink-outside", "symbolic link points outside the site; refusing to read it")
                        .in_path(display(root, path))
                        .hint("copy the file into the site instead of linking to it"),
                ),
                // Nothing at its end (a dangling link, or a loop of links): nothing to read.
                Err(e) => diags.push(
                    Diagnostic::warning("symlink-ignored", format!("symbolic link to nothing that can be read: {e}"))
                        .in_path(display(root, path))
                        .hint("remove the link, or make it point at a file in the site"),
                ),
            }
        } else if entry.file_type().is_file() {
            files.push(path.to_path_buf());
        }
    }
    files
}

/// Reads a UTF-8 text file, refusing huge and non-UTF-8 files with a clear message.
pub fn read_text(root: &Path, path: &Path) -> Result<Arc<SourceFile>, Diagnostic> {
    let (file, meta) = open_text(root, path)?;
    read_open(root, path, file, &meta)
}

/// A text file opened, with its size and time.
fn open_text(root: &Path, path: &Path) -> Result<(fs::File, fs::Metadata), Diagnostic> {
    let cannot = |e: std::io::Error| Diagnostic::error("io", format!("cannot read: {e}")).in_path(display(root, path));
    let file = fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    Ok((file, meta))
}

/// [`read_text`] of a file [`open_text`] opened.
fn read_open(root: &Path, path: &Path, mut file: fs::File, meta: &fs::Metadata) -> Result<Arc<SourceFile>, Diagnostic> {
    use std::io::Read;
    let shown = display(root, path);
    if meta.len() > MAX_TEXT_BYTES {
        return Err(Diagnostic::error(
            "file-too-large",
            format!("file is {} bytes; text files are limited to {} bytes", meta.len(), MAX_TEXT_BYTES),
        )
        .in_path(&shown));
    }
    // Room for the whole file and the read that finds its end. Through `take`, whose
    // reading does not ask the file its size and place again (two more system calls).
    let cannot = |e: std::io::Error| Diagnostic::error("io", format!("cannot read: {e}")).in_path(&shown);
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    (&mut file).take(meta.len() + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > meta.len() {
        file.read_to_end(&mut bytes).map_err(cannot)?; // it grew since
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(SourceFile::new(shown, text))
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            // Shown with U+FFFD for what is not UTF-8: the text before the first such byte,
            // and so its place, are as in the file.
            let lossy = SourceFile::new(shown, String::from_utf8_lossy(&bytes).into_owned());
            let at = valid..valid + '\u{fffd}'.len_utf8();
            Err(Diagnostic::error("file-not-utf8", "the file is not UTF-8 text: this is the first byte that is not")
                .at(&lossy, at)
                .hint("save the file as UTF-8 (most editors have it under \"Save with encoding\")"))
        }
    }
}

/// Path relative to the site root with `/` separators, for messages.
pub fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// The built-in theme's text of `templates/NAME`, if it has one.
pub fn builtin_template(name: &str) -> Option<&'static [u8]> {
    default_theme::FILES.iter().find(|(p, _)| p.strip_prefix("templates/") == Some(name)).map(|(_, b)| *b)
}

/// A file of the built-in theme by its path under `themes/default` (`i18n/en.toml`).
pub fn builtin_file(path: &str) -> Option<&'static [u8]> {
    default_theme::FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing is kept only while the files seen to change were files before and are
    /// still, or were none and are still none.
    #[test]
    fn a_listing_is_kept_only_while_no_file_comes_or_goes() {
        let site = tempfile::tempdir().unwrap();
        let dir = site.path().join("content/cases");
        fs::create_dir_all(&dir).unwrap();
        for name in ["a.md", "b.md"] {
            fs::write(dir.join(name), "+++\n+++\n").unwrap();
        }
        let listing = Listing { files: vec![Arc::from(dir.join("a.md")), Arc::from(dir.join("b.md"))], diags: vec![] };
        let holds = |changed: &[PathBuf]| listing.holds(&dir, changed);
        assert!(holds(&[]));
        // Written to: still the same files.
        fs::write(dir.join("a.md"), "+++\ntitle = \"x\"\n+++\n").unwrap();
        assert!(holds(&[dir.join("a.md")]));
        // Elsewhere, an editor's swap file, or a file made and gone again before the run.
        assert!(holds(&[site.path().join("site.toml"), dir.join(".a.md.swp"), dir.join("4913")]));
        // A new file, a file gone, a new folder, the folder itself.
        fs::write(dir.join("c.md"), "").unwrap();
        assert!(!holds(&[dir.join("c.md")]));
        fs::remove_file(dir.join("b.md")).unwrap();
        assert!(!holds(&[dir.join("b.md")]));
        fs::create_dir(dir.join("bundle")).unwrap();
        assert!(!holds(&[dir.join("bundle")]));
        assert!(!holds(&[site.path().join("content")]));
        // A folder gone that held listed files.
        let nested = Listing { files: vec![Arc::from(dir.join("gone/index.md"))], diags: vec![] };
        assert!(!nested.holds(&dir, &[dir.join("gone")]));
    }
}
