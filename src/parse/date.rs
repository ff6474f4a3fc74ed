//! Partial dates: `2019`, `2019-09`, `2019-09-14`, optionally `~` (about), `>` (after) or
//! `<` (before).
//!
//! Breach reports rarely know the exact day an attacker got in, so a date carries its own
//! precision and qualifier, is shown at that precision, and derived figures ([`Span`]) only
//! claim what the two ends can support.

use std::cmp::Ordering;

use jiff::civil::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Qualifier {
    Exact,
    About,
    After,
    Before,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Year,
    Month,
    Day,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PartialDate {
    pub qualifier: Qualifier,
    pub year: i16,
    pub month: Option<i8>,
    pub day: Option<i8>,
}

/// Years outside this range are almost certainly typos (`20019`, `1019`).
pub const MIN_YEAR: i16 = 1900;
pub const MAX_YEAR: i16 = 2200;

const FORMAT_HELP: &str = "expected a date such as 2019, 2019-09 or 2019-09-14, \
     optionally prefixed by ~ (about), > (after) or < (before)";

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: i8) -> i8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn month_name_en(month: i8) -> String {
    usize::try_from(month)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| MONTHS_EN.get(i))
        .map_or_else(|| month.to_string(), |m| (*m).to_string())
}

/// `zh-CN`, `ja_JP`, `EN` -> `zh`, `ja`, `en`: regional variants share the wording.
fn primary_lang(lang: &str) -> String {
    lang.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase()
}

