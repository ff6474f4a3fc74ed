//! Write: the built site goes to a temporary folder beside the output, then takes its
//! place in two renames. A build that fails never touches the previous output.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;

use crate::diagnostics::Diagnostic;
use crate::load::{Asset, AssetData};
use crate::render::OutputFile;

/// Where a build's files go: a folder that the new site replaces whole ([`Staging`]), or
/// memory for `serve` ([`MemoryTxn`]). Both take the same calls, so every output is
/// written one way; neither is visible until the build commits it.
pub trait Store: Sync {
    /// A file made by this build.
    fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), Diagnostic>;
    /// A file made by this build from `pieces`, in order, never held whole on disk.
    fn put_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Bytes>) -> Result<(), Diagnostic>;
    /// A file that is as the last committed build left it.
    fn keep(&self, path: &str) -> Result<(), Diagnostic>;
}

/// Left in every output folder so a later build knows it may replace it.
pub const MARKER: &str = ".casebook-output";

/// Refuses output folders whose replacement would destroy the site or more.
pub fn check_output(root: &Path, output: &Path) -> Result<PathBuf, Diagnostic> {
    let refuse = |why: &str| {
        Err(Diagnostic::error("output-refused", format!("refusing to write the site to {}: {why}", output.display()))
            .hint("choose an empty or new folder, such as public/"))
    };
    let out = absolute(output);
    let root = absolute(root);
    if out.parent().is_none() {
        return refuse("it is the file system's root");
    }
    if root.starts_with(&out) {
        return refuse("it contains the site itself, and the build replaces the whole folder");
    }
    for dir in crate::load::ROOT_DIRS {
        if out.starts_with(root.join(dir)) {
            return refuse(&format!("it is inside the site's {dir}/ folder"));
        }
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        if out == absolute(&home) {
            return refuse("it is your home folder");
        }
    }
    if out.is_file() {
        return refuse("it is a file");
    }
    if out.is_dir() && !out.join(MARKER).exists() && fs::read_dir(&out).map(|mut d| d.next().is_some()).unwrap_or(true)
    {
        return refuse("it exists, is not empty, and was not written by casebook");
    }
    Ok(out)
}

/// Removes an output folder `build` wrote (it has the marker); refuses any other.
pub fn remove_output(output: &Path) -> Result<bool, Diagnostic> {
    if !output.exists() {
        return Ok(false);
    }
    if !output.join(MARKER).is_file() {
        return Err(Diagnostic::error(
            "output-refused",
            format!("refusing to remove {}: it was not written by casebook build", output.display()),
        ));
    }
    fs::remove_dir_all(output).map(|()| true).map_err(|e| io("remove", output, e))
}

/// A path made absolute and cleaned of `.` and `..` without touching the disk, so
/// folders that do not exist yet compare correctly.
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
    // Resolve symlinks in the part that exists, so `/tmp` and `/private/tmp` agree.
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for part in rest.into_iter().rev() {
        out.push(part);
    }
    let mut clean = PathBuf::new();
    for c in out.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

/// A new site being written: a temporary folder beside the output, which takes the
/// output's place in [`Staging::finish`], or is removed by [`Staging::abort`] (or when
/// dropped unfinished), leaving the previous output untouched.
///
/// A lock file beside the output keeps two builds of one site apart: the second waits.
/// Holding it, a build removes the temporary folders of builds that were killed.
#[derive(Debug)]
pub struct Staging {
    output: PathBuf,
    tmp: PathBuf,
    old: PathBuf,
    done: bool,
    /// Held until the staging is finished or dropped.
    _lock: fs::File,
}

fn io(what: &str, p: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error("io", format!("cannot {what} {}: {e}", p.display()))
}

