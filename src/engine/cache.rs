//! The build cache: the engine's memo kept between two runs of `casebook build`, in
//! `[build] cache` (`.casebook-cache/` by default), so a build after one edit renders and
//! rewrites only what the edit changed, and parses only the files whose text changed.
//!
//! It is only ever a hint. A cache from another Casebook version, theme, catalog or
//! output folder, or one that is truncated, damaged or edited by hand (its checksums say
//! so) is not trusted: the build says why in one line and starts from nothing. A damaged
//! piece is made again, and said so in one line. A file of the output that changed since
//! (size or modification time) is made again.
//!
//! Two files: `build.postcard`, the index (fingerprints, files, cards, where each piece
//! is), and `pieces-N.bin`, the pieces and each file's parse. The piece file is mapped,
//! not copied into fresh memory, and an edit appends to it instead of rewriting it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::memo::Memo;
use super::parsed::{self, Parsed};
use super::pieces::{Mapped, Pieces, Table};
use crate::load::FileStamp;
use crate::render::Fingerprint;

/// Bumped whenever what is stored changes meaning.
const FORMAT: u32 = 13;
const FILE: &str = "build.postcard";

/// Where the pieces are: the piece file `pieces-GENERATION.bin`, and each piece's place.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Blob {
    /// A new generation when the file is written anew: the one it replaces stays whole
    /// until the index naming the new one is in place.
    generation: u64,
    /// How much of the file is this cache's: a build stopped while appending leaves more.
    len: u64,
    /// How many of them were live when the file was last written anew: it is written
    /// anew, with only the live pieces, once it is twice that.
    live: u64,
    /// The file as the save left it: when it still has this stamp, nobody wrote to it
    /// since, and its pieces are used without being checked one by one. A cache restored
    /// in CI never has it, and its pieces are checked as they are used.
    stamp: Option<FileStamp>,
    /// Each piece's fingerprint, offset and length, sorted by fingerprint. Moved into the
    /// memo's [`Pieces`] when the cache is read.
    #[serde(with = "raw_table")]
    at: Table,
}

/// The piece table as the index stores it: one byte string of 32-byte entries
/// (fingerprint, offset, length, CRC-32, little-endian), read back at memory speed, not
/// as half a million varints.
mod raw_table {
    use super::Table;
    use serde::{Deserializer, Serializer};

    const ENTRY: usize = 32;

    pub(super) fn serialize<S: Serializer>(table: &Table, s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(table.len() * ENTRY);
        for &(fp, at, n, crc) in table {
            bytes.extend_from_slice(&fp.to_le_bytes());
            bytes.extend_from_slice(&at.to_le_bytes());
            bytes.extend_from_slice(&n.to_le_bytes());
            bytes.extend_from_slice(&crc.to_le_bytes());
        }
        s.serialize_bytes(&bytes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Table, D::Error> {
        struct Entries;
        impl serde::de::Visitor<'_> for Entries {
            type Value = Table;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a piece table")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Table, E> {
                if !bytes.len().is_multiple_of(ENTRY) {
                    return Err(E::custom("a piece table cut short"));
                }
                Ok(bytes
                    .chunks_exact(ENTRY)
                    .map(|e| {
                        let (fp, e) = e.split_at(16);
                        let (at, e) = e.split_at(8);
                        let (n, crc) = e.split_at(4);
                        (
                            u128::from_le_bytes(le(fp)),
                            u64::from_le_bytes(le(at)),
                            u32::from_le_bytes(le(n)),
                            u32::from_le_bytes(le(crc)),
                        )
                    })
                    .collect())
            }
        }
        d.deserialize_bytes(Entries)
    }

    /// The first `N` bytes of `b`, which has them (the entry was cut to size).
    fn le<const N: usize>(b: &[u8]) -> [u8; N] {
        let mut a = [0; N];
        a.copy_from_slice(&b[..N]);
        a
    }

