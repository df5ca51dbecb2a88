//! What a rule is: the [`Rule`] trait a rule implements once, and the type-erased
//! [`AnyRule`] the engine, the configuration and the facts cache work with. Everything
//! a rule needs is declared on its type: parameters, per-file facts, extraction, the
//! crate-wide check, the comments it reads, and the fixture harness's mutation.

use crate::facts::defs::Resolved;
use crate::facts::{FileFacts, value::Value};
use crate::input::comments::Comment;
use crate::input::source::{FileId, Loc, SourceDb, SourceFile};
use crate::rules::diagnostic::{Diagnostic, Severity};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::sync::Arc;

/// One file as a rule's extractor sees it, while its syntax tree is alive.
pub struct FileInput<'a> {
    pub file: FileId,
    pub path: &'a std::path::Path,
    pub source: &'a SourceFile,
    pub syntax: &'a syn::File,
    pub comments: &'a [Comment],
}

/// Where a project's configuration came from: rules that report positions in it
/// (the insert allowlist) read it again with spans.
pub struct ConfigSource<'a> {
    pub text: &'a str,
    /// The file as shown to users.
    pub shown: &'a str,
}

/// A problem with a rule's parameters, at a byte offset of the configuration file when known.
#[derive(Debug)]
pub struct ParamsError {
    pub offset: Option<usize>,
    pub message: String,
}

impl From<String> for ParamsError {
    fn from(message: String) -> Self {
        ParamsError { offset: None, message }
    }
}

/// A rule, declared once. Registered with one line in [`crate::rules`]'s
/// `declare_rules!`; its documentation is its module's `//!` comment and its defaults
/// are `rules/<id>.toml`.
pub trait Rule: Send + Sync + 'static {
    /// The rule id, as written in `declare_rules!` and `rules/<id>.toml`.
    const ID: &'static str;
    /// Rules whose facts and parameters this rule reads ([`CheckCx::facts`],
    /// [`CheckCx::params`]): they are extracted while this rule is on, even when
    /// those rules are off.
    const USES: &'static [&'static str] = &[];
    /// Rules whose escape hatch is the file's name (the dispatcher): the fixture
    /// harness's mutant copy of a clean file gets this name instead of an edit.
    const MUTANT_FILE_NAME: Option<&'static str> = None;
    /// Keys of the rule's `[rules.<id>]` table that are not merged parameters: the rule
    /// reads them from the configuration file's text itself, with their positions
    /// (the allowlist's `functions`).
    const SOURCE_KEYS: &'static [&'static str] = &[];
    /// The rule reads the project's SQL migrations ([`CheckCx::migrations`]): they are
    /// found and read when it is on.
    const READS_MIGRATIONS: bool = false;
    /// The rule reads the configuration files of the checked trees
    /// ([`CheckCx::repo_configs`]): they are found and read when it is on.
    const READS_REPO_CONFIGS: bool = false;
    /// What becomes of the rule's findings in test code when `include-tests = true`.
    const IN_TEST_CODE: InTestCode = InTestCode::Warning;

    /// Parameters, read once per run from the defaults overlaid with the project's
    /// `[rules.<id>]` table.
    type Params: Serialize + Send + Sync + 'static;
    /// What the rule records about one file: kept (and cached) after the syntax tree
    /// is dropped.
    type Facts: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Typed parameters from the merged table (and the configuration file's text, for
    /// rules that report positions in it).
    fn params(table: &toml::Table, source: Option<&ConfigSource>) -> Result<Self::Params, ParamsError>;

    /// One file's facts; `None` when the rule records nothing for it.
    fn extract(_input: &FileInput, _params: &Self::Params) -> Option<Self::Facts> {
        None
    }

    /// The facts depend on files other than this one (`include_str!`-like reads):
    /// the file's facts must not be cached.
    fn reads_other_files(_facts: &Self::Facts) -> bool {
        false
    }

    /// Files the facts name that the check reads: compiled in
    /// (`include_str!("config.default.toml")`, relative to the directory of the file the
    /// facts are of) or read by the program at run time (`"config/default.toml"`,
    /// relative to the directory it runs in). The engine reads them when the rules run
    /// and adds them to the sources ([`CheckCx::included_file`]), so the facts stay
    /// those of the file itself.
    fn included_files(_facts: &Self::Facts) -> Vec<NamedFile> {
        Vec::new()
    }

    /// Texts a comment must contain for this rule to read it (a marker comment).
    fn comment_needles(_params: &Self::Params) -> Vec<String> {
        Vec::new()
    }

    /// Whether the return value of a function (its lowered tail expression) is worth
    /// keeping in the shared facts for this rule. Functions' bodies are lowered only
    /// when some active rule reads return values.
    const READS_FN_RETURNS: bool = false;
    fn keeps_fn_return(_params: &Self::Params, _value: &Value) -> bool {
        false
    }

    /// The crate-wide check: findings from every file's facts.
    fn check(cx: &CheckCx, params: &Self::Params, severity: Severity) -> Result<Vec<Diagnostic>, String>;

    /// The fixture harness's mutation: `line` with this rule's escape hatch removed
    /// (a preflight call renamed, a loopback address made a wildcard, …).
    fn remove_escape_hatch(line: &str) -> String;
}

