//! Casebook: a static site generator for breach case studies.
//!
//! The build is a one-way pipeline, one module per stage:
//! [`load`] (walk the tree, read files) -> [`parse`] (front matter, Markdown)
//! -> [`resolve`] (ATT&CK catalog, organizations, the cross-link index)
//! -> [`render`] (Tera) -> [`write`] (atomically). The [`engine`] runs them in order, the
//! same way for `build`, `check` and `serve`. Each stage takes the previous stage's types
//! and hands on its own.

// Diagnostics travel in `Err` on the cold path only; boxing them buys nothing.
#![allow(clippy::result_large_err)]
// Only the library's API is `pub`; everything else is `pub(crate)` at most.
#![warn(unreachable_pub)]

pub mod attack;
pub mod cli;
pub mod config;
mod countries;
pub mod diagnostics;
pub mod engine;
mod external;
mod fingerprint;
mod html;
pub mod load;
pub mod parse;
pub mod render;
mod report;
pub mod resolve;
mod scaffold;
mod serve;
pub mod slug;
pub mod text;
mod toml_input;
mod urls;
pub mod write;
