//! Write: the built site goes to a temporary folder beside the output, then takes its
//! place: whole in two renames, or, when the build cache describes the output, file by
//! file under a journal ([`Staging`]). A build that fails never touches the previous output.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
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
        return refuse("it exists, is not empty, and was not written by casebook").map_err(|d| {
            d.hint("move what is in it elsewhere (the build replaces the whole folder), or choose a new folder")
        });
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
    // A killed commit's journal would otherwise move files into a folder that is gone.
    let _ = fs::remove_file(beside(output, "journal"));
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

/// A new site being written: a temporary folder beside the output, committed by
/// [`Staging::finish`] in one of two ways:
///
/// - **swap** (a build from nothing): the folder holds the whole site, unchanged files
///   hard-linked from the output, and takes the output's place in two renames;
/// - **patch** (a build whose cache describes the output): the folder holds only the new
///   and changed files. A journal beside the output lists them and the output's entries
///   this run did not make; then each file is moved into place and each entry removed. A
///   build killed meanwhile leaves the journal, and the next build finishes it first
///   ([`recover`]).
///
/// Either way the output does not change before the commit, so a build with errors
/// ([`Staging::abort`], or dropped unfinished) leaves it untouched.
///
/// A lock file beside the output keeps two builds of one site apart: the second waits.
/// Holding it, a build removes the temporary folders of builds that were killed.
#[derive(Debug)]
pub struct Staging {
    output: PathBuf,
    tmp: PathBuf,
    old: PathBuf,
    journal: PathBuf,
    patch: Option<Patch>,
    done: bool,
    /// Held until the staging is finished or dropped.
    _lock: fs::File,
}

/// What a patch commit works from.
#[derive(Debug)]
struct Patch {
    /// Every path of this run (as `/`-joined components), and whether its file is in the
    /// temporary folder (`false`: kept in the output).
    paths: Mutex<HashMap<String, bool>>,
    /// The output's entries, listed in the background while the site renders (the
    /// output does not change meanwhile: the lock is held); waited for by the first
    /// to ask ([`Patch::listing`]).
    listing: std::sync::OnceLock<std::io::Result<Listing>>,
    lister: Mutex<Option<std::thread::JoinHandle<std::io::Result<Listing>>>>,
}

impl Patch {
    fn new(output: &Path) -> Patch {
        let output = output.to_path_buf();
        let lister = std::thread::spawn(move || list(&output));
        Patch { paths: Mutex::default(), listing: std::sync::OnceLock::new(), lister: Mutex::new(Some(lister)) }
    }

    fn listing(&self) -> &std::io::Result<Listing> {
        self.listing.get_or_init(|| {
            let lister = self.lister.lock().unwrap_or_else(|e| e.into_inner()).take();
            lister
                .map(|l| l.join().unwrap_or_else(|_| Err(std::io::Error::other("the listing failed"))))
                .unwrap_or_else(|| Err(std::io::Error::other("the listing failed")))
        })
    }
}

fn io(what: &str, p: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error("io", format!("cannot {what} {}: {e}", p.display()))
}

/// The marker's text.
const TEXT: &str = "This folder is written by casebook build and replaced whole on every build.\n";

/// What lives beside the output folder `parent/name` is named `.name.casebook-…`.
fn beside(output: &Path, what: &str) -> PathBuf {
    let parent = output.parent().unwrap_or(Path::new("."));
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "public".into());
    parent.join(format!(".{name}.casebook-{what}"))
}

impl Staging {
    /// Creates the temporary folder, under the build lock. `patch`: the build cache
    /// describes the output, so only what changes need be written (see [`Staging`]).
    pub fn new(output: &Path, patch: bool) -> Result<Staging, Diagnostic> {
        let parent = output.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        let lock = lock(&beside(output, "lock"))?;
        // `recover` did this before the cache was read; a journal since is finished here.
        roll_forward(output)?;
        let prefixes = [beside(output, "tmp-"), beside(output, "old-")];
        remove_stale(parent, &prefixes);
        // Unique even when a killed build's process id comes again.
        let id = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        let with_id = |p: &Path| {
            let mut p = p.as_os_str().to_os_string();
            p.push(&id);
            PathBuf::from(p)
        };
        let staging = Staging {
            output: output.to_path_buf(),
            tmp: with_id(&prefixes[0]),
            old: with_id(&prefixes[1]),
            journal: beside(output, "journal"),
            // An output without the marker is not one a cache can describe.
            patch: (patch && output.join(MARKER).is_file()).then(|| Patch::new(output)),
            done: false,
            _lock: lock,
        };
        fs::create_dir_all(&staging.tmp).map_err(|e| io("create", &staging.tmp, e))?;
        Ok(staging)
    }

    /// Writes one file of the new site; safe to call from several threads.
    pub fn write(&self, file: &OutputFile) -> Result<(), Diagnostic> {
        let dest = self.staged(&file.path)?;
        fs::write(&dest, &file.bytes).map_err(|e| io("write", &dest, e))
    }

