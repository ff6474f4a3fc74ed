//! ISO 3166-1 alpha-2 country codes and their English short names. STUB.

/// `"JP"` -> `Some("Japan")`; codes are upper-case; unknown -> None.
pub fn country_name(_code: &str) -> Option<&'static str> { todo!() }