    #[cfg(test)]
    mod tests {
        use super::super::Table;

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Holder(#[serde(with = "super")] Table);

        #[test]
        fn a_table_reads_back_as_written_and_a_cut_one_does_not() {
            let table = Holder(vec![(1, 0, 5, 7), (u128::MAX - 1, u64::MAX, u32::MAX, 0xdead_beef)]);
            let bytes = postcard::to_stdvec(&table).unwrap();
            assert_eq!(postcard::from_bytes::<Holder>(&bytes).unwrap(), table);
            // Entries are 32 bytes: 63 bytes are not a table.
            let cut = postcard::to_stdvec(&serde_bytes_of(&[0u8; 63])).unwrap();
            assert!(postcard::from_bytes::<Holder>(&cut).is_err());
        }

        /// Bytes serialized as a byte string, as the table is.
        fn serde_bytes_of(b: &[u8]) -> impl serde::Serialize + '_ {
            struct B<'a>(&'a [u8]);
            impl serde::Serialize for B<'_> {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(self.0)
                }
            }
            B(b)
        }
    }
}

fn piece_file(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("pieces-{generation}.bin"))
}

/// What a cache must have been written for to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Key {
    pub format: u32,
    pub casebook: String,
    /// The templates (theme and the site's own).
    pub theme: Fingerprint,
    pub catalog: Fingerprint,
    pub output: PathBuf,
}

impl Key {
    pub(super) fn new(theme: Fingerprint, catalog: Fingerprint, output: &Path) -> Self {
        Key { format: FORMAT, casebook: env!("CARGO_PKG_VERSION").to_string(), theme, catalog, output: output.into() }
    }
}

/// A cache's index as read, before it is opened ([`open`]) and trusted ([`trust`]): its
/// head decoded (what the load needs first), the rest still bytes of the mapped file.
pub(super) struct Stored {
    key: Key,
    known: Vec<crate::load::StoredFile>,
    /// The index file, checked whole; [`Tail`] starts at `tail`.
    file: memmap2::Mmap,
    tail: usize,
}

/// What the index holds first: read before the site is loaded.
#[derive(Deserialize)]
struct Head {
    key: Key,
    known: Vec<crate::load::StoredFile>,
}

/// The rest of the index, decoded while the site loads ([`open`]).
#[derive(Deserialize)]
struct Tail {
    memo: Memo,
    blob: Blob,
    parsed: parsed::Stored,
}

impl Stored {
    /// The content files as the last build read them, by their stamps: only files
    /// stamped by this format of this casebook.
    pub(super) fn take_known(&mut self, root: &Path) -> crate::load::Known {
        let ours = self.key.format == FORMAT && self.key.casebook == env!("CARGO_PKG_VERSION");
        crate::load::Known::restored(if ours { std::mem::take(&mut self.known) } else { Vec::new() }, root)
    }
}

/// The index as it is written ([`Head`], then [`Tail`]): from borrows, so nothing is
/// copied to be saved.
#[derive(Serialize)]
struct Saved<'a> {
    key: &'a Key,
    known: &'a [crate::load::StoredFile],
    memo: &'a Memo,
    blob: &'a Blob,
    parsed: &'a parsed::Stored,
}

/// A cache read back: the memo, the parsed files and where its pieces are (for the next
/// save to append to), or why it was not used (None: there was none).
pub(super) enum Loaded {
    Trusted(Box<(Memo, Parsed, Blob)>),
    Untrusted(Option<String>),
}

/// The checksum of the payload: a CRC-32, which catches a damaged or edited file at
/// memory speed (the cache runs to hundreds of megabytes), made as it is written.
fn checksum(payload: &[u8]) -> u128 {
    u128::from(crc32fast::hash(payload))
}

/// The cache held by one build from before it is read until after it is saved: a build
/// maps the piece file it read, and another build of the site must not cut it short
/// meanwhile. Builds of one site wait for each other at the output anyway; the lock goes
/// with the process, so a killed build never leaves it held.
pub(super) struct Lock {
    _file: std::fs::File,
}