    /// Writes one file of the new site from `pieces`, in order, as they come: for the
    /// site-wide exports, which are never held whole.
    pub fn write_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Bytes>) -> Result<(), Diagnostic> {
        let dest = self.staged(path)?;
        let mut file = fs::File::create(&dest).map_err(|e| io("write", &dest, e))?;
        // A few hundred pieces a system call, handed to the kernel where they are, not
        // copied into a buffer first: the two site-wide exports are 145 MB at 10,000 cases.
        let mut batch: Vec<Bytes> = Vec::with_capacity(BATCH);
        let mut size = 0;
        for piece in pieces {
            size += piece.len();
            batch.push(piece);
            if batch.len() == BATCH || size >= 1 << 20 {
                write_all(&mut file, &batch).map_err(|e| io("write", &dest, e))?;
                batch.clear();
                size = 0;
            }
        }
        write_all(&mut file, &batch).map_err(|e| io("write", &dest, e))
    }

    /// The size and modification time of a file this run wrote, as it will be once
    /// committed (moving it keeps both).
    pub fn staged_stat(&self, path: &str) -> Option<FileStat> {
        file_stat(&fs::metadata(safe_join(&self.tmp, path).ok()?).ok()?)
    }

    /// Where a file of this run goes in the temporary folder (its folder made), noted.
    fn staged(&self, path: &str) -> Result<PathBuf, Diagnostic> {
        let dest = safe_join(&self.tmp, path)?;
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        self.note(path, true);
        Ok(dest)
    }

    /// Patch mode: `path` is a file of this run, in the temporary folder or kept. Returns
    /// whether it was in the temporary folder before.
    fn note(&self, path: &str, staged: bool) -> bool {
        let Some(Patch { paths, .. }) = &self.patch else { return false };
        // As the walk of the output spells it (most paths already are).
        let spelled =
            !path.starts_with('/') && !path.contains('\\') && path.split('/').all(|c| !c.is_empty() && c != ".");
        let key = if spelled {
            path.to_string()
        } else {
            Path::new(path).components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
        };
        paths.lock().unwrap_or_else(|e| e.into_inner()).insert(key, staged) == Some(true)
    }

    /// A hard link to the file of the current output: same bytes, same modification
    /// time, so a deploy that syncs by time moves only what changed.
    fn link(&self, path: &str) -> Result<(), Diagnostic> {
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

    /// Patch mode: each regular file of the output as it was when the build began (by
    /// `/`-joined path), with its size and modification time, from the background
    /// listing (waited for). `None` when this is not a patch commit or the listing failed.
    pub fn output_files(&self) -> Option<&HashMap<String, FileStat>> {
        self.patch.as_ref()?.listing().as_ref().ok().map(|l| &l.files)
    }

    /// Removes the temporary folder: the previous output stays as it was.
    pub fn abort(mut self) {
        self.done = true;
        let _ = fs::remove_dir_all(&self.tmp);
    }

    /// Makes the new site the output (see [`Staging`]). What is left to remove (the
    /// previous output, or the emptied temporary folder) goes in the background, under
    /// the build lock, until the returned [`Cleanup`] is dropped.
    pub fn finish(mut self) -> Result<Cleanup, Diagnostic> {
        // The same marker as before keeps its time, like every unchanged file.
        let marker_kept = fs::read(self.output.join(MARKER)).is_ok_and(|b| b == TEXT.as_bytes());
        if let Some(patch) = self.patch.take() {
            patch.listing();
            let Patch { paths, listing, .. } = patch;
            let paths = paths.into_inner().unwrap_or_else(|e| e.into_inner());
            let staged = paths.values().filter(|s| **s).count();
            if staged <= paths.len() - staged {
                let listing = listing.into_inner().unwrap_or_else(|| Err(std::io::Error::other("the listing failed")));
                let listing = listing.map_err(|e| io("list", &self.output, e))?;
                if let Some(remove) = strays(&listing.entries, &paths) {
                    return self.patch(paths, remove, marker_kept);
                }
            }
            // Most of the site is new (linking the rest and swapping moves fewer files),
            // or the output is not in a shape to patch.
            use rayon::prelude::*;
            paths.par_iter().filter(|(_, s)| !**s).try_for_each(|(p, _)| self.link(p))?;
        }
        self.swap(marker_kept)
    }

    fn swap(mut self, marker_kept: bool) -> Result<Cleanup, Diagnostic> {
        let (output, tmp, old) = (&self.output, &self.tmp, &self.old);
        let kept = marker_kept && fs::hard_link(output.join(MARKER), tmp.join(MARKER)).is_ok();
        if !kept {
            fs::write(tmp.join(MARKER), TEXT).map_err(|e| io("write", tmp, e))?;
        }
        self.done = true;
        if output.exists() {
            if let Err(e) = fs::rename(output, old) {
                let _ = fs::remove_dir_all(tmp);
                return Err(io("move aside", output, e));
            }
        }
        if let Err(e) = fs::rename(tmp, output) {
            let _ = fs::rename(old, output);
            return Err(io("move into place", output, e));
        }
        let old = old.clone();
        Ok(self.cleanup(old))
    }

    fn patch(
        mut self,
        mut paths: HashMap<String, bool>,
        remove: Vec<(PathBuf, bool)>,
        marker_kept: bool,
    ) -> Result<Cleanup, Diagnostic> {
        if !marker_kept {
            fs::write(self.tmp.join(MARKER), TEXT).map_err(|e| io("write", &self.tmp, e))?;
        }
        paths.insert(MARKER.to_string(), !marker_kept);
        let mut rename: Vec<PathBuf> = paths.iter().filter(|(_, s)| **s).map(|(p, _)| PathBuf::from(p)).collect();
        rename.sort();
        let journal = Journal { staging: self.tmp.file_name().unwrap_or_default().to_os_string(), remove, rename };
        // A folder the commit cannot change (another user's, read-only) stops it before
        // anything in the output changes, not halfway.
        journal.probe(&self.output)?;
        journal.write(&self.journal)?;
        // From here on the commit only goes forward: the temporary folder is the journal's.
        self.done = true;
        journal.apply(&self.output, &self.tmp).map_err(|d| {
            Diagnostic::error("output-partial", format!("{}; the output folder is partly updated", d.message)).hint(
                "fix the cause and build again: the next build finishes this update first (its journal is kept \
                 beside the output folder)",
            )
        })?;
        fs::remove_file(&self.journal).map_err(|e| io("remove", &self.journal, e))?;
        let tmp = self.tmp.clone();
        Ok(self.cleanup(tmp))
    }

    /// Removes `folder` in the background; the lock goes with it, so the next build
    /// waits until it is gone.
    fn cleanup(&self, folder: PathBuf) -> Cleanup {
        let remove = std::thread::spawn(move || {
            let _ = fs::remove_dir_all(folder);
        });
        Cleanup { remove: Some(remove), _lock: self._lock.try_clone().ok() }
    }
}