impl Staging {
    /// Creates the temporary folder, under the build lock.
    pub fn new(output: &Path) -> Result<Staging, Diagnostic> {
        let parent = output.parent().unwrap_or(Path::new("."));
        let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "public".into());
        fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        let lock = lock(&parent.join(format!(".{name}.casebook-lock")))?;
        let prefixes = [format!(".{name}.casebook-tmp-"), format!(".{name}.casebook-old-")];
        remove_stale(parent, &prefixes);
        // Unique even when a killed build's process id comes again.
        let id = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        let staging = Staging {
            output: output.to_path_buf(),
            tmp: parent.join(format!("{}{id}", prefixes[0])),
            old: parent.join(format!("{}{id}", prefixes[1])),
            done: false,
            _lock: lock,
        };
        fs::create_dir_all(&staging.tmp).map_err(|e| io("create", &staging.tmp, e))?;
        Ok(staging)
    }

    /// Writes one file of the new site; safe to call from several threads.
    pub fn write(&self, file: &OutputFile) -> Result<(), Diagnostic> {
        let dest = safe_join(&self.tmp, &file.path)?;
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        fs::write(&dest, &file.bytes).map_err(|e| io("write", &dest, e))
    }

    /// Writes one file of the new site from `pieces`, in order, as they come: for the
    /// site-wide exports, which are never held whole.
    pub fn write_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Bytes>) -> Result<(), Diagnostic> {
        use std::io::Write as _;
        let dest = safe_join(&self.tmp, path)?;
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        let file = fs::File::create(&dest).map_err(|e| io("write", &dest, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        for piece in pieces {
            w.write_all(&piece).map_err(|e| io("write", &dest, e))?;
        }
        w.flush().map_err(|e| io("write", &dest, e))
    }

    /// Removes the temporary folder: the previous output stays as it was.
    pub fn abort(mut self) {
        self.done = true;
        let _ = fs::remove_dir_all(&self.tmp);
    }

    /// Puts the new site in the output's place. The previous one is removed in the
    /// background, under the build lock, until the returned [`Cleanup`] is dropped.
    pub fn finish(mut self) -> Result<Cleanup, Diagnostic> {
        self.done = true;
        let (output, tmp, old) = (&self.output, &self.tmp, &self.old);
        const TEXT: &str = "This folder is written by casebook build and replaced whole on every build.\n";
        // The same marker as before keeps its time, like every unchanged file.
        let kept = fs::read(output.join(MARKER)).is_ok_and(|b| b == TEXT.as_bytes())
            && fs::hard_link(output.join(MARKER), tmp.join(MARKER)).is_ok();
        if let Err(e) = if kept { Ok(()) } else { fs::write(tmp.join(MARKER), TEXT) } {
            let _ = fs::remove_dir_all(tmp);
            return Err(io("write", tmp, e));
        }
        if output.exists() {
            fs::rename(output, old).map_err(|e| io("move aside", output, e))?;
        }
        if let Err(e) = fs::rename(tmp, output) {
            let _ = fs::rename(old, output);
            return Err(io("move into place", output, e));
        }
        let old = old.clone();
        let remove = std::thread::spawn(move || {
            let _ = fs::remove_dir_all(old);
        });
        // The lock goes with the cleanup: the next build waits until the old site is gone.
        let lock = self._lock.try_clone().ok();
        Ok(Cleanup { remove: Some(remove), _lock: lock })
    }
}

/// The previous output being removed; dropping this waits until it is gone.
pub struct Cleanup {
    remove: Option<std::thread::JoinHandle<()>>,
    _lock: Option<fs::File>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(r) = self.remove.take() {
            let _ = r.join();
        }
    }
}