/// Refuses a cache inside the output folder (the output is published whole, so the
/// cache would be too) or an output inside the cache; the error points at the setting.
pub(super) fn check_place(
    root: &Path,
    dir: &Path,
    output: &Path,
    config: &crate::config::Config,
) -> Result<(), crate::diagnostics::Diagnostic> {
    let cache = crate::write::absolute(dir);
    let root = crate::write::absolute(root);
    let why = if cache.starts_with(output) {
        "the cache folder would be inside the output folder, which is replaced and published whole".to_string()
    } else if output.starts_with(&cache) {
        "the output folder would be inside the cache folder".to_string()
    } else if root.starts_with(&cache) {
        "the cache folder would hold the site itself".to_string()
    } else if let Some(dir) = crate::load::ROOT_DIRS.iter().find(|d| cache.starts_with(root.join(d))) {
        // Its files would be read as the site's own (or warned about) on the next build.
        format!("the cache folder would be inside the site's {dir}/ folder")
    } else {
        return Ok(());
    };
    let d = crate::diagnostics::Diagnostic::error("config-invalid", format!("[build] cache: {why}"));
    Err(config
        .at_key("build", "cache", d)
        .hint("keep it apart from the site's folders and the output: cache = \".casebook-cache\" at the site root"))
}

pub(super) fn lock(dir: &Path) -> std::io::Result<Lock> {
    std::fs::create_dir_all(dir)?;
    // Nothing in here is for git or for backups.
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, "# Written by casebook build: a cache, safe to delete.\n*\n")?;
    }
    let tag = dir.join("CACHEDIR.TAG");
    if !tag.exists() {
        std::fs::write(
            &tag,
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache tag created by casebook.\n",
        )?;
    }
    Ok(Lock { _file: crate::write::lock_file(&dir.join("lock"))? })
}

/// Reads the cache's index, checked whole (Err: why it is not used; None: there is
/// none). Read before the site is loaded: it says which files are as the last build
/// read them ([`Stored::take_known`]); whether it is trusted is for [`open`] and [`trust`] to say.
pub(super) fn read(dir: &Path, _held: &Lock) -> Result<Stored, Option<String>> {
    let file = match std::fs::File::open(dir.join(FILE)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("it cannot be read ({e})"))),
    };
    // Mapped, not copied into fresh memory (tens of megabytes at 10,000 cases). Safe as
    // long as nobody cuts the file short meanwhile: a save replaces it (a new file
    // renamed over it), and builds of the site hold the cache's lock.
    // SAFETY: see above; the mapping is read only and checked whole before it is decoded.
    let file = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Some(format!("it cannot be read ({e})")))?;
    let Some((sum, payload)) = file.split_first_chunk::<16>() else {
        return Err(Some("it is truncated".into()));
    };
    if u128::from_le_bytes(*sum) != checksum(payload) {
        return Err(Some("it is damaged or was edited (its checksum does not match)".into()));
    }
    let unreadable = || Some("it is in a format this casebook cannot read".to_string());
    let (Head { key, known }, rest) = postcard::take_from_bytes(payload).map_err(|_| unreadable())?;
    let tail = file.len() - rest.len();
    Ok(Stored { key, known, file, tail })
}

/// A cache's index opened before the site is loaded: its piece file mapped and its
/// parses decoded while the site loads, as long as nothing known before loading (the
/// version, the catalog, the output folder) rules it out. Whether the site's templates
/// are the ones it was made with is for [`trust`] to say, after the load.
pub(super) struct Opened {
    theme: Fingerprint,
    opened: Result<Box<(Memo, Parsed, Blob)>, Option<String>>,
}

/// Opens the cache `stored` describes, if it was written by this casebook for this
/// catalog and output folder.
pub(super) fn open(dir: &Path, stored: Result<Stored, Option<String>>, catalog: Fingerprint, output: &Path) -> Opened {
    let stored = match stored {
        Ok(s) => s,
        Err(why) => return Opened { theme: 0, opened: Err(why) },
    };
    let k = &stored.key;
    let theme = k.theme;
    let casebook = env!("CARGO_PKG_VERSION");
    let why = if k.format != FORMAT || k.casebook != casebook {
        format!("it was written by casebook {}, this is {casebook}", k.casebook)
    } else if k.catalog != catalog {
        "the ATT&CK catalog changed".into()
    } else if k.output != output {
        format!("it describes the output folder {}", k.output.display())
    } else {
        let Ok(Tail { mut memo, mut blob, parsed }) = postcard::from_bytes(&stored.file[stored.tail..]) else {
            return Opened { theme, opened: Err(Some("it is in a format this casebook cannot read".into())) };
        };
        let table = std::mem::take(&mut blob.at);
        let pieces = match read_pieces(dir, &blob, table) {
            Ok(mapped) => Pieces::mapped(mapped),
            Err(why) => return Opened { theme, opened: Err(Some(why)) },
        };
        let Ok(parsed) = Parsed::restore(parsed, &|fp| pieces.get(fp)) else {
            return Opened { theme, opened: Err(Some("its parsed files are damaged".into())) };
        };
        memo.pieces = pieces;
        return Opened { theme, opened: Ok(Box::new((memo, parsed, blob))) };
    };
    Opened { theme, opened: Err(Some(why)) }
}

