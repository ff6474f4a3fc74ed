//! Slugs: ASCII, lower-case, `-` separated; other scripts transliterated.
//!
//! Rules of [`slugify`], in order, per character of the name:
//! - apostrophes (`'`, `’`, `ʼ`, and letters such as `ь` that transliterate to one) are
//!   dropped, so `Macy's` gives `macys` rather than `macy-s`;
//! - `&` becomes the word `and` (`AT&T` -> `at-and-t`);
//! - other letters and digits are transliterated with `deunicode` (`日本` -> `ri-ben`,
//!   `Müller` -> `muller`); one it cannot transliterate becomes `u` and its hex code point;
//! - invisible marks (combining accents, joiners, variation selectors) are dropped, so a
//!   decomposed `é` stays inside its word;
//! - anything else (spaces, punctuation, symbols, emoji) separates words.
//!
//! Then: lower-case, every run of characters other than `a-z0-9` becomes one `-`, `-` is
//! trimmed at both ends, and the result is capped at [`MAX_SLUG_LEN`] bytes.

/// Long enough for any real organization name, short enough for a file name and a URL.
pub const MAX_SLUG_LEN: usize = 80;

/// Longest slug a user may write (file names, `related = [...]`).
pub const MAX_USER_SLUG_LEN: usize = 100;

/// `NTT Communications` -> `ntt-communications`; `日本電信` -> transliterated ASCII.
/// Never empty for a non-empty name with at least one letter or digit in any script.
/// A name with none (`---`, emoji only) gives an empty string, which the caller reports.
pub fn slugify(name: &str) -> String {
    // Checked up front so that `&` or `™` alone does not make a slug out of a non-name.
    if !name.chars().any(char::is_alphanumeric) {
        return String::new();
    }
    let mut ascii = String::with_capacity(name.len());
    for c in name.chars() {
        if c == '\'' {
            continue;
        }
        if c.is_ascii() {
            push_ascii(&mut ascii, c);
            continue;
        }
        let t = deunicode::deunicode_char(c);
        if t.is_some_and(|t| !t.is_empty() && t.chars().all(|c| c == '\'')) {
            continue;
        }
        if c.is_alphanumeric() {
            match t.filter(|t| t.bytes().any(|b| b.is_ascii_alphanumeric())) {
                Some(t) => t.chars().filter(|&c| c != '\'').for_each(|c| push_ascii(&mut ascii, c)),
                None => ascii.push_str(&format!(" u{:x} ", u32::from(c))),
            }
        } else if t == Some("&") {
            ascii.push_str(" and ");
        } else if t != Some("") {
            ascii.push(' ');
        }
    }
    let slug = collapse(&ascii);
    if slug.is_empty() {
        // Letters whose transliteration is only an apostrophe (`ь`) still name something.
        let hex: Vec<String> =
            name.chars().filter(|c| c.is_alphanumeric()).map(|c| format!("u{:x}", u32::from(c))).collect();
        return cap(hex.join("-"));
    }
    cap(slug)
}

fn push_ascii(out: &mut String, c: char) {
    if c == '&' {
        out.push_str(" and ");
    } else {
        out.push(c.to_ascii_lowercase());
    }
}

/// Lower-case ASCII letters and digits, single `-` between runs, none at the ends.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_dash = false;
    for c in s.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    out
}

/// Cuts at the last `-` within the limit, so no word is split unless a single word is
/// longer than the limit. Input is ASCII, so every byte index is a char boundary.
fn cap(mut slug: String) -> String {
    if slug.len() <= MAX_SLUG_LEN {
        return slug;
    }
    let cut = if slug.as_bytes()[MAX_SLUG_LEN] == b'-' {
        MAX_SLUG_LEN
    } else {
        slug[..MAX_SLUG_LEN].rfind('-').unwrap_or(MAX_SLUG_LEN)
    };
    slug.truncate(cut);
    slug
}