impl Store for Staging {
    fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), Diagnostic> {
        self.write(&OutputFile { path: path.to_string(), bytes })
    }

    fn put_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Bytes>) -> Result<(), Diagnostic> {
        self.write_pieces(path, pieces)
    }

    /// A hard link to the file of the current output: same bytes, same modification
    /// time, so a deploy that syncs by time moves only what changed.
    fn keep(&self, path: &str) -> Result<(), Diagnostic> {
        let from = safe_join(&self.output, path)?;
        let dest = safe_join(&self.tmp, path)?;
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        match fs::hard_link(&from, &dest) {
            Ok(()) => Ok(()),
            // An asset of the same path, put first: the page wins.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(&dest);
                fs::hard_link(&from, &dest)
            }
            Err(e) => Err(e),
        }
        .or_else(|_| fs::copy(&from, &dest).map(|_| ()))
        .map_err(|e| io("keep", &from, e))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Takes the build lock of an output folder, waiting (and saying so) while another
/// build holds it. The lock goes with the process, so a killed build never leaves it held.
fn lock(path: &Path) -> Result<fs::File, Diagnostic> {
    let file =
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(|e| io("open", path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => {
            eprintln!("waiting for another build of this site to finish ...");
            file.lock().map_err(|e| io("lock", path, e))?;
            Ok(file)
        }
        Err(fs::TryLockError::Error(e)) => Err(io("lock", path, e)),
    }
}

/// Removes what killed builds left beside the output (only ever called under the lock).
fn remove_stale(parent: &Path, prefixes: &[String]) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// `base/rel`, refusing any `rel` that would leave `base`.
fn safe_join(base: &Path, rel: &str) -> Result<PathBuf, Diagnostic> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Diagnostic::error(
            "path-refused",
            format!("refusing to write {rel:?}: it would leave the output folder"),
        ));
    }
    Ok(base.join(p))
}

/// A file held in memory: whole, or as the pieces it was made of (the site-wide exports,
/// a hundred megabytes at 10,000 cases, share their pieces with the engine's memo, so an
/// edit does not copy them into one buffer).
#[derive(Debug, Clone)]
pub enum Held {
    Whole(Bytes),
    Pieces(Arc<[Bytes]>),
}

impl Held {
    /// The file's bytes, joined when it is held in pieces.
    pub fn bytes(&self) -> Bytes {
        match self {
            Held::Whole(b) => b.clone(),
            Held::Pieces(p) => Bytes::from(p.concat()),
        }
    }

    /// The file's bytes, chunk by chunk as held.
    fn chunks(&self) -> &[Bytes] {
        match self {
            Held::Whole(b) => std::slice::from_ref(b),
            Held::Pieces(p) => p,
        }
    }

    /// Whether two are the same bytes; those a run kept share their buffers, so
    /// comparing where they are is enough for them. Never joins the pieces: the exports
    /// run to a hundred megabytes, and serve compares them after every edit.
    fn same(&self, other: &Held) -> bool {
        let (a, b) = (self.chunks(), other.chunks());
        let at = |a: &Bytes, b: &Bytes| a.as_ptr() == b.as_ptr() && a.len() == b.len();
        // Pieces in the same places: those kept are compared by where they are.
        if a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.len() == b.len()) {
            return a.iter().zip(b).all(|(a, b)| at(a, b) || a == b);
        }
        let total = |c: &[Bytes]| c.iter().map(Bytes::len).sum::<usize>();
        total(a) == total(b) && same_stream(a, b)
    }
}

/// Whether two lists of chunks hold the same bytes, wherever their boundaries fall.
fn same_stream(a: &[Bytes], b: &[Bytes]) -> bool {
    let mut a = a.iter().map(|c| &c[..]).filter(|c| !c.is_empty());
    let mut b = b.iter().map(|c| &c[..]).filter(|c| !c.is_empty());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if x.is_empty() {
            x = a.next().unwrap_or_default();
        }
        if y.is_empty() {
            y = b.next().unwrap_or_default();
        }
        if x.is_empty() || y.is_empty() {
            return x.is_empty() && y.is_empty();
        }
        let n = x.len().min(y.len());
        if x[..n] != y[..n] {
            return false;
        }
        (x, y) = (&x[n..], &y[n..]);
    }
}

/// The site in memory, for `serve`: path by path, the bytes a build would write.
#[derive(Debug, Default)]
pub struct Memory {
    files: RwLock<Arc<HashMap<String, Held>>>,
}