/// Parses exactly `n` ASCII digits; anything else (signs, spaces, other scripts' digits) is
/// rejected so that only the documented forms are accepted.
fn digits(s: &str, n: usize) -> Option<i16> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl PartialDate {
    /// Parses the string form. The error is a message that says what is accepted.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (qualifier, rest) = match s.as_bytes().first() {
            Some(b'~') => (Qualifier::About, &s[1..]),
            Some(b'>') => (Qualifier::After, &s[1..]),
            Some(b'<') => (Qualifier::Before, &s[1..]),
            _ => (Qualifier::Exact, s),
        };
        let bad = || FORMAT_HELP.to_string();
        let mut parts = rest.split('-');
        let year = parts.next().and_then(|p| digits(p, 4)).ok_or_else(bad)?;
        let month = match parts.next() {
            Some(p) => Some(digits(p, 2).ok_or_else(bad)?),
            None => None,
        };
        let day = match parts.next() {
            Some(p) => Some(digits(p, 2).ok_or_else(bad)?),
            None => None,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        // Two ASCII digits always fit in i8.
        let month = month.map(|m| m as i8);
        let day = day.map(|d| d as i8);
        Self::validated(qualifier, year, month, day)
    }

    /// Parses a TOML date (`incident = 2019-09-14`, unquoted). Only a plain local date is a
    /// day; a time or offset is rejected rather than silently dropped.
    pub fn from_toml_datetime(dt: &toml::value::Datetime) -> Result<Self, String> {
        let (Some(date), None, None) = (dt.date, dt.time, dt.offset) else {
            return Err(format!("expected a date without a time, such as 2019-09-14; found {dt}"));
        };
        let year = i16::try_from(date.year).map_err(|_| year_range_message(i32::from(date.year)))?;
        let month = i8::try_from(date.month).map_err(|_| month_range_message())?;
        let day = i8::try_from(date.day).unwrap_or(i8::MAX);
        Self::from_ymd(year, month, day)
    }

    /// An exact day.
    pub fn from_ymd(year: i16, month: i8, day: i8) -> Result<Self, String> {
        Self::validated(Qualifier::Exact, year, Some(month), Some(day))
    }

    fn validated(qualifier: Qualifier, year: i16, month: Option<i8>, day: Option<i8>) -> Result<Self, String> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(year_range_message(i32::from(year)));
        }
        if let Some(m) = month {
            if !(1..=12).contains(&m) {
                return Err(month_range_message());
            }
            if let Some(d) = day {
                let last = days_in_month(i32::from(year), m);
                if !(1..=last).contains(&d) {
                    return Err(format!(
                        "{year:04}-{m:02}-{d:02} is not a date: days in {} {year} go from 01 to {last}",
                        month_name_en(m)
                    ));
                }
            }
        }
        if month.is_none() && day.is_some() {
            return Err(FORMAT_HELP.to_string());
        }
        Ok(PartialDate { qualifier, year, month, day })
    }

    pub fn precision(&self) -> Precision {
        match (self.month, self.day) {
            (Some(_), Some(_)) => Precision::Day,
            (Some(_), None) => Precision::Month,
            (None, _) => Precision::Year,
        }
    }

    /// Canonical written form, as accepted by `parse`: `>2019-09`, `2025-02-05`.
    pub fn to_iso(&self) -> String {
        let prefix = match self.qualifier {
            Qualifier::Exact => "",
            Qualifier::About => "~",
            Qualifier::After => ">",
            Qualifier::Before => "<",
        };
        let mut out = format!("{prefix}{:04}", self.year);
        if let Some(m) = self.month {
            out.push_str(&format!("-{m:02}"));
            if let Some(d) = self.day {
                out.push_str(&format!("-{d:02}"));
            }
        }
        out
    }

    /// Human form in a UI language (`en`, `zh`, `ja`; others fall back to `en`).
    pub fn display(&self, lang: &str) -> String {
        let y = self.year;
        match primary_lang(lang).as_str() {
            lang @ ("zh" | "ja") => {
                let base = match (self.precision(), self.month, self.day) {
                    (Precision::Day, Some(m), Some(d)) => format!("{y}年{m}月{d}日"),
                    (Precision::Month, Some(m), _) => format!("{y}年{m}月"),
                    _ => format!("{y}年"),
                };
                match (lang, self.qualifier) {
                    (_, Qualifier::Exact) => base,
                    ("zh", Qualifier::About) => format!("约{base}"),
                    ("zh", Qualifier::After) => format!("{base}之后"),
                    ("zh", Qualifier::Before) => format!("{base}之前"),
                    (_, Qualifier::About) => format!("{base}頃"),
                    (_, Qualifier::After) => format!("{base}以降"),
                    (_, Qualifier::Before) => format!("{base}以前"),
                }
            }
            _ => {
                let base = match (self.precision(), self.month, self.day) {
                    (Precision::Day, Some(m), Some(d)) => format!("{d} {} {y}", month_name_en(m)),
                    (Precision::Month, Some(m), _) => format!("{} {y}", month_name_en(m)),
                    _ => y.to_string(),
                };
                match self.qualifier {
                    Qualifier::Exact => base,
                    Qualifier::About => format!("about {base}"),
                    Qualifier::After => format!("after {base}"),
                    Qualifier::Before => format!("before {base}"),
                }
            }
        }
    }

    /// First and last day of the period the date names, ignoring the qualifier. Fields are
    /// public, so out-of-range values are clamped instead of trusted: this never panics.
    fn period(&self) -> (Date, Date) {
        // One year of slack inside jiff's range so After/Before can always step a day.
        let year = self.year.clamp(-9998, 9998);
        let ymd = |m: i8, d: i8| Date::new(year, m, d).unwrap_or(Date::MIN);
        match (self.month, self.day) {
            (Some(m), day) => {
                let m = m.clamp(1, 12);
                let last = days_in_month(i32::from(year), m);
                match day {
                    Some(d) => {
                        let d = ymd(m, d.clamp(1, last));
                        (d, d)
                    }
                    None => (ymd(m, 1), ymd(m, last)),
                }
            }
            (None, _) => (ymd(1, 1), ymd(12, 31)),
        }
    }

    /// The earliest day this can be, if it has one (`~` and `<` do not). Lenient: `>2022-08`
    /// may be read as "from August 2022 on", so its earliest day is August 1st.
    pub fn earliest(&self) -> Option<Date> {
        match self.qualifier {
            Qualifier::Exact | Qualifier::After => Some(self.period().0),
            Qualifier::About | Qualifier::Before => None,
        }
    }

    /// The latest day this can be, if it has one (`~` and `>` do not); `<2022-08` leniently
    /// up to August 31st.
    pub fn latest(&self) -> Option<Date> {
        match self.qualifier {
            Qualifier::Exact | Qualifier::Before => Some(self.period().1),
            Qualifier::About | Qualifier::After => None,
        }
    }

    /// Whether this is before `other` whatever the days they stand for turn out to be.
    pub fn surely_before(&self, other: &Self) -> bool {
        matches!((self.latest(), other.earliest()), (Some(a), Some(b)) if a < b)
    }

    /// Last day the event can have happened on, for an end of an AtMost span.
    fn latest_day(&self) -> Date {
        self.period().1
    }

    /// First day of the period (with After: the day after the period; Before: the day before).
    pub fn sort_date(&self) -> Date {
        let (first, last) = self.period();
        match self.qualifier {
            Qualifier::Exact | Qualifier::About => first,
            Qualifier::After => last.tomorrow().unwrap_or(last),
            Qualifier::Before => first.yesterday().unwrap_or(first),
        }
    }

    /// Total order for sorting: by sort_date, then coarser precision first.
    ///
    /// Ties then go Before, Exact, About, After: `<2019-10-02` ends by the 1st, which an
    /// exact `2019-10-01` is on, and `~` may spill past it. The raw fields break any tie left
    /// (only possible for hand-built, out-of-range values), so that `Equal` means `==`.
    pub fn sort_cmp(&self, other: &Self) -> Ordering {
        fn rank(q: Qualifier) -> u8 {
            match q {
                Qualifier::Before => 0,
                Qualifier::Exact => 1,
                Qualifier::About => 2,
                Qualifier::After => 3,
            }
        }
        self.sort_date()
            .cmp(&other.sort_date())
            .then_with(|| self.precision().cmp(&other.precision()))
            .then_with(|| rank(self.qualifier).cmp(&rank(other.qualifier)))
            .then_with(|| (self.year, self.month, self.day).cmp(&(other.year, other.month, other.day)))
    }
}

