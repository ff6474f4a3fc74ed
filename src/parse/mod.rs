//! TODO
pub mod date;
pub mod highlight;
pub mod markdown;