/// What is left of a build being removed; dropping this waits until it is gone.
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

    /// Swap: a hard link ([`Staging::link`]). Patch: the file stays where it is.
    fn keep(&self, path: &str) -> Result<(), Diagnostic> {
        if self.patch.is_none() {
            return self.link(path);
        }
        // Checked as every path is, without making the path (33,000 kept files a build).
        check_path(path)?;
        // An asset of the same path, put first: the page wins, and it is the output's.
        if self.note(path, false) {
            let dest = safe_join(&self.tmp, path)?;
            fs::remove_file(&dest).map_err(|e| io("remove", &dest, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// An entry of the output folder: its path there (`key`: `/`-joined, if it is UTF-8),
/// whether it is a folder, and the folder it is in (an index into the listing).
#[derive(Debug)]
struct Entry {
    path: PathBuf,
    key: Option<String>,
    dir: bool,
    parent: Option<usize>,
}

/// The output as it is before the commit.
#[derive(Debug)]
struct Listing {
    /// Every entry, each folder before what it holds.
    entries: Vec<Entry>,
    /// Each regular file's size and modification time, by its `/`-joined path.
    files: HashMap<String, FileStat>,
}

/// Pieces a system call ([`write_all`]); under every system's limit (1,024 on Linux).
const BATCH: usize = 512;

/// Writes `pieces` one after another, as many at a time as the system takes.
fn write_all(file: &mut fs::File, pieces: &[Bytes]) -> std::io::Result<()> {
    use std::io::{IoSlice, Write as _};
    let mut slices: Vec<IoSlice> = pieces.iter().filter(|p| !p.is_empty()).map(|p| IoSlice::new(p)).collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A file's size and modification time (nanoseconds since the epoch).
pub type FileStat = (u64, i128);

/// The size and modification time of what `meta` describes, if it is a regular file.
pub fn file_stat(meta: &fs::Metadata) -> Option<FileStat> {
    if !meta.is_file() {
        return None;
    }
    let ns = match meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    Some((meta.len(), ns))
}

/// One walk of the output: every entry, and each file's size and time, which the build
/// compares with what its cache says it wrote (one `stat` per file, here, not two).
fn list(output: &Path) -> std::io::Result<Listing> {
    let mut all: Vec<Entry> = Vec::new();
    let mut files = HashMap::default();
    let mut todo = vec![None];
    while let Some(at) = todo.pop() {
        let base = at.map_or_else(PathBuf::new, |i: usize| all[i].path.clone());
        for e in fs::read_dir(output.join(&base))? {
            let e = e?;
            let kind = e.file_type()?;
            let dir = kind.is_dir();
            let path = base.join(e.file_name());
            let key = path.to_str().map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"));
            if dir {
                todo.push(Some(all.len()));
            } else if let (true, Some(k), Ok(meta)) = (kind.is_file(), &key, e.metadata()) {
                if let Some(stat) = file_stat(&meta) {
                    files.insert(k.clone(), stat);
                }
            }
            all.push(Entry { path, key, dir, parent: at });
        }
    }
    Ok(Listing { entries: all, files })
}

/// The output's entries a patch commit removes: each file that is not one of `paths` (or
/// the marker), and each folder that holds none of them, whole. These are the files this
/// run no longer makes, and those put there by hand. None if a folder of the site is
/// something else in the output (a link to a folder, say): the files kept in it would
/// go with it.
fn strays(listing: &[Entry], paths: &HashMap<String, bool>) -> Option<Vec<(PathBuf, bool)>> {
    let mut dirs = std::collections::HashSet::new();
    for p in paths.keys() {
        let mut p = p.as_str();
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            if !dirs.insert(p) {
                break;
            }
        }
    }
    let mut gone = vec![false; listing.len()];
    let mut found = Vec::new();
    for (i, e) in listing.iter().enumerate() {
        // Inside a folder that goes whole.
        if e.parent.is_some_and(|p| gone[p]) {
            gone[i] = true;
            continue;
        }
        let key = e.key.as_deref();
        let wanted = key.is_some_and(|k| if e.dir { dirs.contains(k) } else { paths.contains_key(k) || k == MARKER });
        if !wanted {
            if !e.dir && key.is_some_and(|k| dirs.contains(k)) {
                return None;
            }
            gone[i] = true;
            found.push((e.path.clone(), e.dir));
        }
    }
    Some(found)
}

/// The plan of a patch commit, written beside the output (`.public.casebook-journal` for
/// `public/`) and synced before the output changes. It is text, a line each:
///
/// ```text
/// casebook journal 1
/// staging .public.casebook-tmp-…     the temporary folder, beside the output
/// remove-dir cases/old               a folder of the output, removed whole
/// remove-file cases/x/stray.txt      a file of the output
/// rename cases/alpha/index.html      a file moved from the temporary folder
/// end
/// ```
///
/// Paths are relative, `/`-separated; a `%`, a control character or a byte that is not
/// UTF-8 is written `%XX`. A journal without its `end` line was cut short before the
/// output changed.
#[derive(Debug, PartialEq)]
struct Journal {
    staging: std::ffi::OsString,
    /// Entries of the output (`true`: a folder), removed first, so that a path that turns
    /// from folder to file or back is free for its rename.
    remove: Vec<(PathBuf, bool)>,
    rename: Vec<PathBuf>,
}

const JOURNAL_HEAD: &str = "casebook journal 1";

impl Journal {
    fn write(&self, path: &Path) -> Result<(), Diagnostic> {
        use std::io::Write as _;
        let mut text = format!("{JOURNAL_HEAD}\nstaging {}\n", escape(Path::new(&self.staging)));
        for (p, dir) in &self.remove {
            text += &format!("{} {}\n", if *dir { "remove-dir" } else { "remove-file" }, escape(p));
        }
        for p in &self.rename {
            text += &format!("rename {}\n", escape(p));
        }
        text += "end\n";
        let written = fs::File::create(path).and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(path);
            return Err(io("write", path, e));
        }
        // The journal's name in its folder, too (where a folder can be synced).
        if let Some(parent) = path.parent().and_then(|p| fs::File::open(p).ok()) {
            let _ = parent.sync_all();
        }
        Ok(())
    }

    /// A whole journal, or None (cut short, or not one this casebook wrote). Every path in
    /// it must stay inside its folder.
    fn parse(text: &str) -> Option<Journal> {
        let mut lines = text.lines();
        if lines.next()? != JOURNAL_HEAD {
            return None;
        }
        let staging = unescape(lines.next()?.strip_prefix("staging ")?)?;
        let mut journal = Journal { staging: staging.into_os_string(), remove: Vec::new(), rename: Vec::new() };
        if Path::new(&journal.staging).components().count() != 1 || !safe(Path::new(&journal.staging)) {
            return None;
        }
        for line in lines {
            let (what, p) = line.split_once(' ').unwrap_or((line, ""));
            let p = (what != "end").then(|| unescape(p).filter(|p| safe(p))).flatten();
            match (what, p) {
                ("remove-dir", Some(p)) => journal.remove.push((p, true)),
                ("remove-file", Some(p)) => journal.remove.push((p, false)),
                ("rename", Some(p)) => journal.rename.push(p),
                ("end", _) => return Some(journal),
                _ => return None,
            }
        }
        None
    }

    /// Tries a file in each folder of the output the journal changes (the nearest one
    /// that exists, for a folder it would make): an error names the first it cannot.
    fn probe(&self, output: &Path) -> Result<(), Diagnostic> {
        let mut folders: Vec<PathBuf> = Vec::new();
        let parents = self.remove.iter().map(|(p, _)| p).chain(&self.rename).filter_map(|p| p.parent());
        for rel in parents {
            let mut dir = output.join(rel);
            while !dir.is_dir() && dir.starts_with(output) && dir != output {
                dir.pop();
            }
            folders.push(dir);
        }
        folders.push(output.to_path_buf());
        folders.sort();
        folders.dedup();
        let name = format!(".casebook-probe-{}", std::process::id());
        for dir in folders {
            let probe = dir.join(&name);
            fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&probe)
                .and_then(|_| fs::remove_file(&probe))
                .map_err(|e| io("write into", &dir, e))?;
        }
        Ok(())
    }

    /// Does what the journal says; again after a kill, it does what is left.
    fn apply(&self, output: &Path, staging: &Path) -> Result<(), Diagnostic> {
        for (rel, dir) in &self.remove {
            let p = output.join(rel);
            // Only what was listed: after a rename, the path may hold the new file.
            let listed = fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir() == *dir);
            let removed = match (listed, dir) {
                (false, _) => Ok(()),
                (true, true) => fs::remove_dir_all(&p),
                (true, false) => fs::remove_file(&p),
            };
            removed.map_err(|e| io("remove", &p, e))?;
        }
        for rel in &self.rename {
            let (from, to) = (staging.join(rel), output.join(rel));
            // Gone: moved before a kill.
            if fs::symlink_metadata(&from).is_err() {
                continue;
            }
            if let Some(dir) = to.parent() {
                fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
            }
            fs::rename(&from, &to).map_err(|e| io("move into place", &to, e))?;
        }
        Ok(())
    }
}

/// A path for the journal: `/`-separated, one line, `%XX` for what would not survive that.
fn escape(p: &Path) -> String {
    let mut out = String::new();
    for (i, c) in p.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        let bytes = c.as_os_str().as_encoded_bytes();
        for chunk in bytes.utf8_chunks() {
            for ch in chunk.valid().chars() {
                if ch == '%' || ch.is_control() {
                    let mut buf = [0; 4];
                    ch.encode_utf8(&mut buf).bytes().for_each(|b| out += &format!("%{b:02X}"));
                } else {
                    out.push(ch);
                }
            }
            chunk.invalid().iter().for_each(|b| out += &format!("%{b:02X}"));
        }
    }
    out
}

