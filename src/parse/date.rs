//! Partial dates: `2019`, `2019-09`, `2019-09-14`, optionally `~` (about), `>` (after) or
//! `<` (before). STUB: interface only, to be implemented.

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Qualifier { Exact, About, After, Before }

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision { Year, Month, Day }

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    pub qualifier: Qualifier,
    pub year: i16,
    pub month: Option<i8>,
    pub day: Option<i8>,
}

impl PartialDate {
    /// Parses the string form. The error is a message that says what is accepted.
    pub fn parse(_s: &str) -> Result<Self, String> { todo!() }
    /// An exact day.
    pub fn from_ymd(year: i16, month: i8, day: i8) -> Result<Self, String> { let _ = (year, month, day); todo!() }
    pub fn precision(&self) -> Precision { todo!() }
    /// Canonical written form, as accepted by `parse`: `>2019-09`, `2025-02-05`.
    pub fn to_iso(&self) -> String { todo!() }
    /// Human form in a UI language (`en`, `zh`, `ja`; others fall back to `en`).
    pub fn display(&self, _lang: &str) -> String { todo!() }
    /// First day of the period (with After: the day after the period; Before: the day before).
    pub fn sort_date(&self) -> jiff::civil::Date { todo!() }
    /// Total order for sorting: by sort_date, then coarser precision first.
    pub fn sort_cmp(&self, _other: &Self) -> Ordering { todo!() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound { Exact, About, AtMost, AtLeast }

/// A derived length of time: dwell time, disclosure lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Span { pub days: i32, pub bound: Bound, pub precision: Precision }

impl Span {
    /// From `start` to `end`, when both are known precisely enough; None otherwise.
    pub fn between(_start: &PartialDate, _end: &PartialDate) -> Option<Span> { todo!() }
    pub fn display(&self, _lang: &str) -> String { todo!() }
}
