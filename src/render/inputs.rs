//! What a page reads, and how the engine tells it did not change.
//!
//! A page's inputs are exactly the values its template is given: [`Ctx`] hashes every
//! value as it goes into Tera's context, so the fingerprint of a page is its template
//! set's revision plus everything the view put in front of the template. Nothing can be
//! read without being hashed, so no list of "which pages show this case" is kept by hand.

use serde::Serialize;
use serde_json::Value;
use tera::Context;

pub(crate) use crate::fingerprint::Hasher;
pub use crate::fingerprint::{of_bytes, Fingerprint, StreamHash};

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
}

/// One output (a page, an export), made anew or known to be as it was.
#[derive(Debug)]
pub enum Made {
    New { path: String, bytes: Vec<u8>, fingerprint: Fingerprint },
    Same { path: String, fingerprint: Fingerprint },
}

/// Tera's context, fingerprinting what goes in.
pub(crate) struct Ctx {
    pub(crate) ctx: Context,
    hash: Hasher,
}

impl Ctx {
    pub(crate) fn new() -> Self {
        Ctx { ctx: Context::new(), hash: Hasher::new() }
    }

    pub(crate) fn insert<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.hash.bytes(key.as_bytes());
        self.hash.value(value);
        self.ctx.insert(key, value);
    }

    /// As `insert`, moving `value` in instead of serializing it again.
    pub(crate) fn put(&mut self, key: &str, value: Value) {
        self.hash.bytes(key.as_bytes());
        self.hash.value(&value);
        let mut map = serde_json::Map::new();
        map.insert(key.to_string(), value);
        if let Ok(c) = Context::from_value(Value::Object(map)) {
            self.ctx.extend(c);
        }
    }

    /// The fingerprint of a page made from this context with `template`.
    pub(crate) fn fingerprint(&self, templates: Fingerprint, template: &str) -> Fingerprint {
        let mut h = Hasher::new();
        h.bytes(&self.hash.finish().to_le_bytes());
        h.bytes(&templates.to_le_bytes());
        h.bytes(template.as_bytes());
        h.finish()
    }
}