/// The path [`escape`] wrote, or None if it is not one.
fn unescape(s: &str) -> Option<PathBuf> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    #[cfg(unix)]
    let path = PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes));
    #[cfg(not(unix))]
    let path = PathBuf::from(String::from_utf8(bytes).ok()?);
    Some(path)
}

/// Finishes the commit of a build that was killed while committing (its journal is
/// there), under the build lock. `true`: there was one, so the build cache may not
/// describe the output any more.
pub fn recover(output: &Path) -> Result<bool, Diagnostic> {
    if fs::symlink_metadata(beside(output, "journal")).is_err() {
        return Ok(false);
    }
    let _lock = lock(&beside(output, "lock"))?;
    roll_forward(output)
}

/// [`recover`], the lock held.
fn roll_forward(output: &Path) -> Result<bool, Diagnostic> {
    let path = beside(output, "journal");
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io("read", &path, e)),
    };
    // Cut short, the journal was written before anything in the output changed.
    if let Some(journal) = std::str::from_utf8(&bytes).ok().and_then(Journal::parse) {
        let staging = output.parent().unwrap_or(Path::new(".")).join(&journal.staging);
        journal.apply(output, &staging)?;
    }
    fs::remove_file(&path).map_err(|e| io("remove", &path, e))?;
    Ok(true)
}

