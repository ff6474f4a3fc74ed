//! Each content file parsed once per text: a file whose text (and the settings parsing
//! reads, and what today's date means to it) did not change since the last run is not
//! parsed again.
//!
//! `build` keeps this in the build cache too. There each parse is known by a hash of its
//! text, not the text: the file loaded this run is linked in when the hash matches.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::load::{ContentFile, Sources};
use crate::parse::{self, case::Case, markdown, org::OrgProfile, page::Page};
use crate::render::Fingerprint;

type Cache<T> = HashMap<String, Entry<T>>;

/// One file's parse.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    /// The file it was parsed from, or matched with since; None when just read from the
    /// build cache, until a file with the same `text` links in.
    #[serde(skip)]
    file: Option<Arc<SourceFile>>,
    /// The hash of the file's text.
    text: Fingerprint,
    /// The day it was parsed on: a case warns of its dates still to come.
    day: jiff::civil::Date,
    value: Option<Arc<T>>,
    diags: Vec<Diagnostic>,
}

#[derive(Default)]
pub(super) struct Parsed {
    cases: Cache<Case>,
    orgs: Cache<OrgProfile>,
    pages: Cache<Page>,
    /// The Markdown options the caches were parsed with.
    options: Option<bool>,
    /// Whether the last run parsed or dropped a file: if not, the build cache holds this.
    pub(super) changed: bool,
}

/// [`Parsed`] as the build cache keeps it: each file's parse is a piece of its own,
/// known by what it was parsed from, so a build after one edit writes one parse, not ten
/// thousand, and reads them back on every core.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Stored {
    options: Option<bool>,
    /// Per kind (cases, organizations, pages): each file's path and its parse's piece.
    kinds: [Vec<(String, Fingerprint)>; 3],
}

/// A parse to store: its piece's fingerprint, and how to write it.
pub(super) type Piece<'a> = (Fingerprint, Box<dyn Fn() -> Vec<u8> + Send + Sync + 'a>);

/// What a stored parse is known by: the file, its text, the day and settings it was
/// parsed on (the same four parse the same).
fn piece_of<T>(kind: usize, path: &str, e: &Entry<T>, options: Option<bool>) -> Fingerprint {
    let mut h = crate::fingerprint::Hasher::new();
    h.bytes(&[kind as u8, u8::from(options == Some(true))]);
    h.bytes(path.as_bytes());
    h.bytes(&e.text.to_le_bytes());
    h.bytes(e.day.to_string().as_bytes());
    h.finish()
}

fn store<'a, T: Serialize + Send + Sync>(
    kind: usize,
    cache: &'a Cache<T>,
    options: Option<bool>,
    pieces: &mut Vec<Piece<'a>>,
) -> Vec<(String, Fingerprint)> {
    let mut index = Vec::with_capacity(cache.len());
    for (path, e) in cache {
        let fp = piece_of(kind, path, e, options);
        index.push((path.clone(), fp));
        pieces.push((fp, Box::new(move || postcard::to_stdvec(e).unwrap_or_default())));
    }
    index.sort();
    index
}

/// Where a stored parse is read from: the piece of a fingerprint.
pub(super) type Lookup<'a> = dyn Fn(Fingerprint) -> Option<bytes::Bytes> + Sync + 'a;

fn restore<T: for<'de> Deserialize<'de> + Send + Sync>(
    index: Vec<(String, Fingerprint)>,
    pieces: &Lookup,
) -> Result<Cache<T>, ()> {
    index
        .into_par_iter()
        .map(|(path, fp)| {
            let bytes = pieces(fp).ok_or(())?;
            // The bodies stay in the mapped cache file instead of being copied out.
            crate::text::borrowing(&bytes, || postcard::from_bytes(&bytes)).map(|e| (path, e)).map_err(|_| ())
        })
        .collect()
}

impl Stored {
    /// The pieces it names.
    pub(super) fn pieces(&self) -> rustc_hash::FxHashSet<Fingerprint> {
        self.kinds.iter().flatten().map(|(_, f)| *f).collect()
    }
}

impl Parsed {
    /// The index the build cache keeps, and each parse as a piece.
    pub(super) fn stored(&self) -> (Stored, Vec<Piece<'_>>) {
        let mut pieces = Vec::new();
        let o = self.options;
        let kinds = [
            store(0, &self.cases, o, &mut pieces),
            store(1, &self.orgs, o, &mut pieces),
            store(2, &self.pages, o, &mut pieces),
        ];
        (Stored { options: o, kinds }, pieces)
    }

    /// The parses `stored` names, read from `pieces` (Err: one is missing or damaged).
    pub(super) fn restore(stored: Stored, pieces: &Lookup) -> Result<Self, ()> {
        let [cases, orgs, pages] = stored.kinds;
        Ok(Parsed {
            cases: restore(cases, pieces)?,
            orgs: restore(orgs, pieces)?,
            pages: restore(pages, pieces)?,
            options: stored.options,
            changed: false,
        })
    }
}

