//! How the engine tells that an output did not change: each output's fingerprint is made
//! from the inputs it declares (`declared`), and the [`Memo`] answers whether the last
//! run made it from the same ones.

use serde::Serialize;
use serde_json::Value;
use tera::Context;

pub use crate::fingerprint::{of_bytes, Fingerprint};

/// What the engine remembers of the last output: a page whose fingerprint matches is
/// not rendered again.
pub trait Memo: Sync {
    /// The template set's revision: part of every page's fingerprint.
    fn templates(&self) -> Fingerprint;
    /// Whether the output at `path` was last made from inputs with this fingerprint (and
    /// is still as it was made): then it is kept, and not made again.
    fn unchanged(&self, path: &str, fingerprint: Fingerprint) -> bool;
    /// A piece of an output made from inputs with this fingerprint: the bytes the last
    /// run made from the same inputs, or else `make()`'s. The big site-wide files are
    /// made of one piece per case, so an edit makes one piece again, not ten thousand.
    fn piece(&self, fingerprint: Fingerprint, make: &mut dyn FnMut() -> Vec<u8>) -> bytes::Bytes;
    /// [`Memo::piece`] with the hash of its bytes, remembered with it: a file streamed
    /// from pieces is hashed from its pieces' hashes, so a kept piece is not read again
    /// to tell whether the file changed.
    fn hashed_piece(&self, fingerprint: Fingerprint, make: &mut dyn FnMut() -> Vec<u8>) -> Chunk;
    /// The pieces the page at `path` was drawn from (its rows, its cards): when a later
    /// run keeps the page, it keeps them too, for the run that draws the page again.
    fn made_from(&self, path: &str, pieces: Vec<Fingerprint>);
    /// The pages are made: the pieces only they read may leave memory (the exports and
    /// the search index read others).
    fn pages_made(&self) {}
}

/// A piece of a streamed file and the hash of its bytes.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub bytes: bytes::Bytes,
    pub hash: Fingerprint,
}

impl Chunk {
    /// Bytes made here: hashed now.
    pub fn of(bytes: bytes::Bytes) -> Chunk {
        Chunk { hash: of_bytes(&bytes), bytes }
    }
}

/// One output (a page, an export), made anew or known to be as it was.
#[derive(Debug)]
pub enum Made {
    New { path: String, bytes: Vec<u8>, fingerprint: Fingerprint },
    Same { path: String, fingerprint: Fingerprint },
}

/// Tera's context.
pub(crate) struct Ctx {
    pub(crate) ctx: Context,
}

impl Ctx {
    pub(crate) fn new() -> Self {
        Ctx { ctx: Context::new() }
    }

    pub(crate) fn insert<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.ctx.insert(key, value);
    }

    /// As `insert`, moving `value` in instead of serializing it again.
    pub(crate) fn put(&mut self, key: &str, value: Value) {
        let mut map = serde_json::Map::new();
        map.insert(key.to_string(), value);
        if let Ok(c) = Context::from_value(Value::Object(map)) {
            self.ctx.extend(c);
        }
    }
}