/// The cache opened, trusted only if it was made with the templates the site loaded
/// (`theme`).
pub(super) fn trust(opened: Opened, theme: Fingerprint) -> Loaded {
    match opened.opened {
        Err(why) => Loaded::Untrusted(why),
        Ok(_) if opened.theme != theme => Loaded::Untrusted(Some("the theme or the site's templates changed".into())),
        Ok(stored) => Loaded::Trusted(stored),
    }
}

/// The piece file `blob` names, mapped, with its table: every piece must lie inside the
/// file, and the table be sorted for lookups. Its pieces are checked as they are used,
/// unless the file is as its save stamped it ([`Stamp`]).
fn read_pieces(dir: &Path, blob: &Blob, table: Table) -> Result<Mapped, String> {
    let sound = |len: u64| {
        table.windows(2).all(|w| w[0].0 < w[1].0)
            && table.iter().all(|&(_, at, n, _)| at.checked_add(u64::from(n)).is_some_and(|end| end <= len))
    };
    if !sound(blob.len) {
        return Err("its pieces are damaged (one lies outside the file)".into());
    }
    if blob.len == 0 {
        return Ok(Mapped::new(Bytes::new(), table, true));
    }
    let cannot = |e: std::io::Error| format!("its pieces cannot be read ({e})");
    let path = piece_file(dir, blob.generation);
    let file = std::fs::File::open(&path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if meta.len() < blob.len {
        return Err("its pieces are truncated".into());
    }
    // Without a change time to go by (elsewhere than on Unix), every piece is checked.
    let intact = cfg!(unix) && blob.stamp.is_some() && blob.stamp == FileStamp::of(&meta);
    let len = usize::try_from(blob.len).map_err(|_| "its pieces are too big for this machine".to_string())?;
    // Unless nothing touched the file since it was saved, each piece's checksum is
    // checked when it is first used ([`Mapped`]): only the pieces a build uses are ever
    // read (and count as its memory), not the whole file with what earlier edits left
    // dead in it.
    // SAFETY: the file is only ever appended to past `blob.len`, or replaced by a rename
    // (its old contents stay with whoever mapped them); the cache lock keeps any other
    // casebook from cutting it short or changing it while this build has it mapped.
    let map = unsafe { memmap2::MmapOptions::new().len(len).map(&file) }.map_err(cannot)?;
    Ok(Mapped::of_map(map, table, intact))
}

/// A piece to store: held, or to be made (a parse).
enum Piece<'a> {
    Held(Bytes),
    Made(Box<dyn Fn() -> Vec<u8> + Send + Sync + 'a>),
}

/// Writes the pieces the cache is to hold: appended to the file they were read from (the
/// pieces and parses that file lacks), or, once it is twice as big as when it was last
/// written anew, a new file with only the live pieces (`live`) and the parses. Pieces
/// are made a batch at a time on every core and written as they come, so a cold build
/// does not hold every parse serialized at once.
fn save_pieces<'a>(
    dir: &Path,
    pieces: &Pieces,
    parses: Vec<parsed::Piece<'a>>,
    before: Option<&Blob>,
    live: impl FnOnce() -> HashSet<Fingerprint>,
    placement: impl FnOnce() -> HashMap<Fingerprint, u32>,
) -> std::io::Result<Blob> {
    use rayon::prelude::*;
    let file = pieces.file.as_deref();
    // What a stopped build appended past the end is not this cache's: cut off first. A
    // mapped file cannot be cut short everywhere (Windows): then it is written anew.
    let appendable = |b: &Blob| {
        let path = piece_file(dir, b.generation);
        std::fs::metadata(&path).is_ok_and(|m| m.len() == b.len)
            || std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(b.len)).is_ok()
    };
    // Appending to the file the pieces were read from, while it is at most twice its live part.
    let append = before.zip(file).filter(|(b, _)| b.len <= 2 * b.live && appendable(b));
    let in_file = |fp: &Fingerprint| append.is_some_and(|(_, f)| f.contains(*fp));
    // The parses first, apart from the other pieces: every build reads all parses and
    // only some pieces, and the kernel maps in a file's neighbouring pages with each one.
    // A parse the old file has is copied from it rather than serialized again.
    let mut new: Vec<(Fingerprint, Piece)> = parses
        .into_iter()
        .filter(|(fp, _)| !in_file(fp))
        .map(|(fp, make)| (fp, pieces.get(fp).map_or(Piece::Made(make), Piece::Held)))
        .collect();
    let parse_count = new.len();
    match (append, file) {
        // Appending (a piece this run made that the file has was damaged there, and the
        // new one takes its place), or a first save: every piece held.
        (Some(_), _) | (None, None) => new.extend(pieces.held.iter().map(|(fp, b)| (*fp, Piece::Held(b.clone())))),
        // Written anew: the live pieces, wherever they are.
        (None, Some(mapped)) => {
            let live = live();
            new.extend(
                pieces.held.iter().filter(|(fp, _)| live.contains(fp)).map(|(fp, b)| (*fp, Piece::Held(b.clone()))),
            );
            new.extend(
                mapped
                    .table()
                    .iter()
                    .filter(|(fp, ..)| live.contains(fp) && !pieces.held.contains_key(fp))
                    .filter_map(|&(fp, ..)| Some((fp, Piece::Held(pieces.get(fp)?)))),
            );
        }
    }
    // Laid out for reading when written anew; the few an edit appends, by fingerprint.
    let placement = if append.is_none() { placement() } else { HashMap::default() };
    new[parse_count..].sort_unstable_by_key(|(fp, _)| (placement.get(fp).copied().unwrap_or(u32::MAX), *fp));
    let (generation, start, path) = match append {
        Some((b, _)) => (b.generation, b.len, piece_file(dir, b.generation)),
        None => {
            let generation = before.map_or(0, |b| b.generation + 1);
            (generation, 0, dir.join(format!("pieces-{generation}.bin.tmp-{}", std::process::id())))
        }
    };
    let file_out = std::fs::OpenOptions::new().create(true).write(true).truncate(append.is_none()).open(&path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file_out);
    out.seek(std::io::SeekFrom::Start(start))?;
    let mut end = start;
    let mut at: Table = Vec::with_capacity(new.len());
    for batch in new.chunks(256) {
        let made: Vec<(std::borrow::Cow<[u8]>, u32)> = batch
            .par_iter()
            .map(|(_, piece)| {
                let bytes = match piece {
                    Piece::Held(b) => std::borrow::Cow::Borrowed(&b[..]),
                    Piece::Made(make) => std::borrow::Cow::Owned(make()),
                };
                let crc = crc32fast::hash(&bytes);
                (bytes, crc)
            })
            .collect();
        for ((f, _), (bytes, crc)) in batch.iter().zip(made) {
            let n = u32::try_from(bytes.len()).map_err(|_| std::io::Error::other("a piece of over 4 GB"))?;
            out.write_all(&bytes)?;
            at.push((*f, end, n, crc));
            end += u64::from(n);
        }
    }
    out.into_inner().map_err(|e| e.into_error())?;
    at.sort_unstable_by_key(|e| e.0);
    at.dedup_by_key(|e| e.0);
    let (at, live) = match append {
        Some((b, mapped)) => (merge(mapped.table(), at), b.live),
        None => {
            std::fs::rename(&path, piece_file(dir, generation))?;
            (at, end)
        }
    };
    let stamp = std::fs::metadata(piece_file(dir, generation)).ok().and_then(|m| FileStamp::of(&m));
    Ok(Blob { generation, len: end, live, stamp, at })
}