/// Takes the build lock of an output folder, waiting (and saying so) while another
/// build holds it. The lock goes with the process, so a killed build never leaves it held.
fn lock(path: &Path) -> Result<fs::File, Diagnostic> {
    lock_file(path).map_err(|e| io("lock", path, e))
}

/// Takes the lock `path` is (made if missing), waiting and saying so while another build
/// holds it: the output's here, the build cache's in `engine::cache`.
pub(crate) fn lock_file(path: &Path) -> std::io::Result<fs::File> {
    let file = fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => {
            eprintln!("waiting for another build of this site to finish ...");
            file.lock()?;
            Ok(file)
        }
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Removes what killed builds left beside the output (only ever called under the lock).
fn remove_stale(parent: &Path, prefixes: &[PathBuf]) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    let prefixes: Vec<_> = prefixes.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy()).collect();
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if prefixes.iter().any(|p| name.starts_with(p.as_ref())) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Whether `rel` is a non-empty relative path that stays inside the folder it is joined to.
fn safe(rel: &Path) -> bool {
    !rel.as_os_str().is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)))
}

/// `base/rel`, refusing any `rel` that would leave `base`.
fn safe_join(base: &Path, rel: &str) -> Result<PathBuf, Diagnostic> {
    check_path(rel)?;
    Ok(base.join(rel))
}

