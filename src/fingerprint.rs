//! Fingerprints: 128-bit hashes that stand for a value, stable across runs and Rust
//! versions, so one made by a run can be compared with one a later process makes.

use serde::Serialize;

/// A 128-bit XXH3: specified, so stable across runs, versions and platforms, and a
/// fingerprint can outlive the process (the build cache keeps them); fast enough that
/// hashing hundreds of megabytes of output is not what a build waits for.
pub type Fingerprint = u128;

/// A hasher that serde can write into, so a value is hashed without being serialized to
/// a buffer first.
#[derive(Clone)]
pub(crate) struct Hasher(xxhash_rust::xxh3::Xxh3Default);

impl Hasher {
    pub(crate) fn new() -> Self {
        Hasher(xxhash_rust::xxh3::Xxh3Default::new())
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        // Length first, so ("ab", "c") and ("a", "bc") differ.
        self.0.update(&(b.len() as u64).to_le_bytes());
        self.0.update(b);
    }
    pub(crate) fn value<T: Serialize + ?Sized>(&mut self, v: &T) {
        let _ = serde_json::to_writer(&mut *self, v);
        self.bytes(b"\0");
    }
    pub(crate) fn finish(&self) -> Fingerprint {
        self.0.digest128()
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The fingerprint of some bytes (an output's content).
pub fn of_bytes(b: &[u8]) -> Fingerprint {
    let mut h = Hasher::new();
    h.bytes(b);
    h.finish()
}
