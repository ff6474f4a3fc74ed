//! One term mechanism for every taxonomy: names to slugs, slug collisions, and the
//! list of cases under each term (the cross-link index), built in one pass per taxonomy.

use rustc_hash::FxHashMap as HashMap;

use crate::diagnostics::{Diagnostic, SourceFile};
use crate::urls::Kind;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Term {
    pub slug: String,
    pub name: String,
    /// Indices into `Site::cases`, in case order (newest incident first).
    pub cases: Vec<usize>,
}

#[derive(Debug)]
pub struct Taxonomy {
    pub kind: Kind,
    pub terms: Vec<Term>,
    by_slug: HashMap<String, usize>,
    /// Where each term's name was first written, to name both sides of a collision.
    first_seen: Vec<Option<(Arc<SourceFile>, std::ops::Range<usize>)>>,
}

impl Taxonomy {
    pub fn new(kind: Kind) -> Self {
        Taxonomy { kind, terms: Vec::new(), by_slug: HashMap::default(), first_seen: Vec::new() }
    }

    pub fn get(&self, slug: &str) -> Option<usize> {
        self.by_slug.get(slug).copied()
    }

    /// The term for `slug`, created with `name` on first sight. Two different names
    /// with one slug are one term only when they differ by case alone.
    pub fn intern(
        &mut self,
        slug: String,
        name: &str,
        at: Option<(&Arc<SourceFile>, std::ops::Range<usize>)>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<usize> {
        if let Some(&i) = self.by_slug.get(&slug) {
            let existing = &self.terms[i].name;
            // Most cases spell a term as the others do: nothing to compare then.
            if existing == name {
                return Some(i);
            }
            let lower = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<Vec<char>>();
            if lower(existing) != lower(name) {
                let mut d = Diagnostic::error(
                    "slug-collision",
                    format!(
                        "{} {name:?} and {existing:?} both make the URL /{}/{slug}/",
                        self.kind.singular().to_lowercase(),
                        self.kind.key()
                    ),
                )
                .hint(match &self.first_seen[i] {
                    Some((f, r)) => {
                        let (l, c) = f.line_col(r.start);
                        format!("{existing:?} is written at {}:{l}:{c}; use one spelling for both", f.path)
                    }
                    None => "use one spelling for both".to_string(),
                });
                if let Some((f, r)) = at {
                    d = d.at(f, r);
                }
                diags.push(d);
                return None;
            }
            // Spellings that differ by case: keep the capitalised one, whatever the order.
            let caps = |s: &str| s.chars().filter(|c| c.is_uppercase()).count();
            if (caps(name), std::cmp::Reverse(name)) > (caps(existing), std::cmp::Reverse(existing.as_str())) {
                self.terms[i].name = name.to_string();
            }
            return Some(i);
        }
        let i = self.terms.len();
        self.by_slug.insert(slug.clone(), i);
        self.terms.push(Term { slug, name: name.to_string(), cases: Vec::new() });
        self.first_seen.push(at.map(|(f, r)| (f.clone(), r)));
        Some(i)
    }
}
