//! The facts cache: each file's facts (or its parse problem), keyed by a hash of
//! gatelint's version, what the enabled rules extract, the file's path and its
//! content. A warm run re-parses nothing that did not change. The cache lives in
//! `target/gatelint-cache/` (or `$GATELINT_CACHE_DIR`), is safe to delete, and is
//! never stale: any change to the inputs of a file's facts changes its key.

use crate::facts::{FileFacts, SharedFacts};
use crate::input::parse::ParseProblem;
use crate::input::source::{FileId, while_loading};
use crate::report::suppress::Suppressed;
use crate::rules::diagnostic::Diagnostic;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const FILE_NAME: &str = "facts-v3.bin";
const RUN_FILE_NAME: &str = "run-v3.bin";

/// What one file's checking produced, as stored: its shared facts, each rule's facts
/// (by registry slot, serialised by the rule) and its parse problem.
#[derive(Deserialize)]
struct Entry {
    shared: SharedFacts,
    rules: Vec<Option<Vec<u8>>>,
    problem: Option<ParseProblem>,
}

pub type Key = [u8; 32];

pub struct Cache {
    dir: PathBuf,
    /// Stored entries, still serialised: a file's locations are read with its id.
    /// Read on first use: a run whose findings are reused never needs them.
    old: std::sync::OnceLock<HashMap<Key, Vec<u8>>>,
    /// A hash of everything but the file that facts depend on.
    salt: [u8; 32],
}

impl Cache {
    /// Opens the cache in `dir` (an unreadable or corrupt cache is an empty one).
    /// `rules` is [`crate::rules::ActiveRules::fingerprint`]: what the active rules extract.
    pub fn open(dir: PathBuf, rules: &str, include_tests: bool) -> Cache {
        let mut hasher = Sha256::new();
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        // A rebuilt binary of the same version (a developer's build) must not reuse
        // facts its code may extract differently: its size and mtime join the key.
        if let Some(meta) = std::env::current_exe().ok().and_then(|exe| std::fs::metadata(exe).ok()) {
            hasher.update(meta.len().to_le_bytes());
            let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            hasher.update(mtime.map_or(0, |d| d.as_nanos()).to_le_bytes());
        }
        hasher.update(rules.as_bytes());
        hasher.update([u8::from(include_tests)]);
        let salt: [u8; 32] = hasher.finalize().into();
        Cache { dir, old: std::sync::OnceLock::new(), salt }
    }

    fn old(&self) -> &HashMap<Key, Vec<u8>> {
        self.old.get_or_init(|| {
            std::fs::read(self.dir.join(FILE_NAME))
                .ok()
                .and_then(|bytes| postcard::from_bytes::<Vec<(Key, Vec<u8>)>>(&bytes).ok())
                .map(|v| v.into_iter().collect())
                .unwrap_or_default()
        })
    }

    /// The default location: `$GATELINT_CACHE_DIR`, else `target/gatelint-cache` under `root`.
    /// The cache directory of a project checked from `start`: in its `target/`, beside
    /// its configuration file, else at the cargo workspace (or crate) root above `start`,
    /// else under `start` itself (or where `$GATELINT_CACHE_DIR` says).
    pub fn project_dir(config_file: Option<&Path>, start: &Path) -> PathBuf {
        let root = config_file
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .or_else(|| crate::input::discover::cargo_target_root(start))
            .unwrap_or_else(|| if start.is_dir() { start } else { start.parent().unwrap_or(start) }.to_path_buf());
        Self::default_dir(&root)
    }

