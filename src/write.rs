//! Write: the built site goes to a temporary folder beside the output, then takes its
//! place in two renames. A build that fails never touches the previous output.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use rayon::prelude::*;

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
    fn put_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Vec<u8>>) -> Result<(), Diagnostic>;
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
    for dir in ["content", "templates", "static", "themes"] {
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
#[derive(Debug)]
pub struct Staging {
    output: PathBuf,
    tmp: PathBuf,
    old: PathBuf,
    done: bool,
}

fn io(what: &str, p: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error("io", format!("cannot {what} {}: {e}", p.display()))
}

impl Staging {
    /// Creates the temporary folder and writes `assets` in it (files written later win).
    pub fn new(output: &Path, assets: &[Asset]) -> Result<Staging, Diagnostic> {
        let parent = output.parent().unwrap_or(Path::new("."));
        let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "public".into());
        fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        let staging = Staging {
            output: output.to_path_buf(),
            tmp: parent.join(format!(".{name}.casebook-tmp-{}", std::process::id())),
            old: parent.join(format!(".{name}.casebook-old-{}", std::process::id())),
            done: false,
        };
        let _ = fs::remove_dir_all(&staging.tmp);
        fs::create_dir_all(&staging.tmp).map_err(|e| io("create", &staging.tmp, e))?;
        // Folders first, once each, so the parallel copies below only create files.
        let mut dirs: Vec<PathBuf> =
            assets.iter().filter_map(|a| Path::new(&a.dest).parent().map(Path::to_path_buf)).collect();
        dirs.sort();
        dirs.dedup();
        for d in &dirs {
            fs::create_dir_all(staging.tmp.join(d)).map_err(|e| io("create", d, e))?;
        }
        assets.par_iter().try_for_each(|a| {
            let dest = safe_join(&staging.tmp, &a.dest)?;
            match &a.data {
                AssetData::File(src) => fs::copy(src, &dest).map(|_| ()).map_err(|e| io("copy", src, e)),
                AssetData::Builtin(bytes) => fs::write(&dest, bytes).map_err(|e| io("write", &dest, e)),
            }
        })?;
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
    pub fn write_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Vec<u8>>) -> Result<(), Diagnostic> {
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

    /// Puts the new site in the output's place.
    pub fn finish(mut self) -> Result<(), Diagnostic> {
        self.done = true;
        let (output, tmp, old) = (&self.output, &self.tmp, &self.old);
        if let Err(e) =
            fs::write(tmp.join(MARKER), "This folder is written by casebook build and replaced whole on every build.\n")
        {
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
        let _ = fs::remove_dir_all(old);
        Ok(())
    }
}

impl Store for Staging {
    fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), Diagnostic> {
        self.write(&OutputFile { path: path.to_string(), bytes })
    }

    fn put_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Vec<u8>>) -> Result<(), Diagnostic> {
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
        let _ = fs::remove_file(&dest);
        fs::hard_link(&from, &dest).or_else(|_| fs::copy(&from, &dest).map(|_| ())).map_err(|e| io("keep", &from, e))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
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

/// The site in memory, for `serve`: path by path, the bytes a build would write.
#[derive(Debug, Default)]
pub struct Memory {
    files: RwLock<Arc<HashMap<String, Bytes>>>,
}

impl Memory {
    pub fn get(&self, path: &str) -> Option<Bytes> {
        self.files.read().ok()?.get(path).cloned()
    }

    /// Every file, as of the last commit.
    pub fn snapshot(&self) -> Arc<HashMap<String, Bytes>> {
        self.files.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// A new version of the site, with `assets` in it (files put later win).
    pub fn begin(&self, assets: &[Asset]) -> Result<MemoryTxn<'_>, Diagnostic> {
        let read: Result<Vec<(String, Bytes)>, Diagnostic> = assets
            .par_iter()
            .map(|a| {
                let bytes = match &a.data {
                    AssetData::File(src) => Bytes::from(fs::read(src).map_err(|e| io("read", src, e))?),
                    AssetData::Builtin(b) => Bytes::from_static(b),
                };
                Ok((a.dest.clone(), bytes))
            })
            .collect();
        Ok(MemoryTxn { memory: self, old: self.snapshot(), new: Mutex::new(read?.into_iter().collect()) })
    }
}

/// A version of the in-memory site being made; [`MemoryTxn::commit`] swaps it in whole.
pub struct MemoryTxn<'a> {
    memory: &'a Memory,
    old: Arc<HashMap<String, Bytes>>,
    new: Mutex<HashMap<String, Bytes>>,
}

impl MemoryTxn<'_> {
    fn insert(&self, path: &str, bytes: Bytes) -> Result<(), Diagnostic> {
        safe_join(Path::new(""), path)?;
        self.new.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), bytes);
        Ok(())
    }

    /// Makes this version the site; returns the paths that changed, appeared or went.
    pub fn commit(self) -> Vec<String> {
        let new = self.new.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut changed: Vec<String> = new
            .iter()
            .filter(|(p, b)| self.old.get(*p) != Some(*b))
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
        self.insert(path, Bytes::from(bytes))
    }

    fn put_pieces(&self, path: &str, pieces: &mut dyn Iterator<Item = Vec<u8>>) -> Result<(), Diagnostic> {
        self.insert(path, Bytes::from(pieces.collect::<Vec<_>>().concat()))
    }

    fn keep(&self, path: &str) -> Result<(), Diagnostic> {
        match self.old.get(path) {
            Some(b) => self.insert(path, b.clone()),
            None => Err(Diagnostic::error("io", format!("cannot keep {path}: the last build did not make it"))),
        }
    }
}
