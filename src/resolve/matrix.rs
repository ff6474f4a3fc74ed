//! The site's ATT&CK matrix: which counted cases use each (tactic, technique) cell.
//!
//! Gathered in resolve's one pass over the cases' terms, so that the matrix pages, the
//! home page and the site's Navigator layer read a few hundred cells instead of each
//! walking the techniques of every case again (three passes over 10,000 cases' data, on
//! every run of `serve`).

use rustc_hash::FxHashMap as HashMap;

/// One (tactic, technique) cell.
#[derive(Debug)]
pub struct Cell {
    /// The tactic's shortname (`initial-access`).
    pub tactic: String,
    /// The technique's term (`Site::taxonomy(Kind::Techniques)`).
    pub technique: usize,
    /// Uses under this tactic by counted cases (a case that lists a technique twice
    /// counts twice), and those of them confirmed or likely.
    pub uses: usize,
    pub firm_uses: usize,
    /// The counted cases that use it, each once, in case order.
    pub cases: Vec<usize>,
}

/// A technique named by counted cases.
#[derive(Debug)]
pub struct Named {
    /// The technique's term.
    pub technique: usize,
    /// How many counted cases use it confirmed or likely.
    pub firm_cases: usize,
}

#[derive(Debug, Default)]
pub struct Matrix {
    /// In the order first used: by the newest case first, then as the case lists them.
    pub cells: Vec<Cell>,
    /// Every technique named by a counted case, in the order first named.
    pub named: Vec<Named>,
}

/// Builds a [`Matrix`] one use at a time, in case order.
#[derive(Default)]
pub(super) struct Gather {
    matrix: Matrix,
    /// Per technique term: its cells (a technique has a few tactics at most).
    cells_of: HashMap<usize, Vec<usize>>,
    /// Per technique term: its place in `named`, and the last case that used it firmly.
    named_at: HashMap<usize, (usize, Option<usize>)>,
}

impl Gather {
    /// Case `case` (counted) uses `technique` under `tactics`, confirmed or likely if `firm`.
    pub(super) fn add(&mut self, case: usize, technique: usize, tactics: &[String], firm: bool) {
        let m = &mut self.matrix;
        let (at, last_firm) = *self.named_at.entry(technique).or_insert_with(|| {
            m.named.push(Named { technique, firm_cases: 0 });
            (m.named.len() - 1, None)
        });
        if firm && last_firm != Some(case) {
            m.named[at].firm_cases += 1;
            self.named_at.insert(technique, (at, Some(case)));
        }
        let cells = self.cells_of.entry(technique).or_default();
        for tactic in tactics {
            let c = match cells.iter().copied().find(|&c| m.cells[c].tactic == *tactic) {
                Some(c) => c,
                None => {
                    m.cells.push(Cell { tactic: tactic.clone(), technique, uses: 0, firm_uses: 0, cases: Vec::new() });
                    cells.push(m.cells.len() - 1);
                    m.cells.len() - 1
                }
            };
            let cell = &mut m.cells[c];
            cell.uses += 1;
            cell.firm_uses += usize::from(firm);
            // A case's uses come together: only the last entry can be this case.
            if cell.cases.last() != Some(&case) {
                cell.cases.push(case);
            }
        }
    }

    pub(super) fn finish(self) -> Matrix {
        self.matrix
    }
}