/// Whether `s` is a valid slug as written by a user (file names, `related`): ASCII
/// lower-case letters, digits, `-`, `_`, `.` not leading; no `/`, `\`, `..`.
/// Also non-empty, at most [`MAX_USER_SLUG_LEN`] bytes, and not starting with `-` (it
/// would read as a command-line option).
pub fn is_valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_USER_SLUG_LEN
        && !s.starts_with(['.', '-'])
        && !s.contains("..")
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `^[a-z0-9]+(-[a-z0-9]+)*$`
    fn is_canonical(s: &str) -> bool {
        !s.is_empty()
            && s.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    }

    #[test]
    fn latin_names() {
        assert_eq!(slugify("NTT Communications"), "ntt-communications");
        assert_eq!(slugify("  Equifax, Inc.  "), "equifax-inc");
        assert_eq!(slugify("Macy's"), "macys");
        assert_eq!(slugify("Macy’s"), "macys");
        assert_eq!(slugify("AT&T"), "at-and-t");
        assert_eq!(slugify("Barnes & Noble"), "barnes-and-noble");
        assert_eq!(slugify("Müller GmbH"), "muller-gmbh");
        assert_eq!(slugify("Cafe\u{301} Ltd"), "cafe-ltd");
        assert_eq!(slugify("Société Générale"), "societe-generale");
        assert_eq!(slugify("CVE-2021-44228"), "cve-2021-44228");
        assert_eq!(slugify("x__y..z"), "x-y-z");
        assert_eq!(slugify("Acme™ 🚀 Corp"), "acme-corp");
    }

    #[test]
    fn other_scripts() {
        assert_eq!(slugify("日本電信電話"), "ri-ben-dian-xin-dian-hua");
        assert_eq!(slugify("NTTドコモ"), "nttdokomo");
        assert_eq!(slugify("Сбербанк"), "sberbank");
        assert_eq!(slugify("Ростелеком"), "rostelekom");
        assert_eq!(slugify("삼성전자"), "samseongjeonja");
        assert!(is_canonical(&slugify("Ελληνικά")));
        // A letter with no transliteration of its own is still not lost.
        assert_eq!(slugify("ь"), "u44c");
    }

    #[test]
    fn nothing_to_slug() {
        for s in ["", "   ", "---", "🚀🔥", "&'’", "©®", "\u{301}\u{200d}"] {
            assert_eq!(slugify(s), "", "{s:?}");
        }
    }

    #[test]
    fn caps_length_at_a_word_boundary() {
        let name = "word ".repeat(40);
        let slug = slugify(&name);
        assert!(slug.len() <= MAX_SLUG_LEN);
        assert_eq!(slug.len(), 79, "{slug}"); // 16 words of 4 and 15 dashes
        assert!(!slug.ends_with('-'));
        let name = format!("{} {}", "a".repeat(MAX_SLUG_LEN), "b");
        assert_eq!(slugify(&name), "a".repeat(MAX_SLUG_LEN));
        let name = format!("ab {}", "c".repeat(200));
        assert_eq!(slugify(&name), "ab");
        assert_eq!(slugify(&"x".repeat(200)), "x".repeat(MAX_SLUG_LEN));
    }

    #[test]
    fn user_slugs() {
        for s in ["equifax", "ntt-communications", "a", "log4shell_2021", "v1.2", "a.b.c", "x-"] {
            assert!(is_valid_slug(s), "{s}");
        }
        let long = "a".repeat(MAX_USER_SLUG_LEN);
        assert!(is_valid_slug(&long));
        assert!(!is_valid_slug(&format!("{long}a")));
        for s in ["", ".hidden", "-x", "a..b", "..", "A", "a b", "a/b", "a\\b", "café", "a:b", "a\0"] {
            assert!(!is_valid_slug(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn slugify_is_canonical_and_idempotent(s in "\\PC*") {
            let slug = slugify(&s);
            prop_assert!(slug.is_empty() || is_canonical(&slug), "{:?} -> {:?}", s, slug);
            prop_assert!(slug.len() <= MAX_SLUG_LEN);
            prop_assert_eq!(slugify(&slug), slug.clone());
            prop_assert!(slug.is_empty() || is_valid_slug(&slug));
            prop_assert_eq!(slug.is_empty(), !s.chars().any(char::is_alphanumeric), "{:?}", s);
        }

        #[test]
        fn slugify_long_ascii(s in "[a-zA-Z0-9 &'.-]{0,300}") {
            let slug = slugify(&s);
            prop_assert!(slug.is_empty() || is_canonical(&slug));
            prop_assert!(slug.len() <= MAX_SLUG_LEN);
            prop_assert_eq!(slugify(&slug), slug.clone());
        }

        #[test]
        fn is_valid_slug_never_panics(s in "\\PC*") {
            let _ = is_valid_slug(&s);
        }
    }
}
