//! What the engine remembers of the outputs it committed: each page's fingerprint, the
//! `id`s the link check found in it and the pieces it was drawn from; each file's content
//! hash (and, on disk, its size and modification time, to tell that nobody changed it
//! since); and the pieces themselves, by the fingerprint of what each is made from.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::load::Template;
use crate::render::check::Seen;
use crate::render::{Fingerprint, Memo as RenderMemo};

use super::pieces::Pieces;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Memo {
    #[serde(deserialize_with = "presized")]
    pages: HashMap<String, Page>,
    #[serde(deserialize_with = "presized")]
    pub files: HashMap<String, FileState>,
    /// The hash of each piece a file was streamed from, by the piece's fingerprint (see
    /// [`RenderMemo::hashed_piece`]).
    #[serde(deserialize_with = "presized")]
    pub piece_hashes: HashMap<Fingerprint, Fingerprint>,
    /// Pieces of outputs by the fingerprint of their inputs (see [`RenderMemo::piece`]).
    /// The build cache keeps them apart, in a file it appends to (see [`super::cache`]).
    #[serde(skip)]
    pub pieces: Pieces,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Page {
    fingerprint: Fingerprint,
    /// Debug builds: the hash of the bytes made, for [`Run::verify`].
    content: Option<Fingerprint>,
    /// The `id="…"` needles links looked for here, and which of them the page had.
    wanted: Vec<String>,
    found: Vec<String>,
    /// The pieces it was drawn from ([`RenderMemo::made_from`]).
    pieces: Vec<Fingerprint>,
}

/// An output file as the last commit left it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FileState {
    pub hash: Fingerprint,
    /// On disk only: size and modification time (ns), to notice a file changed by hand.
    pub size: u64,
    pub mtime: i128,
}

impl Memo {
    /// The memo after the run that left `run`, built on this one, the last run's: what
    /// the run kept stays where it is, what it made goes in (its pieces added to these),
    /// and what it no longer made goes. Kept outputs are not copied: at 10,000 cases they
    /// are 33,000 entries of every run. Also says whether the memo is as it was: no
    /// output and no piece made anew, none gone.
    pub(super) fn carry(mut self, run: Outcome) -> (Memo, bool) {
        let Outcome { memo: Memo { pages, files, piece_hashes, .. }, made, kept, kept_files, .. } = run;
        // Verifying, every page is made again, most the same as before.
        let same = pages.iter().all(|(p, page)| self.pages.get(p) == Some(page))
            && files.is_empty()
            && made.is_empty()
            && self.piece_hashes == piece_hashes;
        let gone_pages = retain(&mut self.pages, &pages, kept.iter());
        let gone_files = retain(&mut self.files, &files, kept.iter().chain(&kept_files));
        self.pages.extend(pages);
        self.files.extend(files);
        self.piece_hashes = piece_hashes;
        self.pieces = std::mem::take(&mut self.pieces).with(made);
        (self, same && !gone_pages && !gone_files)
    }

    /// Drops the dead pieces held in memory once they outweigh the live ones; `used`:
    /// the pieces the last run asked for (see [`Memo::live`]).
    pub(super) fn drop_dead_pieces(&mut self, used: &[Fingerprint]) {
        if self.pieces.crowded() {
            let live = self.live(used);
            self.pieces.collect(&live);
        }
    }

    /// Where each piece goes in a piece file written anew: the pieces of one page side
    /// by side (pages in path order, a piece with the first page that draws it), then
    /// those of the streamed exports. The kernel maps in a file's neighbouring pages with
    /// each one read, so a page's rows read from one place cost a few faults, not one
    /// each, nor the memory of sixteen pages around each.
    pub(super) fn placement(&self) -> HashMap<Fingerprint, u32> {
        let mut pages: Vec<(&String, &Page)> = self.pages.iter().collect();
        pages.sort_unstable_by_key(|(path, _)| path.as_str());
        let mut streamed: Vec<Fingerprint> = self.piece_hashes.keys().copied().collect();
        streamed.sort_unstable();
        let mut at = HashMap::default();
        for fp in pages.iter().flat_map(|(_, p)| p.pieces.iter()).chain(&streamed) {
            let next = at.len() as u32;
            at.entry(*fp).or_insert(next);
        }
        at
    }

