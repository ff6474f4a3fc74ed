//! Any string as a partial date: parsed or refused, never a panic; what parses
//! round-trips through its written form.
#![no_main]

use casebook::parse::date::PartialDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(d) = PartialDate::parse(s) {
        assert_eq!(PartialDate::parse(&d.to_iso()), Ok(d));
        let _ = d.display("en");
        let _ = d.display("zh");
    }
});