    pub fn default_dir(root: &Path) -> PathBuf {
        std::env::var_os("GATELINT_CACHE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target").join("gatelint-cache"))
    }

    pub fn key(&self, display: &str, content: &[u8]) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        hasher.update((display.len() as u64).to_le_bytes());
        hasher.update(display.as_bytes());
        hasher.update(content);
        hasher.finalize().into()
    }

    /// The stored facts of `key`, read as belonging to file `id`.
    pub fn get(&self, key: &Key, id: FileId) -> Option<(FileFacts, Option<ParseProblem>)> {
        let bytes = self.old().get(key)?;
        while_loading(id, || {
            let entry: Entry = postcard::from_bytes(bytes).ok()?;
            let registry = crate::rules::registry();
            if entry.rules.len() != registry.len() {
                return None;
            }
            let rules = (entry.rules.iter().zip(registry))
                .map(|(facts, rule)| match facts {
                    Some(bytes) => rule.decode_facts(bytes).map(Some),
                    None => Some(None),
                })
                .collect::<Option<Vec<_>>>()?;
            Some((FileFacts::new(entry.shared, rules), entry.problem))
        })
    }

    /// Serialises a file's outcome for [`Cache::save`]; `None` when it must not be
    /// cached (its facts depend on other files).
    pub fn encode(facts: &FileFacts, problem: &Option<ParseProblem>) -> Option<Vec<u8>> {
        let registry = crate::rules::registry();
        let mut rules = Vec::with_capacity(registry.len());
        for (slot, rule) in registry.iter().enumerate() {
            rules.push(match facts.rules.get(slot).and_then(Option::as_ref) {
                Some(f) if rule.reads_other_files(f) => return None,
                Some(f) => Some(rule.encode_facts(f)?),
                None => None,
            });
        }
        #[derive(Serialize)]
        struct EntryRef<'a> {
            consts: &'a [crate::facts::ConstFact],
            fns: &'a [crate::facts::FnFact],
            suppressions: &'a [crate::facts::suppressions::Suppression],
            names: &'a crate::facts::names::FileNames,
            test_items: &'a [(u32, u32)],
            sql: &'a crate::facts::sql_texts::SqlTexts,
            rules: Vec<Option<Vec<u8>>>,
            problem: &'a Option<ParseProblem>,
        }
        let entry = EntryRef {
            consts: &facts.consts,
            fns: &facts.fns,
            suppressions: &facts.suppressions,
            names: &facts.names,
            test_items: &facts.test_items,
            sql: &facts.sql,
            rules,
            problem,
        };
        postcard::to_stdvec(&entry).ok()
    }

    /// Writes the entries of this run (and only those), atomically, on a thread of its
    /// own: nothing the run reports waits for it. Join the handle before the process
    /// ends. Failing to write a cache is not an error: the next run is simply cold.
    pub fn save_in_background(&self, entries: Vec<(Key, Vec<u8>)>) -> Option<std::thread::JoinHandle<()>> {
        let dir = self.dir.clone();
        // Where no thread can be started, nothing is stored: the next run is cold.
        std::thread::Builder::new().spawn(move || save_entries(&dir, entries)).ok()
    }

    /// A key for a whole run: every file's key in order plus everything else the
    /// findings depend on (`extra`: the configuration, walk errors, report scope).
    pub fn run_key(&self, file_keys: &[Option<Key>], extra: &str) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        for k in file_keys {
            match k {
                Some(k) => hasher.update(k),
                None => hasher.update([0u8; 1]),
            }
        }
        hasher.update(extra.as_bytes());
        hasher.finalize().into()
    }

    /// Whether an earlier run's findings are stored (an identical run could reuse them).
    pub fn has_stored_run(&self) -> bool {
        self.dir.join(RUN_FILE_NAME).is_file()
    }

    /// The findings of an identical earlier run, if stored (and the files it looked
    /// for and did not find are still missing, and those it read besides the checked
    /// ones are unchanged), with the texts of those files.
    pub fn run_result(&self, key: &Key) -> Option<(StoredRun, Vec<String>)> {
        let bytes = std::fs::read(self.dir.join(RUN_FILE_NAME)).ok()?;
        let (stored_key, run): (Key, StoredRun) = postcard::from_bytes(&bytes).ok()?;
        if stored_key != *key || !run.looked_for.still_missing() {
            return None;
        }
        let texts = run.looked_for.read.iter().map(ReadFile::unchanged_text).collect::<Option<Vec<_>>>()?;
        Some((run, texts))
    }

    /// Stores this run's findings for an identical next run (serialised straight
    /// from the findings: a run with many findings is not copied in memory).
    pub fn save_run(&self, key: &Key, report: &crate::report::Report, looked_for: &LookedFor) {
        let run = RunRef {
            diagnostics: &report.diagnostics,
            suppressed: &report.suppressed,
            files_checked: report.files_checked,
            looked_for,
            notes: &report.notes,
        };
        self.write_atomically(RUN_FILE_NAME, &(key, run));
    }

    fn write_atomically(&self, name: &str, value: &impl Serialize) {
        write_atomically(&self.dir, name, value);
    }

    /// A stored entry, still serialised, to carry over unchanged.
    pub fn raw(&self, key: &Key) -> Option<Vec<u8>> {
        self.old().get(key).cloned()
    }
}