/// Refuses a `rel` that would leave the output folder.
fn check_path(rel: &str) -> Result<(), Diagnostic> {
    if !safe(Path::new(rel)) {
        return Err(Diagnostic::error(
            "path-refused",
            format!("refusing to write {rel:?}: it would leave the output folder"),
        ));
    }
    Ok(())
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
    on_commit: std::sync::OnceLock<OnCommit>,
    /// Files a run showed before its commit ([`MemoryTxn::publish`]), read before
    /// `files`: `None` for one shown gone. Empty between runs.
    early: RwLock<HashMap<String, Option<Held>>>,
    /// The paths last asked for, newest first: what the writer is looking at.
    asked: Mutex<std::collections::VecDeque<String>>,
}

/// How many paths [`Memory::asked`] remembers: the pages of a few open tabs, with what
/// they load.
const ASKED: usize = 16;

/// Told the paths each commit changed, the moment it is made: `serve` reloads the open
/// pages then, not after the engine has tidied up its run.
struct OnCommit(Box<Told>);

/// What [`OnCommit`] calls: it is given the paths changed, and when.
type Told = dyn Fn(&[String], Moment) + Send + Sync;

/// When the site changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// Some files of a run were shown before the rest ([`MemoryTxn::publish`]).
    Early,
    /// A run was committed: the site is the new one, whole.
    Commit,
    /// A run that showed files early failed: they are as they were.
    Undone,
}

impl std::fmt::Debug for OnCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnCommit")
    }
}

impl Memory {
    /// What each commit calls with the paths it changed, once it is visible (set once;
    /// later calls change nothing).
    pub fn on_commit(&self, f: impl Fn(&[String], Moment) + Send + Sync + 'static) {
        let _ = self.on_commit.set(OnCommit(Box::new(f)));
    }

    pub fn get(&self, path: &str) -> Option<Bytes> {
        if let Some(shown) = self.shown(path) {
            return shown.as_ref().map(Held::bytes);
        }
        self.files.read().ok()?.get(path).map(Held::bytes)
    }

    /// What a run not yet committed showed at `path` ([`MemoryTxn::publish`]): `None`
    /// if nothing, `Some(None)` if it showed the file gone.
    fn shown(&self, path: &str) -> Option<Option<Held>> {
        self.early.read().ok()?.get(path).cloned()
    }

    /// [`Memory::get`] for a reader (`serve`'s browser): whether or not the site has a
    /// file at `path`, it counts as asked for.
    pub fn ask(&self, path: &str) -> Option<Bytes> {
        if let Ok(mut asked) = self.asked.lock() {
            if asked.front().is_none_or(|p| p != path) {
                asked.retain(|p| p != path);
                asked.push_front(path.to_string());
                asked.truncate(ASKED);
            }
        }
        self.get(path)
    }

    /// The paths asked for lately ([`Memory::ask`]), newest first: a run makes these
    /// first and shows them before the rest ([`MemoryTxn::publish`]).
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().map(|a| a.iter().cloned().collect()).unwrap_or_default()
    }

    /// Whether a run not yet committed showed `path` gone ([`MemoryTxn::publish`]).
    pub fn shown_gone(&self, path: &str) -> bool {
        matches!(self.shown(path), Some(None))
    }

    /// Whether `path` is a file of the site.
    pub fn has(&self, path: &str) -> bool {
        if let Some(shown) = self.shown(path) {
            return shown.is_some();
        }
        self.files.read().is_ok_and(|f| f.contains_key(path))
    }

    /// Every file, as a reader sees them now.
    pub fn snapshot(&self) -> Arc<HashMap<String, Held>> {
        let files = self.committed();
        let early = self.early.read().map(|e| e.clone()).unwrap_or_default();
        if early.is_empty() {
            return files;
        }
        let mut files = (*files).clone();
        for (path, shown) in early {
            match shown {
                Some(held) => files.insert(path, held),
                None => files.remove(&path),
            };
        }
        Arc::new(files)
    }

    /// Every file, as of the last commit.
    fn committed(&self) -> Arc<HashMap<String, Held>> {
        self.files.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// A new version of the site: the current one, with the files put in and those
    /// neither put nor kept gone ([`MemoryTxn::commit`]).
    pub fn begin(&self) -> MemoryTxn<'_> {
        MemoryTxn {
            memory: self,
            old: self.committed(),
            new: Mutex::default(),
            kept: Mutex::default(),
            published: Mutex::default(),
        }
    }
}

/// The bytes of a file copied as is.
pub fn read_asset(asset: &Asset) -> Result<Vec<u8>, Diagnostic> {
    match &asset.data {
        AssetData::File(src) => fs::read(src).map_err(|e| io("read", src, e)),
        AssetData::Builtin(b) => Ok(b.to_vec()),
    }
}