    /// The pieces an output of this memo was drawn or streamed from, and those in `used`
    /// (asked for by the run that made it): what is worth keeping when the dead pieces
    /// are dropped.
    pub(super) fn live(&self, used: &[Fingerprint]) -> HashSet<Fingerprint> {
        let mut live = HashSet::default();
        live.extend(self.pages.values().flat_map(|p| p.pieces.iter().copied()));
        live.extend(self.piece_hashes.keys().copied());
        live.extend(used.iter().copied());
        live
    }
}

/// Keeps in `old` only the entries that are `kept` or `made`, and says whether any went.
/// Most runs make every output the last one made: then nothing is looked at twice.
fn retain<'a, V>(
    old: &mut HashMap<String, V>,
    made: &'a HashMap<String, V>,
    kept: impl Iterator<Item = &'a String> + Clone,
) -> bool {
    let still = kept.clone().filter(|p| !made.contains_key(p.as_str())).count()
        + made.keys().filter(|p| old.contains_key(p.as_str())).count();
    if still >= old.len() {
        return false;
    }
    let live: HashSet<&str> = kept.map(String::as_str).chain(made.keys().map(String::as_str)).collect();
    old.retain(|p, _| live.contains(p.as_str()));
    true
}

/// A map read back with room for all its entries from the start: serde's own reserves
/// at most a megabyte, so a table of 30,000 paths grew twice over while the cache was
/// read. Capped, so a cache that claims more entries than it holds cannot
/// make the build reserve a great deal of memory.
fn presized<'de, D, K, V>(d: D) -> Result<HashMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Eq + std::hash::Hash,
    V: Deserialize<'de>,
{
    struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de> + Eq + std::hash::Hash, V: Deserialize<'de>> serde::de::Visitor<'de> for Entries<K, V> {
        type Value = HashMap<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
            let room = entries.size_hint().unwrap_or(0).min(1 << 20);
            let mut map = HashMap::with_capacity_and_hasher(room, Default::default());
            while let Some((k, v)) = entries.next_entry()? {
                map.insert(k, v);
            }
            Ok(map)
        }
    }
    d.deserialize_map(Entries(std::marker::PhantomData))
}

/// The fingerprint of the template set: any template edit renders every page again.
pub(super) fn templates(templates: &[Template]) -> Fingerprint {
    let mut all: Vec<(&str, &str)> = templates.iter().map(|t| (t.name.as_str(), t.file.text())).collect();
    all.sort();
    let bytes = serde_json::to_vec(&all).unwrap_or_default();
    crate::render::of_bytes(&bytes)
}

/// What a run leaves: the memo of what it made, the pieces it made and those it asked
/// for and found, and the outputs it kept.
pub(super) struct Outcome {
    pub memo: Memo,
    pub made: HashMap<Fingerprint, bytes::Bytes>,
    pub used: Vec<Fingerprint>,
    pub kept: Vec<String>,
    pub kept_files: Vec<String>,
}

/// Whether the file at a path is as a [`FileState`] says.
pub(super) type Intact<'a> = dyn Fn(&str, &FileState) -> bool + Sync + 'a;

