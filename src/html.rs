//! HTML escaping, the one way Casebook does it: `& < > " '`, and nothing else, so URLs
//! keep their slashes in the page source. The escaping itself is html-escape's.

/// Appends `s` to `out`, escaped for text and attribute values alike.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    html_escape::encode_quoted_attribute_to_string(s, out);
}

pub(crate) fn escape(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
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
            "&lt;a href=&quot;x&quot;&gt;Tom&#x27;s &amp; 合同&lt;/a&gt;"
        );
        assert_eq!(escape("&&"), "&amp;&amp;");
        assert_eq!(escape("/path/é"), "/path/é");
    }
}
