//! Slugs: ASCII, lower-case, `-` separated; other scripts transliterated. STUB.

/// `NTT Communications` -> `ntt-communications`; `日本電信` -> transliterated ASCII.
/// Never empty for a non-empty name with at least one letter or digit in any script.
pub fn slugify(_name: &str) -> String { todo!() }

/// Whether `s` is a valid slug as written by a user (file names, `related`): ASCII
/// lower-case letters, digits, `-`, `_`, `.` not leading; no `/`, `\`, `..`.
pub fn is_valid_slug(_s: &str) -> bool { todo!() }
