//! Indicators are shown defanged so no reader clicks or resolves them by accident.

use crate::parse::case::IndicatorType;

pub fn defang(kind: IndicatorType, value: &str) -> String {
    match kind {
        IndicatorType::Ip if value.contains(':') && !value.contains('.') => value.replacen(':', "[:]", 1),
        IndicatorType::Ip | IndicatorType::Domain => bracket_last_dot(value),
        IndicatorType::Email => match value.rsplit_once('@') {
            Some((user, host)) => format!("{user}[@]{}", bracket_last_dot(host)),
            None => bracket_last_dot(value),
        },
        IndicatorType::Url => {
            let lower = value.to_ascii_lowercase();
            let (scheme, rest) = match lower.find("://") {
                Some(i) => (&value[..i], &value[i + 3..]),
                None => ("", value),
            };
            let scheme = match scheme.to_ascii_lowercase().as_str() {
                "http" => "hxxp".to_string(),
                "https" => "hxxps".to_string(),
                "" => String::new(),
                other => other.replace('t', "x"),
            };
            let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host = bracket_last_dot(&rest[..host_end]);
            let sep = if scheme.is_empty() { "" } else { "://" };
            format!("{scheme}{sep}{host}{}", &rest[host_end..])
        }
        IndicatorType::Sha256 | IndicatorType::Sha1 | IndicatorType::Md5 | IndicatorType::File => value.to_string(),
    }
}

fn bracket_last_dot(s: &str) -> String {
    match s.rfind('.') {
        Some(i) => format!("{}[.]{}", &s[..i], &s[i + 1..]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defangs_each_type() {
        assert_eq!(defang(IndicatorType::Ip, "203.0.113.7"), "203.0.113[.]7");
        assert_eq!(defang(IndicatorType::Domain, "evil.example.com"), "evil.example[.]com");
        assert_eq!(
            defang(IndicatorType::Url, "https://evil.example.com/a.php?x=1"),
            "hxxps://evil.example[.]com/a.php?x=1"
        );
        assert_eq!(defang(IndicatorType::Url, "http://203.0.113.7/"), "hxxp://203.0.113[.]7/");
        assert_eq!(defang(IndicatorType::Email, "ops@example.org"), "ops[@]example[.]org");
        assert_eq!(defang(IndicatorType::Ip, "2001:db8::1"), "2001[:]db8::1");
        assert_eq!(defang(IndicatorType::Sha256, "abc"), "abc");
    }
}