/// Two sorted tables as one (an entry of `new` wins over one of `old`).
fn merge(old: &Table, new: Table) -> Table {
    let mut all = Vec::with_capacity(old.len() + new.len());
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        match old[i].0.cmp(&new[j].0) {
            std::cmp::Ordering::Less => (all.push(old[i]), i += 1),
            std::cmp::Ordering::Greater => (all.push(new[j]), j += 1),
            std::cmp::Ordering::Equal => (all.push(new[j]), (i, j) = (i + 1, j + 1)),
        };
    }
    all.extend_from_slice(&old[i..]);
    all.extend_from_slice(&new[j..]);
    all
}

/// Writes the cache, not yet in place: the pieces first (appended, or a new file), then
/// the index naming them under a temporary name, which [`Saving::publish`] puts in place.
/// `before`: the blob the memo's pieces were read with; `used`: the pieces the run asked
/// for (see [`Memo::live`]).
pub(super) fn save(
    (dir, root): (&Path, &Path),
    key: &Key,
    (memo, parsed, known): (&Memo, &Parsed, &crate::load::Known),
    before: Option<&Blob>,
    used: &[Fingerprint],
) -> std::io::Result<Saving> {
    let (stored, parses) = parsed.stored();
    let blob = save_pieces(
        dir,
        &memo.pieces,
        parses,
        before,
        || {
            let mut live = memo.live(used);
            live.extend(stored.pieces());
            live
        },
        || memo.placement(),
    )?;
    let tmp = dir.join(format!("{FILE}.tmp-{}", std::process::id()));
    let saving = Saving { tmp, dir: dir.to_path_buf(), generation: blob.generation };
    let known = known.stored(root);
    write(&saving.tmp, &Saved { key, known: &known, memo, blob: &blob, parsed: &stored })?;
    Ok(saving)
}