fn year_range_message(year: i32) -> String {
    format!("year {year} is out of range: expected a year from {MIN_YEAR} to {MAX_YEAR}")
}

fn month_range_message() -> String {
    format!("{FORMAT_HELP}; months go from 01 to 12")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Exact,
    About,
    AtMost,
    AtLeast,
}

/// A derived length of time: dwell time, disclosure lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub days: i32,
    pub bound: Bound,
    pub precision: Precision,
}

impl Span {
    /// From `start` to `end`, when both are known precisely enough; None otherwise.
    ///
    /// Both ends need at least month precision, and the end must not be `<`/`>` (a figure
    /// measured to a vague end says nothing). Then:
    /// - both exact days: `Exact`;
    /// - `~` or month precision on either end (start `Exact`/`~`): `About`, from sort dates;
    /// - `>` start: the attacker arrived on or after its sort date, so the span is `AtMost`
    ///   from there to the *last* day of the end's period (with a month-precision end, its
    ///   first day would not be an upper bound);
    /// - `<` start: arrived on or before its sort date, so the span is `AtLeast` from there
    ///   to the *first* day of the end's period;
    /// - `>`/`<` start with a `~` end: None, a one-sided bound to an approximate end is
    ///   neither an honest bound nor an honest estimate.
    ///
    /// A negative span is None (inconsistent data, reported elsewhere), and so is a zero-day
    /// span that is not `Exact`: "about 0 days" only says the two fall in the same period.
    pub fn between(start: &PartialDate, end: &PartialDate) -> Option<Span> {
        let precision = start.precision().min(end.precision());
        if precision == Precision::Year {
            return None;
        }
        if matches!(end.qualifier, Qualifier::After | Qualifier::Before) {
            return None;
        }
        let end_about = end.qualifier == Qualifier::About;
        let (bound, to) = match start.qualifier {
            Qualifier::After if !end_about => (Bound::AtMost, end.latest_day()),
            Qualifier::Before if !end_about => (Bound::AtLeast, end.sort_date()),
            Qualifier::After | Qualifier::Before => return None,
            Qualifier::Exact | Qualifier::About => {
                let exact = start.qualifier == Qualifier::Exact && !end_about && precision == Precision::Day;
                let bound = if exact { Bound::Exact } else { Bound::About };
                (bound, end.sort_date())
            }
        };
        let days = to.since(start.sort_date()).ok()?.get_days();
        if days < 0 || (days == 0 && bound != Bound::Exact) {
            return None;
        }
        Some(Span { days, bound, precision })
    }