impl Parsed {
    /// Every file of `sources`, parsed (from the cache where its text is the same).
    pub(super) fn parse(&mut self, sources: &Sources, config: &Config) -> (parse::Parsed, Vec<Diagnostic>) {
        let md = markdown::Options { unsafe_html: config.markdown.unsafe_html };
        let today = jiff::Zoned::now().date();
        self.changed = self.options != Some(md.unsafe_html);
        if self.changed {
            *self = Parsed { options: Some(md.unsafe_html), changed: true, ..Parsed::default() };
        }
        let mut run = Run { diags: parse::highlight::check_themes(config), changed: self.changed };
        let cases = cached(&mut self.cases, &sources.cases, today, |f| parse::case::parse(f, &md), &mut run);
        let organizations =
            cached(&mut self.orgs, &sources.organizations, today, |f| parse::org::parse(f, &md), &mut run);
        let pages = cached(&mut self.pages, &sources.pages, today, |f| parse::page::parse(f, &md), &mut run);
        self.changed = run.changed;
        (parse::Parsed { cases, organizations, pages }, run.diags)
    }
}

/// What a run's files said, and whether any was parsed or dropped.
#[derive(Default)]
struct Run {
    diags: Vec<Diagnostic>,
    changed: bool,
}

/// What the cache needs of a parsed file.
trait Sourced: Clone {
    /// Its link to its file, which the build cache does not keep.
    fn file_mut(&mut self) -> &mut Arc<SourceFile>;
    /// Whether parsing it on `day` says what parsing it on `parsed_on` said.
    fn reads_the_same_on(&self, _parsed_on: jiff::civil::Date, _day: jiff::civil::Date) -> bool {
        true
    }
}

impl Sourced for Case {
    fn file_mut(&mut self) -> &mut Arc<SourceFile> {
        &mut self.file
    }
    fn reads_the_same_on(&self, parsed_on: jiff::civil::Date, day: jiff::civil::Date) -> bool {
        Case::reads_the_same_on(self, parsed_on, day)
    }
}

impl Sourced for OrgProfile {
    fn file_mut(&mut self) -> &mut Arc<SourceFile> {
        &mut self.file
    }
}

impl Sourced for Page {
    fn file_mut(&mut self) -> &mut Arc<SourceFile> {
        &mut self.file
    }
}

impl<T: Sourced> Entry<T> {
    /// Whether this is the parse of `file` as it is now, on `today`.
    fn fresh(&self, file: &Arc<SourceFile>, today: jiff::civil::Date) -> bool {
        // The same file, when the load found it unchanged (serve), is not compared again;
        // any other by the hash of the text that was parsed.
        let same = self.file.as_ref().is_some_and(|old| Arc::ptr_eq(old, file)) || self.text == file.text_hash();
        same && self.value.as_ref().is_none_or(|v| v.reads_the_same_on(self.day, today))
    }

    /// Links a parse read from the build cache to the file its text hash matched.
    fn link(&mut self, file: &Arc<SourceFile>) {
        if self.file.is_some() {
            return;
        }
        self.file = Some(file.clone());
        if let Some(value) = &mut self.value {
            // Not shared yet: nothing has seen it since it was read.
            *Arc::make_mut(value).file_mut() = file.clone();
        }
        for d in &mut self.diags {
            // Parse sees only its own file: every place it points at is in it.
            if let Some(at) = &mut d.location {
                at.file = file.clone();
            }
        }
    }
}