/// What a rule's finding in test code becomes when test code is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InTestCode {
    /// Shown as a warning, without failing the check: test helpers bind and
    /// provision by design, and a reviewer may still want to see it.
    Warning,
    /// Shown as a warning in example programs (`examples/`), which people run and
    /// copy; not reported in tests and their harnesses, which run on the machine the
    /// tests run on (a test server bound to every interface to find a free port).
    InExamplesOnly,
}

/// A file named in code that a rule's check reads ([`Rule::included_files`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NamedFile {
    /// Compiled in: the path relative to the naming file's directory, as
    /// `include_str!` resolves it.
    Beside(String),
    /// Read by the program at run time, by a path relative to the directory it runs
    /// in, which is not known: the first of these paths that exists below the naming
    /// file's package root, else its workspace root, else the directory gatelint runs
    /// in (when that holds the package). A path that leaves that directory is not read.
    RunTime(Vec<String>),
}

/// Parameters of a rule, type-erased.
pub type ErasedParams = Arc<dyn Any + Send + Sync>;
/// One file's facts of a rule, type-erased.
pub type ErasedFacts = Box<dyn Any + Send + Sync>;

/// A registered rule as the engine uses it, whatever its types.
pub trait AnyRule: Send + Sync {
    fn id(&self) -> &'static str;
    fn uses(&self) -> &'static [&'static str];
    fn source_keys(&self) -> &'static [&'static str];
    fn reads_migrations(&self) -> bool;
    fn reads_repo_configs(&self) -> bool;
    fn in_test_code(&self) -> InTestCode;
    fn defaults_toml(&self) -> &'static str;
    fn module_source(&self) -> &'static str;
    fn params(&self, table: &toml::Table, source: Option<&ConfigSource>) -> Result<ErasedParams, ParamsError>;
    /// A stable text of the parameters, for the facts cache's key.
    fn params_fingerprint(&self, params: &ErasedParams) -> String;
    fn extract(&self, input: &FileInput, params: &ErasedParams) -> Option<ErasedFacts>;
    fn reads_other_files(&self, facts: &ErasedFacts) -> bool;
    fn included_files(&self, facts: &ErasedFacts) -> Vec<NamedFile>;
    /// Whether the rule records per-file facts at all (its `Facts` is not `()`).
    fn has_facts(&self) -> bool;
    fn encode_facts(&self, facts: &ErasedFacts) -> Option<Vec<u8>>;
    fn decode_facts(&self, bytes: &[u8]) -> Option<ErasedFacts>;
    fn comment_needles(&self, params: &ErasedParams) -> Vec<String>;
    fn reads_fn_returns(&self) -> bool;
    fn keeps_fn_return(&self, params: &ErasedParams, value: &Value) -> bool;
    fn check(&self, cx: &CheckCx, params: &ErasedParams, severity: Severity) -> Result<Vec<Diagnostic>, String>;
    fn remove_escape_hatch(&self, line: &str) -> String;
    fn mutant_file_name(&self) -> Option<&'static str>;
}

/// [`AnyRule`] for a [`Rule`], with the rule's embedded sources.
pub struct Registered<R> {
    pub defaults_toml: &'static str,
    pub module_source: &'static str,
    pub rule: std::marker::PhantomData<fn() -> R>,
}

fn typed<R: Rule>(params: &ErasedParams) -> &R::Params {
    params.downcast_ref().expect("parameters are those of the rule they were read for")
}