fn save_entries(dir: &std::path::Path, mut entries: Vec<(Key, Vec<u8>)>) {
    entries.sort_by_key(|e| e.0);
    // Streamed to the file: no second copy of every entry in memory.
    write_atomically(dir, FILE_NAME, &entries);
    let _ = std::fs::write(
        dir.join("CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n# gatelint's facts cache; safe to delete.\n",
    );
}

/// Serialises `value` into `name` in the cache directory, through a temporary
/// file and a rename. Failing to write is not an error: the next run is cold.
fn write_atomically(dir: &std::path::Path, name: &str, value: &impl Serialize) {
    use std::io::Write;
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!("{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp).ok().and_then(|file| {
        let writer = postcard::to_io(value, std::io::BufWriter::new(file)).ok()?;
        writer.into_inner().ok()?.flush().ok()
    });
    if written.is_some() {
        let _ = std::fs::rename(&tmp, dir.join(name));
    } else {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A run's findings, stored with explicit file ids (valid for the same file list).
#[derive(Deserialize)]
pub struct StoredRun {
    pub diagnostics: Vec<StoredDiagnostic>,
    /// Suppressed findings with their reasons.
    pub suppressed: Vec<(StoredDiagnostic, String)>,
    pub files_checked: usize,
    pub looked_for: LookedFor,
    pub notes: Vec<String>,
}

/// The files a run looked for beside the checked ones and did not find (the
/// configuration files a program reads at run time, by paths its code names), the
/// directory it ran in (which decides where they are looked for), and the files it
/// read beside the checked ones (files the code compiles in or reads at run time,
/// migrations): the run's key holds none of them, so an identical run is replayed
/// only while the missing files are still missing and the read ones unchanged.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LookedFor {
    pub cwd: PathBuf,
    pub missing: Vec<PathBuf>,
    /// In the order of their ids, after the checked files, the walk errors and the
    /// configuration file.
    pub read: Vec<ReadFile>,
}

/// A file a run read beside the checked ones.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReadFile {
    pub path: PathBuf,
    /// As shown in findings.
    pub shown: String,
    /// [`crate::input::source::checksum`] of its bytes.
    pub checksum: (usize, u64),
    /// Findings in it are reported (a run that reports on named paths only).
    pub reported: bool,
}

impl ReadFile {
    /// Its text, if it still has the bytes the run read.
    fn unchanged_text(&self) -> Option<String> {
        let bytes = std::fs::read(&self.path).ok()?;
        (crate::input::source::checksum(&bytes) == self.checksum).then(|| String::from_utf8(bytes).ok()).flatten()
    }
}

impl LookedFor {
    fn still_missing(&self) -> bool {
        self.missing.is_empty()
            || (crate::input::discover::working_dir().is_some_and(|cwd| cwd == self.cwd)
                && self.missing.iter().all(|p| !p.is_file()))
    }
}

/// The serialising side of [`StoredRun`]: the same layout, borrowed.
struct RunRef<'a> {
    diagnostics: &'a [Diagnostic],
    suppressed: &'a [Suppressed],
    files_checked: usize,
    looked_for: &'a LookedFor,
    notes: &'a [String],
}

impl Serialize for RunRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        struct Diags<'a>(&'a [Diagnostic]);
        impl Serialize for Diags<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(DiagnosticRef))
            }
        }
        struct Supp<'a>(&'a [Suppressed]);
        impl Serialize for Supp<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(|x| (DiagnosticRef(&x.diagnostic), &x.reason)))
            }
        }
        // A struct serialises as the tuple of its fields.
        let mut t = serializer.serialize_tuple(5)?;
        t.serialize_element(&Diags(self.diagnostics))?;
        t.serialize_element(&Supp(self.suppressed))?;
        t.serialize_element(&self.files_checked)?;
        t.serialize_element(self.looked_for)?;
        t.serialize_element(self.notes)?;
        t.end()
    }
}

/// The serialising side of [`StoredDiagnostic`].
struct DiagnosticRef<'a>(&'a Diagnostic);