/// One run's view of the memo: answers from the last commit, gathers this run's outputs.
pub(super) struct Run<'a> {
    before: &'a Memo,
    templates: Fingerprint,
    seen: &'a Seen,
    /// On disk: whether the committed file at a path is still as the memo says. In
    /// memory nobody else writes, and files are not hashed.
    intact: Option<&'a Intact<'a>>,
    /// Make everything again, and check that what was declared unchanged came out the
    /// same (debug builds, unless a test turns it off to try the keeping path).
    verify: bool,
    /// Whether this run's memo is kept for the next (serve, a cached build): if not, the
    /// pieces made are not held (hundreds of megabytes at 10,000 cases).
    remember: bool,
    pages: Mutex<HashMap<String, Page>>,
    files: Mutex<HashMap<String, FileState>>,
    /// Outputs kept whole, and files kept because their new bytes were the old ones:
    /// their entries are the last run's ([`Memo::carry`]).
    kept: Mutex<Vec<String>>,
    kept_files: Mutex<Vec<String>>,
    /// The pieces this run made (the others it asked for are in `before` already).
    made: Mutex<HashMap<Fingerprint, bytes::Bytes>>,
    /// The pieces it asked for and found.
    used: Mutex<Vec<Fingerprint>>,
    piece_hashes: Mutex<HashMap<Fingerprint, Fingerprint>>,
    /// The pieces each page made this run was drawn from.
    made_from: Mutex<HashMap<String, Vec<Fingerprint>>>,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        before: &'a Memo,
        templates: Fingerprint,
        seen: &'a Seen,
        intact: Option<&'a Intact<'a>>,
        verify: bool,
        remember: bool,
    ) -> Self {
        Run {
            before,
            templates,
            seen,
            intact,
            verify,
            remember,
            pages: Mutex::default(),
            files: Mutex::default(),
            made: Mutex::default(),
            used: Mutex::default(),
            kept: Mutex::default(),
            kept_files: Mutex::default(),
            // Every run streams the pieces the last one did.
            piece_hashes: Mutex::new(HashMap::with_capacity_and_hasher(before.piece_hashes.len(), Default::default())),
            made_from: Mutex::default(),
        }
    }

    /// The needles a kept page had.
    pub(super) fn found(&self, path: &str) -> &[String] {
        self.before.pages.get(path).map(|p| p.found.as_slice()).unwrap_or(&[])
    }

    /// Whether files are hashed to keep those whose bytes did not change (on disk).
    pub(super) fn hashing(&self) -> bool {
        self.intact.is_some()
    }

    /// Whether the committed file at `path` has exactly the content `hash`, untouched.
    pub(super) fn same(&self, path: &str, hash: Fingerprint) -> bool {
        let Some(intact) = self.intact else { return false };
        self.before.files.get(path).is_some_and(|f| f.hash == hash && intact(path, f))
    }

    /// A page of this run, made.
    pub(super) fn page(&self, path: &str, fingerprint: Fingerprint, bytes: &[u8], found: Vec<String>) {
        let content = self.verify.then(|| crate::render::of_bytes(bytes));
        let pieces = self.made_from.lock().unwrap_or_else(|e| e.into_inner()).remove(path).unwrap_or_default();
        self.record(path, fingerprint, content, found, pieces);
    }

    /// An output kept whole, as the last run left it (and its file with it).
    pub(super) fn keep(&self, path: String) {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).push(path);
    }

    /// A file streamed in pieces from inputs with this fingerprint; `content`: the hash
    /// of its pieces' hashes, when verifying.
    pub(super) fn streamed(&self, path: &str, fingerprint: Fingerprint, content: Option<Fingerprint>) {
        if let Some(hash) = content {
            self.check(path, fingerprint, hash);
        }
        self.record(path, fingerprint, content, Vec::new(), Vec::new());
    }

    /// Whether every output is made again and checked ([`Run::verify`]).
    pub(super) fn verifying(&self) -> bool {
        self.verify
    }

    fn record(
        &self,
        path: &str,
        fingerprint: Fingerprint,
        content: Option<Fingerprint>,
        found: Vec<String>,
        pieces: Vec<Fingerprint>,
    ) {
        let content = content.or_else(|| self.before.pages.get(path).and_then(|p| p.content));
        let page = Page { fingerprint, content, wanted: self.seen.wanted(path).to_vec(), found, pieces };
        self.pages.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), page);
    }

    /// A file of this run with content `hash`.
    pub(super) fn file(&self, path: &str, hash: Fingerprint) {
        let state = FileState { hash, ..FileState::default() };
        self.files.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), state);
    }

    /// A file kept because its new bytes are the old ones: as it was.
    pub(super) fn kept(&self, path: &str) {
        self.kept_files.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_string());
    }

    /// What this run leaves, for [`Memo::carry`] onto the memo it started from.
    pub(super) fn into_memo(self) -> Outcome {
        fn inner<T>(m: Mutex<T>) -> T {
            m.into_inner().unwrap_or_else(|e| e.into_inner())
        }
        Outcome {
            memo: Memo {
                pages: inner(self.pages),
                files: inner(self.files),
                pieces: Pieces::default(),
                piece_hashes: inner(self.piece_hashes),
            },
            made: inner(self.made),
            used: inner(self.used),
            kept: inner(self.kept),
            kept_files: inner(self.kept_files),
        }
    }
}