impl<R: Rule> AnyRule for Registered<R> {
    fn id(&self) -> &'static str {
        R::ID
    }
    fn uses(&self) -> &'static [&'static str] {
        R::USES
    }
    fn source_keys(&self) -> &'static [&'static str] {
        R::SOURCE_KEYS
    }
    fn reads_migrations(&self) -> bool {
        R::READS_MIGRATIONS
    }
    fn reads_repo_configs(&self) -> bool {
        R::READS_REPO_CONFIGS
    }
    fn in_test_code(&self) -> InTestCode {
        R::IN_TEST_CODE
    }
    fn defaults_toml(&self) -> &'static str {
        self.defaults_toml
    }
    fn module_source(&self) -> &'static str {
        self.module_source
    }
    fn params(&self, table: &toml::Table, source: Option<&ConfigSource>) -> Result<ErasedParams, ParamsError> {
        Ok(Arc::new(R::params(table, source)?))
    }
    fn params_fingerprint(&self, params: &ErasedParams) -> String {
        serde_json::to_string(typed::<R>(params)).unwrap_or_default()
    }
    fn extract(&self, input: &FileInput, params: &ErasedParams) -> Option<ErasedFacts> {
        R::extract(input, typed::<R>(params)).map(|f| Box::new(f) as ErasedFacts)
    }
    fn reads_other_files(&self, facts: &ErasedFacts) -> bool {
        facts.downcast_ref::<R::Facts>().is_some_and(R::reads_other_files)
    }
    fn included_files(&self, facts: &ErasedFacts) -> Vec<NamedFile> {
        facts.downcast_ref::<R::Facts>().map(R::included_files).unwrap_or_default()
    }
    fn has_facts(&self) -> bool {
        std::any::TypeId::of::<R::Facts>() != std::any::TypeId::of::<()>()
    }
    fn encode_facts(&self, facts: &ErasedFacts) -> Option<Vec<u8>> {
        postcard::to_stdvec(facts.downcast_ref::<R::Facts>()?).ok()
    }
    fn decode_facts(&self, bytes: &[u8]) -> Option<ErasedFacts> {
        postcard::from_bytes::<R::Facts>(bytes).ok().map(|f| Box::new(f) as ErasedFacts)
    }
    fn comment_needles(&self, params: &ErasedParams) -> Vec<String> {
        R::comment_needles(typed::<R>(params))
    }
    fn reads_fn_returns(&self) -> bool {
        R::READS_FN_RETURNS
    }
    fn keeps_fn_return(&self, params: &ErasedParams, value: &Value) -> bool {
        R::keeps_fn_return(typed::<R>(params), value)
    }
    fn check(&self, cx: &CheckCx, params: &ErasedParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        R::check(cx, typed::<R>(params), severity)
    }
    fn remove_escape_hatch(&self, line: &str) -> String {
        R::remove_escape_hatch(line)
    }
    fn mutant_file_name(&self) -> Option<&'static str> {
        R::MUTANT_FILE_NAME
    }
}

/// The rules a run uses, by registry slot: each with its parameters and its severity
/// (`None` when it runs only because another rule uses its facts).
#[derive(Clone, Default)]
pub struct ActiveRules {
    slots: Vec<Option<Active>>,
}

#[derive(Clone)]
pub struct Active {
    pub severity: Option<Severity>,
    pub params: ErasedParams,
}

impl std::fmt::Debug for ActiveRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|(_, rule, a)| (rule.id(), a.severity))).finish()
    }
}

impl ActiveRules {
    /// Reads every rule's parameters, and keeps those of the rules that are on
    /// (`severity` is `Some`) and of the rules they use. `settings(id)` gives a rule's severity and merged parameters.
    pub fn load(
        settings: impl Fn(&str) -> Option<(Option<Severity>, toml::Table)>,
        source: Option<&ConfigSource>,
    ) -> Result<ActiveRules, (&'static str, ParamsError)> {
        let registry = super::registry();
        let on: Vec<bool> = registry.iter().map(|r| settings(r.id()).is_some_and(|(s, _)| s.is_some())).collect();
        let used = |id: &str| registry.iter().zip(&on).any(|(r, on)| *on && r.uses().contains(&id));
        let mut slots = Vec::with_capacity(registry.len());
        for (rule, on) in registry.iter().zip(&on) {
            // Every rule's parameters are read, so a mistake in those of a rule that is
            // off is reported too; only the active rules keep them.
            let slot = match settings(rule.id()) {
                Some((severity, table)) => {
                    let params = rule.params(&table, source).map_err(|e| (rule.id(), e))?;
                    (*on || used(rule.id())).then(|| Active { severity: severity.filter(|_| *on), params })
                }
                None => None,
            };
            slots.push(slot);
        }
        Ok(ActiveRules { slots })
    }

