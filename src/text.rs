//! [`Text`]: a string that can borrow from the buffer it was read from.
//!
//! The build cache keeps every file's parse, and a parse is mostly the body's HTML and
//! plain text (two hundred megabytes at 10,000 cases). Copied out of the mapped cache
//! file, each one costs fresh memory the kernel must zero first, which was the biggest
//! part of a warm build; read through [`borrowing`], a `Text` is a slice of the mapping,
//! and only the bodies a page draws are ever touched.

use std::cell::RefCell;
use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable UTF-8 string, cheap to clone, that may share its bytes with others.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Text(Bytes);

impl Text {
    pub fn as_str(&self) -> &str {
        // SAFETY: a `Text` is made only from a `str`, or from the bytes of a `str` that lies
        // inside the buffer (`shared`): always whole UTF-8. Checking again on every read
        // would walk a body each time a page draws it.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

thread_local! {
    /// The buffer being read by [`borrowing`] on this thread.
    static SOURCE: RefCell<Option<Bytes>> = const { RefCell::new(None) };
}

/// Runs `read` (a deserializer reading from `source`'s bytes) so that every [`Text`] it
/// reads is a slice of `source` instead of a copy.
pub fn borrowing<T>(source: &Bytes, read: impl FnOnce() -> T) -> T {
    let before = SOURCE.with(|s| s.replace(Some(source.clone())));
    let value = read();
    SOURCE.with(|s| *s.borrow_mut() = before);
    value
}

/// `s` as a slice of the buffer [`borrowing`] reads, when it lies inside it.
fn shared(s: &str) -> Option<Text> {
    SOURCE.with(|source| {
        let source = source.borrow();
        let source = source.as_ref()?;
        let (start, end) = (source.as_ptr() as usize, source.as_ptr() as usize + source.len());
        let at = s.as_ptr() as usize;
        (at >= start && at + s.len() <= end).then(|| Text(source.slice_ref(s.as_bytes())))
    })
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text, E> {
                Ok(shared(s).unwrap_or_else(|| Text::from(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text, E> {
                Ok(Text::from(s))
            }
            fn visit_string<E>(self, s: String) -> Result<Text, E> {
                Ok(Text::from(s))
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_through_borrowing_a_text_shares_the_buffer() {
        let encoded = Bytes::from(postcard::to_stdvec(&("a body", Text::from("more"))).unwrap());
        let (a, b): (String, Text) = borrowing(&encoded, || postcard::from_bytes(&encoded).unwrap());
        assert_eq!((a.as_str(), &*b), ("a body", "more"));
        let inside = encoded.as_ptr_range();
        assert!(inside.contains(&b.as_ptr()), "the text is a slice of the buffer read");
        // Without `borrowing`, a copy.
        let (_, c): (String, Text) = postcard::from_bytes(&encoded).unwrap();
        assert!(!inside.contains(&c.as_ptr()));
        assert_eq!(c, b);
    }
}
