//! Tera filters the theme uses. Builtins that need Tera's optional features are left
//! out of the tree; these are the few a case-study site needs.

use std::collections::HashMap;

use tera::{Result, Value};

/// `17891` -> `17,891`.
pub fn number(value: &Value, _: &HashMap<String, Value>) -> Result<Value> {
    let n = match value {
        Value::Number(n) => n.as_u64().map(|v| v as i128).or(n.as_i64().map(|v| v as i128)),
        Value::String(s) => s.parse::<i128>().ok(),
        _ => None,
    };
    Ok(match n {
        Some(n) => Value::String(group_digits(n)),
        None => value.clone(),
    })
}

pub fn group_digits(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `likely` -> `Likely`.
pub fn confidence_label(value: &Value, _: &HashMap<String, Value>) -> Result<Value> {
    Ok(match value.as_str() {
        Some(s) => {
            let mut c = s.chars();
            Value::String(c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default())
        }
        None => value.clone(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_are_grouped() {
        assert_eq!(super::group_digits(17891), "17,891");
        assert_eq!(super::group_digits(147_900_000), "147,900,000");
        assert_eq!(super::group_digits(621), "621");
        assert_eq!(super::group_digits(-1000), "-1,000");
    }
}