impl Run<'_> {
    /// Debug builds: an output made again from inputs declared the same as last run's
    /// must have the same bytes; if not, its view reads something it does not declare,
    /// and a release build would have kept it stale.
    pub(super) fn verify(&self, path: &str, fingerprint: Fingerprint, bytes: &[u8]) {
        if self.verify {
            self.check(path, fingerprint, crate::render::of_bytes(bytes));
        }
    }

    /// [`Run::verify`] of an output whose content hashes to `content`.
    fn check(&self, path: &str, fingerprint: Fingerprint, content: Fingerprint) {
        let Some(before) = self.before.pages.get(path).filter(|p| p.fingerprint == fingerprint) else { return };
        let Some(hash) = before.content else { return };
        assert!(
            hash == content,
            "{path} came out different from inputs declared unchanged: its view reads something it does not declare"
        );
    }
}

impl RenderMemo for Run<'_> {
    fn templates(&self) -> Fingerprint {
        self.templates
    }

    /// Same inputs, links still look for the same ids there, and the file is intact.
    /// Never when verifying: then everything is made again, and [`Run::verify`] checks
    /// that what was declared unchanged came out the same.
    fn unchanged(&self, path: &str, fingerprint: Fingerprint) -> bool {
        if self.verify {
            return false;
        }
        let page = self.before.pages.get(path);
        page.is_some_and(|p| p.fingerprint == fingerprint && p.wanted == self.seen.wanted(path))
            && match self.intact {
                Some(intact) => self.before.files.get(path).is_some_and(|f| intact(path, f)),
                None => true,
            }
    }

    fn pages_made(&self) {
        self.before.pieces.release();
    }

    fn piece(&self, fingerprint: Fingerprint, make: &mut dyn FnMut() -> Vec<u8>) -> bytes::Bytes {
        let before = self.before.pieces.get(fingerprint);
        let piece = match &before {
            Some(b) if !self.verify => b.clone(),
            _ => {
                let made = bytes::Bytes::from(make());
                // Verifying, every piece is made, and those declared unchanged checked.
                assert!(
                    before.as_ref().is_none_or(|b| *b == made),
                    "a piece came out different from inputs declared unchanged: its maker reads something it does not declare"
                );
                made
            }
        };
        if self.remember {
            match before {
                Some(_) => self.used.lock().unwrap_or_else(|e| e.into_inner()).push(fingerprint),
                None => drop(self.made.lock().unwrap_or_else(|e| e.into_inner()).insert(fingerprint, piece.clone())),
            }
        }
        piece
    }

    fn made_from(&self, path: &str, mut pieces: Vec<Fingerprint>) {
        pieces.sort_unstable();
        pieces.dedup();
        if self.remember && !pieces.is_empty() {
            self.made_from.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), pieces);
        }
    }

    /// The hash comes from the last run with the piece, unless the piece is made again
    /// (verifying, or new).
    fn hashed_piece(&self, fingerprint: Fingerprint, make: &mut dyn FnMut() -> Vec<u8>) -> crate::render::Chunk {
        let bytes = self.piece(fingerprint, make);
        let known = self.before.piece_hashes.get(&fingerprint).filter(|_| !self.verify);
        let hash = known.copied().unwrap_or_else(|| crate::render::of_bytes(&bytes));
        if self.remember {
            self.piece_hashes.lock().unwrap_or_else(|e| e.into_inner()).insert(fingerprint, hash);
        }
        crate::render::Chunk { bytes, hash }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(pieces: &[Fingerprint]) -> Page {
        Page { fingerprint: 0, content: None, wanted: Vec::new(), found: Vec::new(), pieces: pieces.to_vec() }
    }

    #[test]
    fn a_pages_pieces_are_placed_side_by_side() {
        let mut memo = Memo::default();
        memo.pages.insert("b/index.html".into(), page(&[1, 50, 3]));
        memo.pages.insert("a/index.html".into(), page(&[40, 3, 9]));
        memo.piece_hashes.insert(7, 0);
        let at = memo.placement();
        let mut order: Vec<Fingerprint> = at.keys().copied().collect();
        order.sort_by_key(|fp| at[fp]);
        // Page a's, then b's that a did not draw, then the streamed ones.
        assert_eq!(order, [40, 3, 9, 1, 50, 7]);
    }
}
