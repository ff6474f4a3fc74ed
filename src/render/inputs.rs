//! What a page reads, and how the engine tells it did not change.
//!
//! A page's inputs are exactly the values its template is given: [`Ctx`] hashes every
//! value as it goes into Tera's context, so the fingerprint of a page is its template
//! set's revision plus everything the view put in front of the template. Nothing can be
//! read without being hashed, so no list of "which pages show this case" is kept by hand.

use serde::Serialize;
use serde_json::Value;
use tera::Context;

/// A 128-bit SipHash-1-3 with fixed keys: stable across runs and Rust versions, so a
/// fingerprint can outlive the process.
pub type Fingerprint = u128;

/// What the engine remembers of the last output: a page whose fingerprint matches is
/// not rendered again.
pub trait Memo: Sync {
    /// The template set's revision: part of every page's fingerprint.
    fn templates(&self) -> Fingerprint;
    /// Whether the file at `path` was last made from inputs with this fingerprint.
    fn unchanged(&self, path: &str, fingerprint: Fingerprint) -> bool;
}

/// One page, made anew or known to be as it was.
#[derive(Debug)]
pub enum Made {
    New { path: String, bytes: Vec<u8>, fingerprint: Fingerprint },
    Same { path: String, fingerprint: Fingerprint },
}

/// A hasher that serde can write into, so a value is hashed without being serialized to
/// a buffer first.
#[derive(Clone)]
pub(crate) struct Hasher(siphasher::sip128::SipHasher13);

impl Hasher {
    pub(crate) fn new() -> Self {
        Hasher(siphasher::sip128::SipHasher13::new_with_keys(0x6361_7365, 0x626f_6f6b))
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        use std::hash::Hasher as _;
        // Length first, so ("ab", "c") and ("a", "bc") differ.
        self.0.write_usize(b.len());
        self.0.write(b);
    }
    pub(crate) fn value<T: Serialize + ?Sized>(&mut self, v: &T) {
        let _ = serde_json::to_writer(&mut *self, v);
        self.bytes(b"\0");
    }
    pub(crate) fn finish(&self) -> Fingerprint {
        use siphasher::sip128::Hasher128 as _;
        self.0.finish128().as_u128()
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use std::hash::Hasher as _;
        self.0.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

/// The fingerprint of some bytes (an output's content).
pub fn of_bytes(b: &[u8]) -> Fingerprint {
    let mut h = Hasher::new();
    h.bytes(b);
    h.finish()
}

/// The fingerprint of a file that arrives in pieces (the big site-wide exports): not
/// [`of_bytes`] of the whole, but the same for the same bytes however they are cut.
pub struct StreamHash(Hasher);

impl StreamHash {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        StreamHash(Hasher::new())
    }
    pub fn add(&mut self, piece: &[u8]) {
        use std::io::Write as _;
        let _ = self.0.write(piece);
    }
    pub fn finish(&self) -> Fingerprint {
        self.0.finish()
    }
}