    /// The active rules with their registry slots.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &'static dyn AnyRule, &Active)> {
        let registry = super::registry();
        self.slots.iter().enumerate().filter_map(move |(i, a)| Some((i, registry[i], a.as_ref()?)))
    }

    /// The slot count (every registered rule has one).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// A rule's parameters, when it is active.
    pub fn params<R: Rule>(&self) -> Option<&R::Params> {
        let slot = super::slot(R::ID)?;
        self.slots.get(slot)?.as_ref()?.params.downcast_ref()
    }

    /// Whether the rule is on (not only used by another).
    pub fn severity(&self, id: &str) -> Option<Severity> {
        self.slots.get(super::slot(id)?)?.as_ref()?.severity
    }

    /// A stable text of the parameters of the active rules that record per-file facts:
    /// what a file's facts depend on, for the facts cache's key (another rule's
    /// parameters, an allowlist entry say, leave every file's facts as they are).
    /// Whether a rule that is on reads the SQL migrations.
    pub fn reads_migrations(&self) -> bool {
        self.iter().any(|(_, rule, a)| a.severity.is_some() && rule.reads_migrations())
    }

    /// Whether a rule that is on reads the configuration files of the checked trees.
    pub fn reads_repo_configs(&self) -> bool {
        self.iter().any(|(_, rule, a)| a.severity.is_some() && rule.reads_repo_configs())
    }

    pub fn facts_fingerprint(&self) -> String {
        (self.iter().filter(|(_, rule, _)| rule.has_facts()))
            .map(|(_, rule, a)| format!("{}={}\n", rule.id(), rule.params_fingerprint(&a.params)))
            .collect()
    }

    /// A stable text of every active rule's parameters, for the key of a stored run.
    pub fn fingerprint(&self) -> String {
        self.iter().map(|(_, rule, a)| format!("{}={}\n", rule.id(), rule.params_fingerprint(&a.params))).collect()
    }

    /// The texts a comment must contain to matter to some active rule.
    pub fn comment_needles(&self) -> Vec<String> {
        self.iter().flat_map(|(_, rule, a)| rule.comment_needles(&a.params)).collect()
    }
}

/// What a rule's check sees: every file's facts, the crate-wide index, the sources
/// (for positions and texts) and the other active rules' parameters.
pub struct CheckCx<'a> {
    pub db: &'a SourceDb,
    /// Indexed by file id; a file that failed to parse has empty facts.
    pub files: &'a [FileFacts],
    pub index: crate::facts::index::CrateIndex<'a>,
    /// Crates, modules and what names mean in them.
    pub defs: crate::facts::defs::DefMap<'a>,
    /// The project's configuration file in `db`, when a rule points into it.
    pub config_file: Option<FileId>,
    /// The files rules' facts name ([`Rule::included_files`]) that could be read, by
    /// the naming file and the name.
    pub included: &'a std::collections::BTreeMap<(FileId, NamedFile), FileId>,
    /// The project's SQL migrations, when a rule that reads them is on.
    pub migrations: &'a crate::input::migrations::Migrations,
    /// Each migration set's schema, by the set's index in `migrations`.
    pub schemas: &'a [crate::facts::schema::Schema],
    /// The configuration files of the checked trees (`.toml`, `.yaml`, `.json`; not
    /// tooling files, test data or documentation), when a rule that reads them is on.
    pub repo_configs: &'a [FileId],
    /// The names the checked packages' programs may be started by: package names,
    /// `[[bin]]` names, `src/bin/` files (a command line in a configuration file
    /// that starts one of them gives that program its flags).
    pub program_names: &'a [String],
    pub active: &'a ActiveRules,
    /// The files' paths with symbolic links and `..` resolved, by file id.
    pub paths: &'a [std::path::PathBuf],
}

