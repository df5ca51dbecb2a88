//! The crate-wide index: every file's shared facts, looked up by name. Rules use
//! it to resolve a constant or a function named in one file and defined in another.
//! Names, not types: two items with the same name are both candidates.

use crate::facts::{ConstFact, FileFacts, FnFact};
use rustc_hash::FxHashMap as HashMap;

#[derive(Default)]
pub struct CrateIndex<'a> {
    pub consts: HashMap<&'a str, Vec<&'a ConstFact>>,
    pub fns: HashMap<&'a str, Vec<&'a FnFact>>,
}

impl<'a> CrateIndex<'a> {
    pub fn build(files: &'a [FileFacts]) -> Self {
        let mut index = CrateIndex::default();
        for facts in files {
            for c in &facts.consts {
                index.consts.entry(c.name.as_str()).or_default().push(c);
            }
            for f in &facts.fns {
                index.fns.entry(f.name.as_str()).or_default().push(f);
            }
        }
        index
    }

    pub fn consts_named(&self, name: &str) -> &[&'a ConstFact] {
        self.consts.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn fns_named(&self, name: &str) -> &[&'a FnFact] {
        self.fns.get(name).map_or(&[], Vec::as_slice)
    }
}