impl Serialize for DiagnosticRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let d = self.0;
        let at = |l: &crate::input::source::Loc| (l.file, l.start, l.end);
        let mut t = serializer.serialize_tuple(9)?;
        t.serialize_element(d.rule)?;
        t.serialize_element(&d.severity)?;
        t.serialize_element(&at(&d.loc))?;
        t.serialize_element(&d.message)?;
        t.serialize_element(&d.label)?;
        t.serialize_element(&SecondaryRef(&d.secondary))?;
        t.serialize_element(&d.why)?;
        t.serialize_element(&d.notes)?;
        t.serialize_element(&d.help)?;
        t.end()
    }
}

struct SecondaryRef<'a>(&'a [crate::rules::diagnostic::Label]);

impl Serialize for SecondaryRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|l| ((l.loc.file, l.loc.start, l.loc.end), &l.message)))
    }
}

#[derive(Serialize, Deserialize)]
pub struct StoredDiagnostic {
    rule: String,
    severity: crate::rules::diagnostic::Severity,
    at: (FileId, u32, u32),
    message: String,
    label: String,
    secondary: Vec<((FileId, u32, u32), String)>,
    why: Option<String>,
    notes: Vec<String>,
    help: Option<String>,
}

impl StoredDiagnostic {
    /// Back to a diagnostic; `None` for a rule this build does not know.
    pub fn restore(self) -> Option<crate::rules::diagnostic::Diagnostic> {
        use crate::input::source::Loc;
        let rule = crate::rules::registry().iter().find(|r| r.id() == self.rule)?.id();
        let loc = |(file, start, end): (FileId, u32, u32)| Loc { file, start, end };
        Some(crate::rules::diagnostic::Diagnostic {
            rule,
            severity: self.severity,
            loc: loc(self.at),
            message: self.message,
            label: self.label,
            secondary: self
                .secondary
                .into_iter()
                .map(|(at, message)| crate::rules::diagnostic::Label { loc: loc(at), message })
                .collect(),
            why: self.why.map(std::borrow::Cow::Owned),
            notes: self.notes.into_iter().map(std::borrow::Cow::Owned).collect(),
            help: self.help,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::source::SourceFile;

    fn gatelint_slot(id: &str) -> usize {
        crate::rules::slot(id).unwrap()
    }

    fn facts_of(src: &str, id: FileId) -> FileFacts {
        let source = SourceFile::new("src/lib.rs".into(), src.to_string());
        let parsed = crate::input::parse::parse(src, false).unwrap();
        let config = crate::config::Config::defaults();
        crate::engine::extract_facts(id, Path::new("src/lib.rs"), &source, &parsed, &config.active)
    }

    #[test]
    fn facts_round_trip_and_take_the_new_file_id() {
        let src = "const LISTEN_ADDR: &str = \"0.0.0.0:1\";\nfn f(p: &PgPool) { for x in xs { sqlx::query(\"INSERT INTO workspaces (id) VALUES ($1)\"); self.cp_prov.stop(); } }\n// gatelint: allow(x) -- y\n";
        let at_3 = facts_of(src, 3);
        let bytes = Cache::encode(&at_3, &None).expect("cacheable");
        let cache = Cache { dir: PathBuf::new(), old: std::sync::OnceLock::new(), salt: [0; 32] };
        cache.old.get_or_init(|| HashMap::from([([1; 32], bytes)]));
        let (loaded, problem) = cache.get(&[1; 32], 7).expect("decodes");
        assert_eq!(problem, None);
        let expected = facts_of(src, 7);
        for rule in ["direct-provisioner-call", "non-idempotent-insert", "wildcard-listen-default"] {
            assert!(loaded.rules[gatelint_slot(rule)].is_some(), "{rule}'s facts are stored");
        }
        assert_eq!(Cache::encode(&loaded, &None), Cache::encode(&expected, &None));
        assert_eq!(loaded.consts[0].name_loc.file, 7, "locations take the new file id");
        let inserts = loaded.rules[gatelint_slot("non-idempotent-insert")].as_ref().unwrap();
        let inserts = inserts.downcast_ref::<crate::rules::non_idempotent_insert::InsertFacts>().unwrap();
        assert!(inserts.fns[0].events.iter().all(|e| e.loc.file == 7), "in every rule's facts too");
    }
}