impl Memory {
    pub fn get(&self, path: &str) -> Option<Bytes> {
        self.files.read().ok()?.get(path).map(Held::bytes)
    }

    /// Whether `path` is a file of the site.
    pub fn has(&self, path: &str) -> bool {
        self.files.read().is_ok_and(|f| f.contains_key(path))
    }

    /// Every file, as of the last commit.
    pub fn snapshot(&self) -> Arc<HashMap<String, Held>> {
        self.files.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// A new version of the site, empty until files are put or kept.
    pub fn begin(&self) -> MemoryTxn<'_> {
        MemoryTxn { memory: self, old: self.snapshot(), new: Mutex::new(HashMap::new()) }
    }
}

/// The bytes of a file copied as is.
pub fn read_asset(asset: &Asset) -> Result<Vec<u8>, Diagnostic> {
    match &asset.data {
        AssetData::File(src) => fs::read(src).map_err(|e| io("read", src, e)),
        AssetData::Builtin(b) => Ok(b.to_vec()),
    }
}

/// A version of the in-memory site being made; [`MemoryTxn::commit`] swaps it in whole.
pub struct MemoryTxn<'a> {
    memory: &'a Memory,
    old: Arc<HashMap<String, Held>>,
    new: Mutex<HashMap<String, Held>>,
}

impl MemoryTxn<'_> {
    fn insert(&self, path: &str, bytes: Held) -> Result<(), Diagnostic> {
        safe_join(Path::new(""), path)?;
        self.new.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), bytes);
        Ok(())
    }

    /// Makes this version the site; returns the paths that changed, appeared or went.
    pub fn commit(self) -> Vec<String> {
        let new = self.new.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut changed: Vec<String> = new
            .iter()
            .filter(|(p, b)| !self.old.get(*p).is_some_and(|o| o.same(b)))
            .map(|(p, _)| p.clone())
            .chain(self.old.keys().filter(|p| !new.contains_key(*p)).cloned())
            .collect();
        changed.sort();
        if let Ok(mut files) = self.memory.files.write() {
            *files = Arc::new(new);
        }
        changed
    }
}

impl Store for MemoryTxn<'_> {
    fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), Diagnostic> {
        self.insert(path, Held::Whole(Bytes::from(bytes)))
    }

    fn put_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Bytes>) -> Result<(), Diagnostic> {
        self.insert(path, Held::Pieces(pieces.collect()))
    }

    fn keep(&self, path: &str) -> Result<(), Diagnostic> {
        match self.old.get(path) {
            Some(b) => self.insert(path, b.clone()),
            None => Err(Diagnostic::error("io", format!("cannot keep {path}: the last build did not make it"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `bytes` cut at `cuts` (positions, any order).
    fn pieces(bytes: &[u8], cuts: &[usize]) -> Held {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.extend([0, bytes.len()]);
        cuts.sort();
        Held::Pieces(cuts.windows(2).map(|w| Bytes::copy_from_slice(&bytes[w[0]..w[1]])).collect())
    }

    proptest! {
        #[test]
        fn pieces_compare_by_their_bytes_not_their_boundaries(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            cuts_a in proptest::collection::vec(any::<usize>(), 0..6),
            cuts_b in proptest::collection::vec(any::<usize>(), 0..6),
            flip in any::<usize>(),
        ) {
            let a = pieces(&bytes, &cuts_a);
            prop_assert!(a.same(&pieces(&bytes, &cuts_b)));
            prop_assert!(a.same(&Held::Whole(Bytes::copy_from_slice(&bytes))));
            if !bytes.is_empty() {
                let mut other = bytes.clone();
                other[flip % bytes.len()] ^= 1;
                prop_assert!(!a.same(&pieces(&other, &cuts_b)));
                prop_assert!(!a.same(&pieces(&bytes[1..], &cuts_b)));
            }
        }
    }
}
