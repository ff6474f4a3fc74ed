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

/// A piece file mapped in, and its table. Unless the file is as its save left it, each
/// piece's checksum is checked the first time a run asks for it, so a build reads only
/// the pieces it uses, not the whole file.
pub(super) struct Mapped {
    bytes: Bytes,
    table: Table,
    /// Where the entries whose fingerprints start with each 16 bits begin in `table`
    /// (and, last, its length): a lookup searches a handful of neighbouring entries
    /// instead of halving half a million, a cache miss at every step.
    starts: Vec<u32>,
    /// Per piece: not checked yet (0), sound (1), damaged (2). Empty when `intact`.
    checked: Vec<AtomicU8>,
    /// The file is as the save that wrote it left it: no piece needs checking.
    intact: bool,
    damaged: AtomicBool,
    /// The mapping behind `bytes`, when they are one (see [`Mapped::release`]).
    map: Option<Arc<memmap2::Mmap>>,
}

/// A mapping as the owner of the [`Bytes`] cut from it.
struct Shared(Arc<memmap2::Mmap>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Mapped {
    pub(super) fn new(bytes: Bytes, table: Table, intact: bool) -> Self {
        let unchecked = if intact { 0 } else { table.len() };
        let checked = std::iter::repeat_with(|| AtomicU8::new(0)).take(unchecked).collect();
        let mut starts = vec![0u32; BUCKETS + 1];
        for &(fp, ..) in &table {
            starts[bucket(fp) + 1] += 1;
        }
        for b in 0..BUCKETS {
            starts[b + 1] += starts[b];
        }
        Mapped { bytes, table, starts, checked, intact, damaged: AtomicBool::new(false), map: None }
    }

    /// The pieces of a mapped file.
    pub(super) fn of_map(map: memmap2::Mmap, table: Table, intact: bool) -> Self {
        let map = Arc::new(map);
        Mapped { map: Some(map.clone()), ..Mapped::new(Bytes::from_owner(Shared(map)), table, intact) }
    }

    /// Gives back the memory the pages of the file read so far take, as the kernel does
    /// with any file's pages. A build touches most of the file's half gigabyte, a part
    /// at a time (the parsed files, then the rows and cards, then the exports' pieces):
    /// let go between parts, its memory stays below a build's without the cache. The
    /// bytes stay where they are; a piece asked for again is read in again.
    pub(super) fn release(&self) {
        if let Some(map) = &self.map {
            // SAFETY: a shared mapping of a file: its pages are dropped, not its bytes,
            // which the next read finds in the file (that no other casebook changes
            // while this build holds the cache lock).
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    pub(super) fn table(&self) -> &Table {
        &self.table
    }

    /// Where `fp` is in the table, if it is.
    fn index(&self, fp: Fingerprint) -> Option<usize> {
        let b = bucket(fp);
        let (from, to) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        self.table[from..to].binary_search_by_key(&fp, |e| e.0).ok().map(|i| from + i)
    }

    /// The piece, unless its bytes do not match its checksum: then it is as good as
    /// missing, and made again.
    fn find(&self, fp: Fingerprint) -> Option<Bytes> {
        let i = self.index(fp)?;
        let (_, at, n, crc) = self.table[i];
        let piece = self.bytes.slice(at as usize..at as usize + n as usize);
        if self.intact {
            return Some(piece);
        }
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
        self.index(fp).is_some()
    }
}

const BUCKETS: usize = 1 << 16;

fn bucket(fp: Fingerprint) -> usize {
    (fp >> 112) as usize
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

impl std::fmt::Debug for Pieces {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Pieces({})", self.len())
    }
}

impl Pieces {
    pub(super) fn mapped(file: Mapped) -> Self {
        let live = file.table.len();
        Pieces { file: Some(Arc::new(file)), held: HashMap::default(), live }
    }

    /// [`Mapped::release`], when the pieces are a mapped file's.
    pub(super) fn release(&self) {
        if let Some(file) = &self.file {
            file.release();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A piece file of `pieces`, as the cache writes one.
    fn mapped(pieces: &[(Fingerprint, &str)]) -> Mapped {
        let (mut bytes, mut table) = (Vec::new(), Table::new());
        for &(fp, text) in pieces {
            table.push((fp, bytes.len() as u64, text.len() as u32, crc32fast::hash(text.as_bytes())));
            bytes.extend_from_slice(text.as_bytes());
        }
        table.sort_unstable_by_key(|e| e.0);
        Mapped::new(Bytes::from(bytes), table, false)
    }

    #[test]
    fn pieces_are_found_in_their_bucket_and_nowhere_else() {
        let top = |b: u128, low: u128| (b << 112) | low;
        let m = mapped(&[(top(0, 5), "a"), (top(0, 9), "b"), (top(7, 1), "c"), (top(0xffff, 3), "d")]);
        let p = Pieces::mapped(m);
        for (fp, text) in [(top(0, 5), "a"), (top(0, 9), "b"), (top(7, 1), "c"), (top(0xffff, 3), "d")] {
            assert_eq!(p.get(fp).as_deref(), Some(text.as_bytes()));
        }
        for fp in [top(0, 6), top(1, 5), top(7, 0), top(0xffff, 4), top(0xfffe, 3)] {
            assert_eq!(p.get(fp), None);
        }
        assert!(!p.damaged());
    }

    #[test]
    fn a_damaged_piece_is_missing_and_said_to_be() {
        let mut m = mapped(&[(1, "good"), (2, "fine")]);
        let mut bytes = m.bytes.to_vec();
        bytes[4] = b'F';
        m.bytes = Bytes::from(bytes);
        let p = Pieces::mapped(m);
        assert_eq!(p.get(1).as_deref(), Some(&b"good"[..]));
        assert!(!p.damaged());
        assert_eq!(p.get(2), None);
        assert!(p.damaged());
        // Asked again: still missing, without checking twice.
        assert_eq!(p.get(2), None);
    }

    #[test]
    fn dead_pieces_go_once_they_outweigh_the_live_ones() {
        let made = |range: std::ops::Range<u128>| range.map(|fp| (fp, Bytes::from_static(b"x"))).collect();
        let mut p = Pieces::default().with(made(0..100));
        assert!(!p.crowded());
        p = p.with(made(100..300));
        assert!(p.crowded());
        let live: HashSet<Fingerprint> = (150..300).collect();
        p.collect(&live);
        assert_eq!(p.len(), 150);
        assert!(p.get(10).is_none() && p.get(200).is_some());
        assert!(!p.crowded());
    }
}
