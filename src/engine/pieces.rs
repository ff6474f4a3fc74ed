//! The pieces the memo keeps (rows, cards, parts of exports, parses), by the fingerprint
//! of what each is made from: those read from the build cache's piece file, found in its
//! sorted table, and those made in memory since.
//!
//! A run adds the pieces it made and takes nothing away: a piece no output uses any more
//! costs only room, and is dropped when the dead ones come to outweigh the rest
//! ([`Pieces::collect`]). So a run after one edit never walks the half million pieces a
//! site of 10,000 cases has, as it did when every run gathered the pieces it kept.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::render::Fingerprint;

/// Where each piece of a piece file is: its fingerprint, offset, length and CRC-32,
/// sorted by fingerprint.
pub(super) type Table = Vec<(Fingerprint, u64, u32, u32)>;

/// A piece file mapped in, and its table. Each piece's checksum is checked the first
/// time a run asks for it, so a build reads only the pieces it uses, not the whole file.
pub(super) struct Mapped {
    bytes: Bytes,
    table: Table,
    /// Per piece: not checked yet (0), sound (1), damaged (2).
    checked: Vec<AtomicU8>,
    damaged: AtomicBool,
}

impl Mapped {
    pub(super) fn new(bytes: Bytes, table: Table) -> Self {
        let checked = std::iter::repeat_with(|| AtomicU8::new(0)).take(table.len()).collect();
        Mapped { bytes, table, checked, damaged: AtomicBool::new(false) }
    }

    pub(super) fn table(&self) -> &Table {
        &self.table
    }

    /// The piece, unless its bytes do not match its checksum: then it is as good as
    /// missing, and made again.
    fn find(&self, fp: Fingerprint) -> Option<Bytes> {
        let i = self.table.binary_search_by_key(&fp, |e| e.0).ok()?;
        let (_, at, n, crc) = self.table[i];
        let piece = self.bytes.slice(at as usize..at as usize + n as usize);
        match self.checked[i].load(Ordering::Relaxed) {
            1 => return Some(piece),
            2 => return None,
            _ => {}
        }
        let sound = crc32fast::hash(&piece) == crc;
        self.checked[i].store(if sound { 1 } else { 2 }, Ordering::Relaxed);
        if !sound {
            self.damaged.store(true, Ordering::Relaxed);
        }
        sound.then_some(piece)
    }

    pub(super) fn contains(&self, fp: Fingerprint) -> bool {
        self.table.binary_search_by_key(&fp, |e| e.0).is_ok()
    }
}

#[derive(Default)]
pub(super) struct Pieces {
    /// Read from the build cache.
    pub file: Option<Arc<Mapped>>,
    /// Made in memory: by `serve`'s runs, or by this build (and saved at its end).
    pub held: HashMap<Fingerprint, Bytes>,
    /// How many pieces were live when the dead ones were last dropped.
    live: usize,
}

impl Pieces {
    pub(super) fn mapped(file: Mapped) -> Self {
        let live = file.table.len();
        Pieces { file: Some(Arc::new(file)), held: HashMap::default(), live }
    }

    pub(super) fn get(&self, fp: Fingerprint) -> Option<Bytes> {
        match self.held.get(&fp) {
            Some(b) => Some(b.clone()),
            None => self.file.as_ref()?.find(fp),
        }
    }

    /// Whether a piece asked for was damaged (and so made again).
    pub(super) fn damaged(&self) -> bool {
        self.file.as_ref().is_some_and(|f| f.damaged.load(Ordering::Relaxed))
    }

    pub(super) fn len(&self) -> usize {
        self.held.len() + self.file.as_ref().map_or(0, |f| f.table.len())
    }

    /// These pieces and those a run made.
    pub(super) fn with(mut self, made: HashMap<Fingerprint, Bytes>) -> Self {
        if self.held.is_empty() {
            // A first run: all it made, it asked for.
            if self.file.is_none() {
                self.live = made.len();
            }
            self.held = made;
        } else {
            self.held.extend(made);
        }
        self
    }

    /// Whether the pieces held in memory are more than twice the live ones of the last
    /// collection: then [`Pieces::collect`] is worth its walk.
    pub(super) fn crowded(&self) -> bool {
        self.held.len() > 2 * self.live + 64
    }

    /// Only the pieces held in memory that are in `live` are kept (the piece file, if any,
    /// is left to the cache's save).
    pub(super) fn collect(&mut self, live: &HashSet<Fingerprint>) {
        self.held.retain(|fp, _| live.contains(fp));
        self.live = self.held.len();
    }
}
