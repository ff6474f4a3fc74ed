//! Every URL the site has is made here, as a path relative to the site root with no
//! leading `/` (`cases/x/`). Templates prefix it with the page's `root` (`../../`), so a
//! built site works under any base path and from `file://`.

/// The taxonomies: one mechanism, one folder each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Organizations,
    Techniques,
    Tactics,
    Sectors,
    Countries,
    DataTypes,
    Actors,
    Tags,
    Years,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Organizations,
        Kind::Techniques,
        Kind::Tactics,
        Kind::Sectors,
        Kind::Countries,
        Kind::DataTypes,
        Kind::Actors,
        Kind::Tags,
        Kind::Years,
    ];
    pub fn index(self) -> usize {
        self as usize
    }
    /// The URL folder, also the key templates see.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Organizations => "organizations",
            Kind::Techniques => "techniques",
            Kind::Tactics => "tactics",
            Kind::Sectors => "sectors",
            Kind::Countries => "countries",
            Kind::DataTypes => "data-types",
            Kind::Actors => "actors",
            Kind::Tags => "tags",
            Kind::Years => "years",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Kind::Organizations => "Organizations",
            Kind::Techniques => "Techniques",
            Kind::Tactics => "Tactics",
            Kind::Sectors => "Sectors",
            Kind::Countries => "Countries",
            Kind::DataTypes => "Data types",
            Kind::Actors => "Actors",
            Kind::Tags => "Tags",
            Kind::Years => "Years",
        }
    }
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Organizations => "Organization",
            Kind::Techniques => "Technique",
            Kind::Tactics => "Tactic",
            Kind::Sectors => "Sector",
            Kind::Countries => "Country",
            Kind::DataTypes => "Data type",
            Kind::Actors => "Actor",
            Kind::Tags => "Tag",
            Kind::Years => "Year",
        }
    }
}

pub(crate) fn home() -> String {
    String::new()
}
pub(crate) fn case(slug: &str) -> String {
    format!("cases/{slug}/")
}
pub(crate) fn cases_page(n: usize) -> String {
    if n <= 1 {
        "cases/".to_string()
    } else {
        format!("cases/page/{n}/")
    }
}
pub(crate) fn term_index(kind: Kind) -> String {
    format!("{}/", kind.key())
}
/// The slug of a term written by name: the lower-case code for a country, the id for a
/// technique, the transliterated ASCII slug for everything else.
pub(crate) fn term_slug(kind: Kind, name: &str) -> String {
    match kind {
        Kind::Countries => name.to_ascii_lowercase(),
        Kind::Techniques | Kind::Years => name.to_string(),
        _ => crate::slug::slugify(name),
    }
}
pub(crate) fn term(kind: Kind, slug: &str) -> String {
    format!("{}/{slug}/", kind.key())
}
/// The matrix with only confirmed and likely uses.
pub(crate) fn matrix_confirmed() -> String {
    "techniques/confirmed/".to_string()
}
pub(crate) fn timeline() -> String {
    "timeline/".to_string()
}
/// One year of the timeline (cases that happened that year).
pub(crate) fn timeline_year(year: i16) -> String {
    format!("timeline/{year}/")
}
pub(crate) fn statistics() -> String {
    "statistics/".to_string()
}
pub(crate) fn search() -> String {
    "search/".to_string()
}
pub(crate) fn page(slug: &str) -> String {
    format!("{slug}/")
}

/// Output file of a page URL: `cases/x/` -> `cases/x/index.html`.
pub(crate) fn output_path(url: &str) -> String {
    if url.is_empty() || url.ends_with('/') {
        format!("{url}index.html")
    } else {
        url.to_string()
    }
}

/// `../` once per folder of `url`: the way back to the site root.
pub(crate) fn root_prefix(url: &str) -> String {
    "../".repeat(url.matches('/').count())
}

/// Absolute URL for feeds and the sitemap.
pub(crate) fn permalink(base_url: &str, url: &str) -> String {
    format!("{}/{url}", base_url.trim_end_matches('/'))
}

/// Top-level folders the site's own URLs use: a free page may not take these names.
pub(crate) const RESERVED: &[&str] = &[
    "cases",
    "organizations",
    "techniques",
    "tactics",
    "sectors",
    "countries",
    "data-types",
    "actors",
    "tags",
    "years",
    "timeline",
    "search",
    "api",
    "statistics",
    "page",
    "404",
    "static",
];
