//! The crate-wide index: every file's shared facts, looked up by name. Rules use
//! it to resolve a constant or a function named in one file and defined in another.
//! Names, not types: two items with the same name are both candidates.

use crate::facts::{ConstFact, FileFacts, FnFact};
use rayon::prelude::*;
use std::hash::BuildHasher;

/// Items by the hash of their name, sorted: built in parallel with one allocation
/// (a map of vectors made one allocation per distinct name, serially). Items with
/// equal names keep their crate order (file, then position).
struct ByName<'a, T> {
    entries: Vec<(u64, &'a T)>,
}

fn hash(name: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(name)
}

impl<'a, T: Sync> ByName<'a, T> {
    fn build(
        files: &'a [FileFacts],
        items: impl Fn(&'a FileFacts) -> &'a [T] + Sync,
        name: impl Fn(&T) -> &str + Sync,
    ) -> Self {
        let mut entries: Vec<(u64, &'a T)> =
            files.par_iter().flat_map_iter(|f| items(f).iter().map(|item| (hash(name(item)), item))).collect();
        // Stable: equal hashes stay in crate order.
        entries.par_sort_by_key(|(h, _)| *h);
        ByName { entries }
    }

    fn named<'s>(&'s self, wanted: &'s str, name: impl Fn(&T) -> &str + 's) -> impl Iterator<Item = &'a T> + 's {
        let h = hash(wanted);
        let start = self.entries.partition_point(|(e, _)| *e < h);
        self.entries[start..]
            .iter()
            .take_while(move |(e, _)| *e == h)
            .map(|(_, item)| *item)
            .filter(move |item| name(item) == wanted)
    }
}

pub struct CrateIndex<'a> {
    consts: ByName<'a, ConstFact>,
    fns: ByName<'a, FnFact>,
}

impl<'a> CrateIndex<'a> {
    /// Builds the index on the current rayon pool.
    pub fn build(files: &'a [FileFacts]) -> Self {
        let (consts, fns) = rayon::join(
            || ByName::build(files, |f| &f.consts, |c| c.name.as_str()),
            || ByName::build(files, |f| &f.fns, |f| f.name.as_str()),
        );
        CrateIndex { consts, fns }
    }

    /// The constants and statics named `name`, in crate order.
    pub fn consts_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a ConstFact> + 's {
        self.consts.named(name, |c| c.name.as_str())
    }

    /// The functions and methods named `name`, in crate order.
    pub fn fns_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a FnFact> + 's {
        self.fns.named(name, |f| f.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::value::Value;
    use crate::input::source::Loc;

    fn consts(file: usize, names: &[&str]) -> FileFacts {
        let consts = names
            .iter()
            .enumerate()
            .map(|(i, n)| ConstFact { name: n.to_string(), name_loc: Loc::new(file, i, i + 1), value: Value::Opaque })
            .collect();
        FileFacts { consts, ..Default::default() }
    }

    #[test]
    fn lookups_find_every_item_of_that_name_in_crate_order_and_nothing_else() {
        let files: Vec<FileFacts> =
            (0..50).map(|f| consts(f, &["ADDR", &format!("OTHER_{f}"), "PORT", "ADDR"])).collect();
        let index = CrateIndex::build(&files);
        let addr: Vec<(usize, u32)> = index.consts_named("ADDR").map(|c| (c.name_loc.file, c.name_loc.start)).collect();
        let expected: Vec<(usize, u32)> = (0..50).flat_map(|f| [(f, 0), (f, 3)]).collect();
        assert_eq!(addr, expected);
        assert_eq!(index.consts_named("OTHER_7").count(), 1);
        assert_eq!(index.consts_named("MISSING").count(), 0);
        assert_eq!(index.fns_named("ADDR").count(), 0);
    }
}
