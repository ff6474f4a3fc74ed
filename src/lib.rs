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

pub mod attack;
pub mod cli;
pub mod config;
pub mod countries;
pub mod diagnostics;
pub mod engine;
pub mod external;
pub mod html;
pub mod load;
pub mod parse;
pub mod render;
pub mod report;
pub mod resolve;
pub mod scaffold;
pub mod serve;
pub mod slug;
pub mod toml_input;
pub mod urls;
pub mod write;