fn cached<T: Sourced + Send + Sync>(
    cache: &mut Cache<T>,
    files: &[ContentFile],
    today: jiff::civil::Date,
    parse: impl Fn(&ContentFile) -> (Option<T>, Vec<Diagnostic>) + Sync,
    run: &mut Run,
) -> Vec<Arc<T>> {
    let misses: Vec<&ContentFile> =
        files.par_iter().filter(|f| cache.get(&f.file.path).is_none_or(|e| !e.fresh(&f.file, today))).collect();
    let parsed: Vec<_> = misses
        .par_iter()
        .map(|f| {
            let (value, diags) = parse(f);
            let text = f.file.read_hash();
            let entry = Entry { file: Some(f.file.clone()), text, day: today, value: value.map(Arc::new), diags };
            (f.file.path.clone(), entry)
        })
        .collect();
    cache.extend(parsed);
    let keep: HashSet<&str> = files.iter().map(|f| f.file.path.as_str()).collect();
    let before = cache.len();
    cache.retain(|k, _| keep.contains(k.as_str()));
    run.changed |= !misses.is_empty() || cache.len() != before;
    let mut ok = Vec::with_capacity(files.len());
    for f in files {
        let Some(entry) = cache.get_mut(&f.file.path) else { continue };
        entry.link(&f.file);
        ok.extend(entry.value.clone());
        run.diags.extend(entry.diags.iter().cloned());
    }
    ok
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const TEXT: &str = "+++\ntitle = \"A\"\ndate = 2025-01-02\norganizations = [\"X\"]\n\n[[references]]\n\
                        url = \"https://x.test/\"\n+++\nSee ![map](/map.png).\n";

    fn file(text: &str) -> ContentFile {
        ContentFile { slug: "a".into(), file: SourceFile::new("content/cases/a.md", text) }
    }

    /// Parses a case, counting each time in `parses`.
    fn counted(parses: &AtomicUsize) -> impl Fn(&ContentFile) -> (Option<Case>, Vec<Diagnostic>) + Sync + Copy + '_ {
        move |f| {
            parses.fetch_add(1, Ordering::Relaxed);
            parse::case::parse(f, &markdown::Options::default())
        }
    }

    /// A parse read back from the build cache stands for a file of the same text: it is
    /// not parsed again, and it and its warnings point into the file loaded now.
    #[test]
    fn a_parse_read_back_is_used_for_the_same_text_and_linked_to_its_file() {
        let parses = AtomicUsize::new(0);
        let parse = counted(&parses);
        let today = jiff::Zoned::now().date();
        let mut cache = Cache::default();
        let mut before = Run::default();
        cached(&mut cache, &[file(TEXT)], today, parse, &mut before);
        assert!(before.changed);
        let codes: Vec<&str> = before.diags.iter().map(|d| d.code.as_ref()).collect();
        assert_eq!(codes, ["reference-untitled", "image-root-absolute"]);

        let mut read: Cache<Case> = postcard::from_bytes(&postcard::to_stdvec(&cache).unwrap()).unwrap();
        let now = file(TEXT);
        let mut after = Run::default();
        let cases = cached(&mut read, std::slice::from_ref(&now), today, parse, &mut after);
        assert!(!after.changed, "the cache holds what it held");
        assert_eq!(parses.load(Ordering::Relaxed), 1, "not parsed again");
        assert!(Arc::ptr_eq(&cases[0].file, &now.file));
        assert!(after.diags.iter().all(|d| Arc::ptr_eq(&d.location.as_ref().unwrap().file, &now.file)));
        let (after, before) = (format!("{:?}", after.diags), format!("{:?}", before.diags));
        assert_eq!(after, before, "the same diagnostics, at the same places");

        let edited = file(&TEXT.replace("title = \"A\"", "title = \"B\""));
        let cases = cached(&mut read, &[edited], today, parse, &mut Run::default());
        assert_eq!(parses.load(Ordering::Relaxed), 2, "another text is parsed");
        assert_eq!(cases[0].title, "B");
    }

    /// A file known by its stamp and written to before its text was read (a writer's save
    /// during a build): its parse is remembered as that of the text read, so the older
    /// text, should it come back, is parsed again instead of given the newer one's parse.
    #[test]
    fn a_parse_is_remembered_by_the_text_it_was_made_from() {
        let parses = AtomicUsize::new(0);
        let parse = counted(&parses);
        let today = jiff::Zoned::now().date();
        let dir = tempfile::tempdir().unwrap();
        let on_disk = dir.path().join("a.md");
        std::fs::write(&on_disk, TEXT.replace("title = \"A\"", "title = \"B\"")).unwrap();
        let stamped = crate::fingerprint::of_bytes(TEXT.as_bytes());
        let unread =
            ContentFile { slug: "a".into(), file: SourceFile::unread("content/cases/a.md".into(), on_disk, stamped) };
        let mut cache = Cache::default();
        let cases = cached(&mut cache, &[unread], today, parse, &mut Run::default());
        assert_eq!(cases[0].title, "B", "what is on disk now is parsed");
        let cases = cached(&mut cache, &[file(TEXT)], today, parse, &mut Run::default());
        assert_eq!(cases[0].title, "A", "the stamped text is parsed anew, not given B's parse");
        assert_eq!(parses.load(Ordering::Relaxed), 2);
    }

    /// A parse made before one of the case's dates came would now say something else.
    #[test]
    fn a_parse_is_made_again_once_a_date_in_it_has_come() {
        let parses = AtomicUsize::new(0);
        let parse = counted(&parses);
        let today = jiff::Zoned::now().date();
        let mut cache = Cache::default();
        cached(&mut cache, &[file(TEXT)], today, parse, &mut Run::default());
        cached(&mut cache, &[file(TEXT)], today.tomorrow().unwrap(), parse, &mut Run::default());
        assert_eq!(parses.load(Ordering::Relaxed), 1, "its date (2025-01-02) came long ago");
        // As if parsed on 2025-01-01, when that date was still to come.
        cache.values_mut().for_each(|e| e.day = jiff::civil::date(2025, 1, 1));
        cached(&mut cache, &[file(TEXT)], today, parse, &mut Run::default());
        assert_eq!(parses.load(Ordering::Relaxed), 2, "parsed again");
    }
}