impl CheckCx<'_> {
    /// The file's path within its project (its display path outside any package).
    pub fn project_path(&self, file: FileId) -> std::path::PathBuf {
        self.paths
            .get(file)
            .and_then(|p| crate::input::discover::project_relative(p))
            .unwrap_or_else(|| std::path::PathBuf::from(&self.db.get(file).display))
    }

    /// Whether `loc` is in test code, read from the module tree (a file a `#[cfg(test)]
    /// mod x;` brings in), the file's test items and its path within its project
    /// (`tests/`, `benches/`, `examples/`, test-support code named as such).
    pub fn in_test_code(&self, loc: &Loc) -> bool {
        let file = loc.file;
        let in_test_items = (self.files.get(file))
            .is_some_and(|f| f.test_items.iter().any(|&(start, end)| start <= loc.start && loc.end <= end));
        // (The path within the project is looked up last: it reads the manifests above.)
        in_test_items || self.defs.is_test_file(file) || {
            let path = self.project_path(file);
            crate::input::discover::in_test_tree(&path) || crate::input::discover::is_test_support(&path)
        }
    }

    /// The schema the SQL of file `file` runs against, with its set's index.
    pub fn schema_for(&self, file: FileId) -> Option<(usize, &crate::facts::schema::Schema)> {
        let set = self.migrations.set_of.get(file).copied().flatten()?;
        Some((set, self.schemas.get(set)?))
    }
}

impl<'a> CheckCx<'a> {
    /// The constants and statics a path written at `loc` names (`DEFAULT_ADDR`,
    /// `config::DEFAULT_ADDR`, `crate::settings::BIND`), resolved from the module it
    /// is written in; when the path cannot be followed (a glob import of a module
    /// outside the checked files, a macro-made constant), every visible one of that
    /// name.
    pub fn consts_at(&self, loc: crate::input::source::Loc, path: &[String]) -> Vec<&'a crate::facts::ConstFact> {
        let Some(name) = path.last() else { return Vec::new() };
        self.items_at(loc, path, self.index.consts_named(name), |f| &f.consts, |c| c.name_loc)
    }

    /// The functions a call path written at `loc` names (see [`CheckCx::consts_at`]).
    pub fn fns_at(&self, loc: crate::input::source::Loc, path: &[String]) -> Vec<&'a crate::facts::FnFact> {
        let Some(name) = path.last() else { return Vec::new() };
        self.items_at(loc, path, self.index.fns_named(name), |f| &f.fns, |f| f.name_loc)
    }

    /// The items the path names from `loc`: those it resolves to, found by their
    /// locations (an alias, `use routes::admin as admin_routes` or `pub use
    /// config::BASE as ADMIN_BASE`, names an item of another name); when it cannot be
    /// resolved, the visible items `named` like the end of `path`.
    fn items_at<T>(
        &self,
        loc: crate::input::source::Loc,
        path: &[String],
        named: impl Iterator<Item = &'a T>,
        in_file: impl Fn(&'a FileFacts) -> &'a [T],
        name_loc: impl Fn(&T) -> crate::input::source::Loc,
    ) -> Vec<&'a T> {
        match self.defs.resolve(&self.defs.context(loc), path) {
            Resolved::Items(mut locs) => {
                // In crate order (file, then position), as the index gives them.
                locs.sort();
                locs.dedup();
                let files = self.files;
                locs.iter()
                    .filter_map(|l| files.get(l.file).and_then(|f| in_file(f).iter().find(|i| name_loc(i) == *l)))
                    .collect()
            }
            Resolved::External => Vec::new(),
            Resolved::Unknown => named.filter(|i| self.defs.sees(loc, name_loc(i))).collect(),
        }
    }

    /// The file `named` (as [`Rule::included_files`] gave it for file `from`) in `db`,
    /// when it could be read.
    pub fn included_file(&self, from: FileId, named: &NamedFile) -> Option<FileId> {
        self.included.get(&(from, named.clone())).copied()
    }

    /// Rule `R`'s facts of every file that has some, in file order.
    pub fn facts<R: Rule>(&self) -> impl Iterator<Item = &'a R::Facts> + use<'a, R> {
        let slot = super::slot(R::ID);
        self.files.iter().filter_map(move |f| f.rules.get(slot?)?.as_ref()?.downcast_ref())
    }

    /// Rule `R`'s parameters, when it is active (on, or used by the checking rule).
    pub fn params<R: Rule>(&self) -> Option<&'a R::Params> {
        self.active.params::<R>()
    }
}