    /// Under 60 days in days; up to two years in months (`days / 30.44`, rounded); longer
    /// in years with one decimal (a trailing `.0` dropped). Months and years already say
    /// "about", so an `About` bound adds nothing to them.
    pub fn display(&self, lang: &str) -> String {
        let days = self.days;
        enum Unit {
            Days(i32),
            Months(i64),
            Years(String),
        }
        let unit = if days < 60 {
            Unit::Days(days)
        } else if f64::from(days) / 365.25 <= 2.0 {
            Unit::Months((f64::from(days) / 30.44).round() as i64)
        } else {
            let tenths = (f64::from(days) / 365.25 * 10.0).round() as i64;
            let text =
                if tenths % 10 == 0 { (tenths / 10).to_string() } else { format!("{}.{}", tenths / 10, tenths % 10) };
            Unit::Years(text)
        };
        let rounded = !matches!(unit, Unit::Days(_));
        let lang = primary_lang(lang);
        let (about, at_most, at_least, body) = match lang.as_str() {
            "zh" => (
                "约",
                "最多",
                "至少",
                match unit {
                    Unit::Days(n) => format!("{n}天"),
                    Unit::Months(n) => format!("约{n}个月"),
                    Unit::Years(y) => format!("约{y}年"),
                },
            ),
            "ja" => (
                "約",
                "最大",
                "少なくとも",
                match unit {
                    Unit::Days(n) => format!("{n}日"),
                    Unit::Months(n) => format!("約{n}か月"),
                    Unit::Years(y) => format!("約{y}年"),
                },
            ),
            _ => (
                "about ",
                "at most ",
                "at least ",
                match unit {
                    Unit::Days(1) => "1 day".to_string(),
                    Unit::Days(n) => format!("{n} days"),
                    Unit::Months(1) => "about 1 month".to_string(),
                    Unit::Months(n) => format!("about {n} months"),
                    Unit::Years(y) => format!("about {y} years"),
                },
            ),
        };
        let prefix = match self.bound {
            Bound::Exact => "",
            Bound::About if rounded => "",
            Bound::About => about,
            Bound::AtMost => at_most,
            Bound::AtLeast => at_least,
        };
        format!("{prefix}{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> PartialDate {
        match PartialDate::parse(s) {
            Ok(d) => d,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).expect("test date")
    }

    fn span(a: &str, b: &str) -> Option<Span> {
        Span::between(&p(a), &p(b))
    }

    #[test]
    fn parses_every_form() {
        let cases = [
            ("2019", Qualifier::Exact, 2019, None, None),
            ("2019-09", Qualifier::Exact, 2019, Some(9), None),
            ("2019-09-14", Qualifier::Exact, 2019, Some(9), Some(14)),
            ("~2019", Qualifier::About, 2019, None, None),
            (">2019-09", Qualifier::After, 2019, Some(9), None),
            ("<2019-09-14", Qualifier::Before, 2019, Some(9), Some(14)),
            ("  ~2019-09 \n", Qualifier::About, 2019, Some(9), None),
            ("1900", Qualifier::Exact, 1900, None, None),
            ("2200-12-31", Qualifier::Exact, 2200, Some(12), Some(31)),
        ];
        for (s, qualifier, year, month, day) in cases {
            assert_eq!(p(s), PartialDate { qualifier, year, month, day }, "{s}");
        }
        assert_eq!(p("2019").precision(), Precision::Year);
        assert_eq!(p(">2019-09").precision(), Precision::Month);
        assert_eq!(p("~2019-09-01").precision(), Precision::Day);
    }

    #[test]
    fn rejects_other_forms() {
        for s in [
            "",
            " ",
            "~",
            "19",
            "20190",
            "2019-9",
            "2019-09-1",
            "2019/09",
            "2019-09-14-01",
            "2019-",
            "2019--09",
            "~~2019",
            "~ 2019",
            "≈2019",
            ">=2019",
            "2019-09-14T00:00",
            "+2019",
            "-2019",
            "２０１９",
            "Sept 2019",
        ] {
            let e = PartialDate::parse(s).expect_err(s);
            assert!(e.contains("expected a date such as 2019"), "{s}: {e}");
        }
    }

    #[test]
    fn validates_ranges() {
        let e = PartialDate::parse("2019-13").expect_err("month 13");
        assert!(e.contains("01 to 12"), "{e}");
        assert!(PartialDate::parse("2019-00").is_err());
        assert!(PartialDate::parse("2019-09-00").is_err());
        let e = PartialDate::parse("2019-09-31").expect_err("30 days");
        assert!(e.contains("September 2019") && e.contains("30"), "{e}");
        let e = PartialDate::parse("1899").expect_err("year");
        assert!(e.contains("1900") && e.contains("2200"), "{e}");
        assert!(PartialDate::parse("2201-01").is_err());
        assert!(PartialDate::from_ymd(2019, 2, 29).is_err());
        assert!(PartialDate::from_ymd(1850, 1, 1).is_err());
        assert!(PartialDate::from_ymd(2019, 1, -1).is_err());
        assert_eq!(
            PartialDate::from_ymd(2025, 2, 5),
            Ok(PartialDate { qualifier: Qualifier::Exact, year: 2025, month: Some(2), day: Some(5) })
        );
    }

    #[test]
    fn leap_years() {
        let e = PartialDate::parse("2023-02-29").expect_err("not leap");
        assert!(e.contains("February 2023") && e.contains("28"), "{e}");
        assert!(PartialDate::parse("2024-02-29").is_ok());
        assert!(PartialDate::parse("2000-02-29").is_ok());
        assert!(PartialDate::parse("1900-02-29").is_err());
        assert!(PartialDate::parse("2100-02-29").is_err());
        assert_eq!(p(">2024-02").sort_date(), d(2024, 3, 1));
        assert_eq!(p("<2024-03").sort_date(), d(2024, 2, 29));
        assert_eq!(span("2024-02-01", "2024-03-01").map(|s| s.days), Some(29));
    }

    #[test]
    fn toml_dates() {
        let dt: toml::value::Datetime = "2019-09-14".parse().expect("toml date");
        assert_eq!(PartialDate::from_toml_datetime(&dt), Ok(p("2019-09-14")));
        let dt: toml::value::Datetime = "2019-09-14T10:00:00Z".parse().expect("toml datetime");
        assert!(PartialDate::from_toml_datetime(&dt).is_err());
        // toml itself rejects this one; a hand-built value must not slip through.
        let dt = toml::value::Datetime {
            date: Some(toml::value::Date { year: 2023, month: 2, day: 29 }),
            time: None,
            offset: None,
        };
        assert!(PartialDate::from_toml_datetime(&dt).is_err());
    }

    #[test]
    fn iso_round_trips() {
        for s in ["2019", "2019-09", "2025-02-05", "~2019", ">2019-09", "<2019-09-14"] {
            assert_eq!(p(s).to_iso(), s);
            assert_eq!(p(&p(s).to_iso()), p(s));
        }
    }

    #[test]
    fn display_en() {
        assert_eq!(p("2025-02-05").display("en"), "5 February 2025");
        assert_eq!(p("2019-09").display("en"), "September 2019");
        assert_eq!(p("2019").display("en"), "2019");
        assert_eq!(p("~2019-09").display("en"), "about September 2019");
        assert_eq!(p(">2019-09").display("en"), "after September 2019");
        assert_eq!(p("<2019").display("en"), "before 2019");
        assert_eq!(p("~2019-12-31").display("en"), "about 31 December 2019");
        // Unknown languages fall back to English.
        assert_eq!(p("2019-09").display("fr"), "September 2019");
        assert_eq!(p("2019-09").display(""), "September 2019");
    }

    #[test]
    fn display_zh() {
        assert_eq!(p("2025-02-05").display("zh"), "2025年2月5日");
        assert_eq!(p("2019-09").display("zh"), "2019年9月");
        assert_eq!(p("2019").display("zh"), "2019年");
        assert_eq!(p("~2019-09").display("zh"), "约2019年9月");
        assert_eq!(p(">2019-09").display("zh"), "2019年9月之后");
        assert_eq!(p("<2019").display("zh"), "2019年之前");
        assert_eq!(p("2019-09").display("zh-CN"), "2019年9月");
    }

    #[test]
    fn display_ja() {
        assert_eq!(p("2025-02-05").display("ja"), "2025年2月5日");
        assert_eq!(p("2019-09").display("ja"), "2019年9月");
        assert_eq!(p("2019").display("ja"), "2019年");
        assert_eq!(p("~2019-09").display("ja"), "2019年9月頃");
        assert_eq!(p(">2019-09").display("ja"), "2019年9月以降");
        assert_eq!(p("<2019").display("ja"), "2019年以前");
        assert_eq!(p("~2019").display("ja-JP"), "2019年頃");
    }

    #[test]
    fn sort_dates() {
        assert_eq!(p("2019").sort_date(), d(2019, 1, 1));
        assert_eq!(p("2019-09").sort_date(), d(2019, 9, 1));
        assert_eq!(p("~2019-09-14").sort_date(), d(2019, 9, 14));
        assert_eq!(p(">2019-09").sort_date(), d(2019, 10, 1));
        assert_eq!(p(">2019-12").sort_date(), d(2020, 1, 1));
        assert_eq!(p(">2019").sort_date(), d(2020, 1, 1));
        assert_eq!(p(">2019-09-30").sort_date(), d(2019, 10, 1));
        assert_eq!(p("<2020").sort_date(), d(2019, 12, 31));
        assert_eq!(p("<2020-03").sort_date(), d(2020, 2, 29));
        assert_eq!(p("<2020-03-01").sort_date(), d(2020, 2, 29));
    }

    #[test]
    fn sort_order() {
        let mut v: Vec<PartialDate> = [
            ">2019-09",
            "2019-10-02",
            "2019-10",
            "~2019-10",
            "<2019-10-02",
            "2019-10-01",
            "2019",
            "<2019-09",
            "2019-09",
            "~2019",
            ">2018",
            "2020",
            "<2019",
        ]
        .iter()
        .map(|s| p(s))
        .collect();
        v.sort_by(PartialDate::sort_cmp);
        let got: Vec<String> = v.iter().map(PartialDate::to_iso).collect();
        assert_eq!(
            got,
            [
                "<2019",
                "2019",
                "~2019",
                ">2018",
                "<2019-09",
                "2019-09",
                "2019-10",
                "~2019-10",
                ">2019-09",
                "<2019-10-02",
                "2019-10-01",
                "2019-10-02",
                "2020",
            ]
        );
        for a in &v {
            for b in &v {
                assert_eq!(a.sort_cmp(b) == Ordering::Equal, a == b);
                assert_eq!(a.sort_cmp(b), b.sort_cmp(a).reverse());
            }
        }
    }

    #[test]
    fn out_of_range_fields_do_not_panic() {
        let odd = PartialDate { qualifier: Qualifier::After, year: i16::MAX, month: Some(13), day: Some(-4) };
        let _ = odd.sort_date();
        let _ = odd.display("en");
        let _ = odd.display("ja");
        let _ = odd.to_iso();
        let other = PartialDate { qualifier: Qualifier::Before, year: i16::MIN, month: None, day: Some(3) };
        let _ = other.sort_date();
        let _ = Span::between(&other, &odd);
        assert_ne!(odd.sort_cmp(&other), Ordering::Equal);
    }

    #[test]
    fn exact_spans() {
        let s = span("2019-09-14", "2020-05-26").expect("span");
        assert_eq!(s.days, 255);
        assert_eq!(s.bound, Bound::Exact);
        assert_eq!(s.precision, Precision::Day);
        assert_eq!(span("2020-05-26", "2020-05-26").map(|s| s.days), Some(0));
        assert_eq!(span("2020-05-26", "2020-05-27").map(|s| s.days), Some(1));
        // End before start: inconsistent, no figure.
        assert_eq!(span("2020-05-27", "2020-05-26"), None);
    }

    #[test]
    fn vague_ends_give_none() {
        assert_eq!(span("2019", "2020-05-26"), None);
        assert_eq!(span("2019-09-14", "2020"), None);
        assert_eq!(span("~2019", "2020-05-26"), None);
        assert_eq!(span("2019-09-14", ">2020-05-26"), None);
        assert_eq!(span("2019-09-14", "<2020-05"), None);
        assert_eq!(span(">2019-09", "~2020-05-26"), None);
        assert_eq!(span("<2019-09", "~2020-05"), None);
        // Same month at month precision: "about 0 days" would say nothing.
        assert_eq!(span("2019-09", "2019-09"), None);
    }

    #[test]
    fn about_spans() {
        let s = span("2019-09", "2020-05-26").expect("span");
        assert_eq!((s.days, s.bound, s.precision), (268, Bound::About, Precision::Month));
        let s = span("~2019-09-14", "2020-05-26").expect("span");
        assert_eq!((s.days, s.bound, s.precision), (255, Bound::About, Precision::Day));
        let s = span("2019-09-14", "~2020-05-26").expect("span");
        assert_eq!((s.days, s.bound), (255, Bound::About));
        let s = span("2019-09-14", "2020-05").expect("span");
        assert_eq!((s.days, s.bound, s.precision), (230, Bound::About, Precision::Month));
        let s = span("2019-09", "2019-09-20").expect("span");
        assert_eq!((s.days, s.bound), (19, Bound::About));
    }

    #[test]
    fn one_sided_spans() {
        // After September 2019, so on or after 1 October: at most 238 days.
        let s = span(">2019-09", "2020-05-26").expect("span");
        assert_eq!((s.days, s.bound, s.precision), (238, Bound::AtMost, Precision::Month));
        let s = span(">2019-09-14", "2020-05-26").expect("span");
        assert_eq!((s.days, s.bound, s.precision), (254, Bound::AtMost, Precision::Day));
        // A month end is measured to its last day, or it would not bound anything.
        let s = span(">2019-09", "2020-05").expect("span");
        assert_eq!((s.days, s.bound), (243, Bound::AtMost));
        // Before September 2019, so on or before 31 August: at least 269 days.
        let s = span("<2019-09", "2020-05-26").expect("span");
        assert_eq!((s.days, s.bound, s.precision), (269, Bound::AtLeast, Precision::Month));
        // A month end is measured from its first day, the earliest it can be.
        let s = span("<2019-09", "2020-05").expect("span");
        assert_eq!((s.days, s.bound), (244, Bound::AtLeast));
        assert_eq!(span(">2020-05", "2020-05-26"), None);
    }

    fn sp(days: i32, bound: Bound) -> Span {
        Span { days, bound, precision: Precision::Day }
    }

    #[test]
    fn span_display_en() {
        assert_eq!(sp(37, Bound::Exact).display("en"), "37 days");
        assert_eq!(sp(1, Bound::Exact).display("en"), "1 day");
        assert_eq!(sp(0, Bound::Exact).display("en"), "0 days");
        assert_eq!(sp(59, Bound::Exact).display("en"), "59 days");
        assert_eq!(sp(60, Bound::Exact).display("en"), "about 2 months");
        assert_eq!(sp(244, Bound::Exact).display("en"), "about 8 months");
        assert_eq!(sp(730, Bound::Exact).display("en"), "about 24 months");
        assert_eq!(sp(840, Bound::Exact).display("en"), "about 2.3 years");
        assert_eq!(sp(1096, Bound::Exact).display("en"), "about 3 years");
        assert_eq!(sp(37, Bound::About).display("en"), "about 37 days");
        assert_eq!(sp(244, Bound::About).display("en"), "about 8 months");
        assert_eq!(sp(840, Bound::About).display("en"), "about 2.3 years");
        assert_eq!(sp(37, Bound::AtMost).display("en"), "at most 37 days");
        assert_eq!(sp(244, Bound::AtMost).display("en"), "at most about 8 months");
        assert_eq!(sp(840, Bound::AtLeast).display("en"), "at least about 2.3 years");
        assert_eq!(sp(1, Bound::AtLeast).display("de"), "at least 1 day");
    }

    #[test]
    fn span_display_zh() {
        assert_eq!(sp(37, Bound::Exact).display("zh"), "37天");
        assert_eq!(sp(244, Bound::Exact).display("zh"), "约8个月");
        assert_eq!(sp(840, Bound::Exact).display("zh"), "约2.3年");
        assert_eq!(sp(37, Bound::About).display("zh"), "约37天");
        assert_eq!(sp(244, Bound::About).display("zh"), "约8个月");
        assert_eq!(sp(37, Bound::AtMost).display("zh"), "最多37天");
        assert_eq!(sp(840, Bound::AtLeast).display("zh"), "至少约2.3年");
    }

    #[test]
    fn span_display_ja() {
        assert_eq!(sp(37, Bound::Exact).display("ja"), "37日");
        assert_eq!(sp(244, Bound::Exact).display("ja"), "約8か月");
        assert_eq!(sp(840, Bound::Exact).display("ja"), "約2.3年");
        assert_eq!(sp(37, Bound::About).display("ja"), "約37日");
        assert_eq!(sp(840, Bound::About).display("ja"), "約2.3年");
        assert_eq!(sp(37, Bound::AtMost).display("ja"), "最大37日");
        assert_eq!(sp(244, Bound::AtLeast).display("ja"), "少なくとも約8か月");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = PartialDate::parse(&s);
        }

        #[test]
        fn parse_never_panics_near_misses(s in "[ ~<>]{0,2}[0-9+-]{0,5}(-[0-9]{0,3}){0,3}[ ]?") {
            if let Ok(d) = PartialDate::parse(&s) {
                prop_assert_eq!(PartialDate::parse(&d.to_iso()), Ok(d));
                let _ = d.display("en");
                let _ = d.sort_date();
            }
        }

        #[test]
        fn valid_dates_round_trip_and_order(
            q in 0u8..4, y in 1900i16..=2200, m in proptest::option::of(1i8..=12),
            day in 1i8..=31, q2 in 0u8..4, y2 in 1900i16..=2200,
        ) {
            let prefix = ["", "~", ">", "<"][q as usize];
            let s = match m {
                Some(m) if day <= days_in_month(i32::from(y), m) => format!("{prefix}{y}-{m:02}-{day:02}"),
                Some(m) => format!("{prefix}{y}-{m:02}"),
                None => format!("{prefix}{y}"),
            };
            let a = PartialDate::parse(&s).map_err(TestCaseError::fail)?;
            prop_assert_eq!(a.to_iso(), s);
            let b = PartialDate::parse(&format!("{}{y2}", ["", "~", ">", "<"][q2 as usize]))
                .map_err(TestCaseError::fail)?;
            prop_assert_eq!(a.sort_cmp(&b), b.sort_cmp(&a).reverse());
            prop_assert_eq!(a.sort_cmp(&b) == Ordering::Equal, a == b);
            if let Some(span) = Span::between(&b, &a).or(Span::between(&a, &b)) {
                prop_assert!(span.days >= 0);
                let _ = span.display("zh");
            }
        }

        #[test]
        fn span_display_never_panics(days in any::<i32>(), b in 0u8..4) {
            let bound = [Bound::Exact, Bound::About, Bound::AtMost, Bound::AtLeast][b as usize];
            let _ = sp(days, bound).display("en");
        }
    }
}