/// A version of the in-memory site being made; [`MemoryTxn::commit`] swaps it in. A
/// kept file is only noted (at 10,000 cases, 33,000 of them after every edit), and the
/// commit changes the current map in place rather than building a new one.
pub struct MemoryTxn<'a> {
    memory: &'a Memory,
    old: Arc<HashMap<String, Held>>,
    /// The files put.
    new: Mutex<HashMap<String, Held>>,
    /// The files kept, each by where its path lies in `old` (which this holds): a
    /// token of the entry, compared, never followed.
    kept: Mutex<Vec<usize>>,
    /// What was shown before the commit ([`MemoryTxn::publish`]).
    published: Mutex<Vec<Early>>,
}

/// A path [`MemoryTxn::publish`] showed early: put (and whether that changed it), or gone.
struct Early {
    path: String,
    changed: bool,
    gone: bool,
}

impl MemoryTxn<'_> {
    fn insert(&self, path: &str, bytes: Held) -> Result<(), Diagnostic> {
        check_path(path)?;
        self.new.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), bytes);
        Ok(())
    }

    /// Whether the last version has a file at `path`.
    pub fn was(&self, path: &str) -> bool {
        self.old.contains_key(path)
    }

    /// Shows some of this version before the rest is made: the files at `paths` put so
    /// far, and the files at `gone` removed. Until the commit the site is the last one
    /// with these in it; [`MemoryTxn::abort`] puts the last one's back.
    pub fn publish(&self, paths: &[String], gone: &[String]) {
        let new = self.new.lock().unwrap_or_else(|e| e.into_inner());
        let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = Vec::new();
        if let Ok(mut early) = self.memory.early.write() {
            for p in paths {
                if let Some(held) = new.get(p).filter(|_| !early.contains_key(p)) {
                    let differs = !self.old.get(p).is_some_and(|o| o.same(held));
                    early.insert(p.clone(), Some(held.clone()));
                    published.push(Early { path: p.clone(), changed: differs, gone: false });
                    changed.extend(differs.then(|| p.clone()));
                }
            }
            for p in gone {
                if !self.old.contains_key(p) || early.contains_key(p) {
                    continue;
                }
                early.insert(p.clone(), None);
                published.push(Early { path: p.clone(), changed: true, gone: true });
                changed.push(p.clone());
            }
        }
        drop((new, published));
        if let Some(OnCommit(f)) = self.memory.on_commit.get() {
            f(&changed, Moment::Early);
        }
    }

    /// Gives up this version: what [`MemoryTxn::publish`] showed is as the last one had it.
    pub fn abort(self) {
        let published = self.published.into_inner().unwrap_or_else(|e| e.into_inner());
        if published.is_empty() {
            return;
        }
        if let Ok(mut early) = self.memory.early.write() {
            early.clear();
        }
        let changed: Vec<String> = published.into_iter().filter(|e| e.changed).map(|e| e.path).collect();
        if let Some(OnCommit(f)) = self.memory.on_commit.get() {
            f(&changed, Moment::Undone);
        }
    }

    /// Makes this version the site; returns the paths that changed, appeared or went.
    pub fn commit(self) -> Vec<String> {
        let MemoryTxn { memory, old, new, kept, published } = self;
        let new = new.into_inner().unwrap_or_else(|e| e.into_inner());
        // Told when shown early, unless the run made again a file it showed gone.
        let told: HashSet<String> = published
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .filter(|s| !(s.gone && new.contains_key(&s.path)))
            .map(|s| s.path)
            .collect();
        let kept: HashSet<usize> = kept.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().collect();
        let gone: Vec<String> =
            old.keys().filter(|p| !kept.contains(&(p.as_ptr() as usize)) && !new.contains_key(*p)).cloned().collect();
        let mut changed: Vec<String> = new
            .iter()
            .filter(|(p, b)| !old.get(*p).is_some_and(|o| o.same(b)))
            .map(|(p, _)| p.clone())
            .chain(gone.iter().cloned())
            .collect();
        changed.sort();
        drop(old);
        if let Ok(mut files) = memory.files.write() {
            // Copied only if a reader still holds the old version.
            let map = Arc::make_mut(&mut files);
            for p in &gone {
                map.remove(p);
            }
            map.extend(new);
        }
        // After the site has them: a reader never sees a file shown early go back.
        if let Ok(mut early) = memory.early.write() {
            early.clear();
        }
        if let Some(OnCommit(f)) = memory.on_commit.get() {
            f(&changed.iter().filter(|p| !told.contains(*p)).cloned().collect::<Vec<_>>(), Moment::Commit);
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
        match self.old.get_key_value(path) {
            Some((key, _)) => {
                self.kept.lock().unwrap_or_else(|e| e.into_inner()).push(key.as_ptr() as usize);
                Ok(())
            }
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

    /// Serve shows some files of a run early: readers see them (and those shown gone as
    /// gone) at once; the commit tells only the rest; a failed run puts them back.
    #[test]
    fn files_shown_early_are_seen_at_once_and_put_back_if_the_run_fails() {
        let told = Arc::new(Mutex::new(Vec::new()));
        let m = Memory::default();
        let t = Arc::clone(&told);
        m.on_commit(move |changed, moment| t.lock().unwrap().push((changed.to_vec(), moment)));
        let t = m.begin();
        for (p, b) in [("a/index.html", "A"), ("a/stix.json", "S"), ("b.html", "B")] {
            t.put(p, b.as_bytes().to_vec()).unwrap();
        }
        t.commit();
        let got = |p: &str| m.get(p).map(|b| String::from_utf8(b.to_vec()).unwrap());
        for fails in [true, false] {
            told.lock().unwrap().clear();
            let t = m.begin();
            t.put("b.html", b"B2".to_vec()).unwrap();
            t.publish(&["b.html".into()], &["a/index.html".into(), "a/stix.json".into(), "never.html".into()]);
            assert_eq!([got("b.html"), got("a/index.html"), got("a/stix.json")], [Some("B2".into()), None, None]);
            assert!(!m.has("a/index.html") && m.snapshot().len() == 1, "shown gone");
            assert!(m.shown_gone("a/stix.json") && !m.shown_gone("never.html") && !m.shown_gone("b.html"));
            if fails {
                t.abort();
                assert_eq!([got("b.html"), got("a/stix.json")], [Some("B".into()), Some("S".into())], "put back");
            } else {
                assert_eq!(t.commit(), ["a/index.html", "a/stix.json", "b.html"]);
                assert_eq!([got("b.html"), got("a/stix.json")], [Some("B2".into()), None]);
            }
            let told = told.lock().unwrap();
            let early = vec!["b.html".to_string(), "a/index.html".into(), "a/stix.json".into()];
            let then = if fails { (early.clone(), Moment::Undone) } else { (Vec::new(), Moment::Commit) };
            assert_eq!(*told, [(early, Moment::Early), then], "each change told once");
        }
    }

    /// Serve's commit: what was put goes in, what was kept stays, the rest goes, and only
    /// what differs is reported; a reader holding the old version still has all of it.
    #[test]
    fn a_memory_commit_changes_the_site_in_place() {
        let m = Memory::default();
        let t = m.begin();
        for (p, b) in [("a.html", "A"), ("b.html", "B"), ("c.html", "C")] {
            t.put(p, b.as_bytes().to_vec()).unwrap();
        }
        assert_eq!(t.commit(), ["a.html", "b.html", "c.html"]);
        let reader = m.snapshot();
        let t = m.begin();
        t.keep("a.html").unwrap();
        t.put("b.html", b"B2".to_vec()).unwrap();
        t.put("d.html", b"D".to_vec()).unwrap();
        assert!(t.keep("never-made.html").is_err());
        assert_eq!(t.commit(), ["b.html", "c.html", "d.html"], "changed, gone, new");
        let got = |p: &str| m.get(p).map(|b| String::from_utf8(b.to_vec()).unwrap());
        assert_eq!(
            [got("a.html"), got("b.html"), got("c.html"), got("d.html")],
            [Some("A".into()), Some("B2".into()), None, Some("D".into())]
        );
        assert_eq!(reader.len(), 3);
        assert_eq!(&reader["b.html"].bytes()[..], b"B");
        // The same bytes put again are no change.
        let t = m.begin();
        for p in ["a.html", "d.html"] {
            t.keep(p).unwrap();
        }
        t.put("b.html", b"B2".to_vec()).unwrap();
        assert!(t.commit().is_empty());
    }

    #[test]
    fn a_journal_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let odd = ["50% off.html", "line\nbreak", "tab\there", "caf\u{e9}/menu.html"];
        let journal = Journal {
            staging: ".public.casebook-tmp-1-2".into(),
            remove: vec![(PathBuf::from("cases/old"), true), (PathBuf::from(odd[1]), false)],
            rename: odd.iter().map(PathBuf::from).collect(),
        };
        let path = dir.path().join("journal");
        journal.write(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2 + 2 + odd.len() + 1, "one line each: {text}");
        assert_eq!(Journal::parse(&text), Some(journal));
        // Cut anywhere before its end, it is not a journal to follow.
        for cut in 0..text.len() - 1 {
            if text.is_char_boundary(cut) {
                assert_eq!(Journal::parse(&text[..cut]), None, "{:?}", &text[..cut]);
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_survives_the_journal() {
        use std::os::unix::ffi::OsStrExt;
        let name = PathBuf::from(std::ffi::OsStr::from_bytes(b"stray-\xff%.txt"));
        let escaped = escape(&name);
        assert_eq!(escaped, "stray-%FF%25.txt");
        assert_eq!(unescape(&escaped), Some(name));
    }
}