/// A cache written but not yet in place: saved while the output is committed, and put
/// in place only once it is ([`Saving::publish`]); dropped, it is removed. The pieces it
/// appended are past the end the current index names, so they do no harm.
pub(super) struct Saving {
    tmp: PathBuf,
    dir: PathBuf,
    generation: u64,
}

impl Saving {
    /// The saved index replaces the old one; piece files it does not name go.
    pub(super) fn publish(self) -> std::io::Result<()> {
        std::fs::rename(&self.tmp, self.dir.join(FILE))?;
        let current = piece_file(&self.dir, self.generation);
        for entry in std::fs::read_dir(&self.dir)?.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("pieces-") && entry.path() != current {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}

impl Drop for Saving {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Streams the payload to the file behind a placeholder, then writes its checksum there:
/// the index is never held in memory a second time.
fn write(path: &Path, saved: &Saved) -> std::io::Result<()> {
    struct Hashing<W>(W, crc32fast::Hasher);
    impl<W: Write> Write for Hashing<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.0.write(buf)?;
            self.1.update(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0.flush()
        }
    }
    let mut file = std::fs::File::create(path)?;
    file.write_all(&[0; 16])?;
    let out = std::io::BufWriter::with_capacity(1 << 20, Hashing(file, crc32fast::Hasher::new()));
    let out = postcard::to_io(saved, out).map_err(std::io::Error::other)?;
    let Hashing(mut file, hash) = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(&u128::from(hash.finalize()).to_le_bytes())
}

/// The size and modification time (ns since the epoch) of a file, if it is one.
pub(super) fn stat(path: &Path) -> Option<(u64, i128)> {
    crate::write::file_stat(&std::fs::metadata(path).ok()?)
}

/// Removes the cache folder, if it is one this casebook wrote (it has the cache tag).
pub(super) fn remove(dir: &Path) -> Result<bool, crate::diagnostics::Diagnostic> {
    if !dir.exists() {
        return Ok(false);
    }
    if !dir.join("CACHEDIR.TAG").is_file() {
        return Err(crate::diagnostics::Diagnostic::error(
            "output-refused",
            format!("refusing to remove {}: it is not a cache casebook wrote", dir.display()),
        ));
    }
    std::fs::remove_dir_all(dir)
        .map(|()| true)
        .map_err(|e| crate::diagnostics::Diagnostic::error("io", format!("cannot remove {}: {e}", dir.display())))
}
