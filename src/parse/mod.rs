//! TODO
pub mod date;
pub mod markdown;
