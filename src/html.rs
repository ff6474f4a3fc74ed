//! HTML escaping, the one way Casebook does it: `& < > " '`, and nothing else, so URLs
//! keep their slashes in the page source.

/// Appends `s` to `out`, escaped for text and attribute values alike.
pub fn escape_into(out: &mut String, s: &str) {
    // Runs of plain bytes are copied whole: every page passes most of its text here.
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        out.push_str(entity);
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    escape_into(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_the_five_and_keeps_the_rest() {
        assert_eq!(escape(""), "");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(
            escape("<a href=\"x\">Tom's & 合同</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; 合同&lt;/a&gt;"
        );
        assert_eq!(escape("&&"), "&amp;&amp;");
        assert_eq!(escape("/path/é"), "/path/é");
    }
}
