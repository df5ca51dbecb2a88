//! From findings to output: in-source suppressions ([`suppress`]), baselines
//! ([`baseline`]) and the renderers ([`render`]).

pub mod baseline;
pub mod render;
pub mod suppress;
