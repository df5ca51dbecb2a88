//! # direct-provisioner-call
//!
//! ## What it does
//! Flags code outside the dispatcher (`workspace_dispatchers`) and the backend
//! implementations that touches a provisioner backend directly:
//! - a method call on a backend value — a handler field named in `fields`
//!   (`provisioner`, `cp_prov`) whatever the receiver (`self.`, `h.`, `&self.…`) and
//!   through `.as_ref()`, `.as_deref()`, `.unwrap()`, `.expect(..)`, `.clone()`, `?`,
//!   `Arc::clone(&…)`; a binding derived from one (`let`, `if let Some(p) = …`,
//!   `match` arms, `let … else`, closure and `async move` captures; a `match` whose
//!   arm returns what its pattern bound from a backend, `(Some(cp), _) => cp.clone()`
//!   on `match (&state.cp_prov, &state.provisioner)`); a backend built
//!   on the spot (`let d = DockerProvisioner::new(cfg)?; d.logs(id)`: any of
//!   `constructors`, also inside `Arc::new(…)`, or `DockerProvisioner::builder()…
//!   .build()`; the build is a finding of its own, see below); a destructured
//!   state, in a handler's or a closure's parameters or a `let`, nested or in a tuple
//!   (`State(AppState { provisioner, cp_prov, .. })`, `let AppState { provisioner, .. }
//!   = state`, `State(Ctx { inner: Inner { provisioner, .. }, .. })`); a parameter
//!   (of a function or a closure, also inside a tuple) or local whose type names a
//!   backend type (`DockerProvisioner`, `CpProvisioner`, `Provisioner`, also inside
//!   `Arc<dyn …>`, `&dyn …`, `Box<…>`, `Option<…>`); a closure's input that the
//!   function it is passed to calls it with a backend, as that function's bound says
//!   (`with_backend(&s.provisioner, |p| async move { p.is_running(id).await })` where
//!   `F: FnOnce(Arc<dyn Provisioner>) -> Fut`, `impl Fn(&DockerProvisioner)`; a
//!   function or method of the same file); what a method of the same file returns
//!   when its body's value is a backend (an accessor of an extension trait, `fn
//!   docker_backend(&self) -> Option<&Arc<dyn Provisioner>> { self.provisioner.as_ref()
//!   }`, then `state.docker_backend()`). A field named in `fields` is
//!   not a backend where the struct it is read from declares it with a type that
//!   holds none — text, a number, a flag, an id, or an enum or struct of the crate
//!   made of such that implements no backend trait and has no method named with a
//!   verb: `struct CreateReq { provisioner: Option<String> }`, then `match
//!   req.provisioner.as_deref() { Some("docker") => … }`. The struct is told by
//!   `self`, a binding's declared type (`req: CreateReq`, `Json(req):
//!   Json<CreateReq>`, `let req: CreateReq`), a struct literal, a turbofish
//!   (`serde_json::from_str::<CreateReq>(…)`) or a struct pattern, and the fields
//!   named on the way (`params.filter.provisioner`);
//! - a backend passed to a helper: a verb (`stop`, `remove`, …; see `verbs`) called on
//!   the helper's parameter that a caller passes a backend value to
//!   (`retry_stop(&self.provisioner, id)`), reported in the helper with the passing
//!   site as a secondary label; followed through helpers that hand the parameter on,
//!   up to four calls deep. The callee is resolved as Rust resolves the path from the
//!   caller's module, a method by its receiver's declared type (`self`, a typed
//!   parameter, their fields: `state.janitor.sweep(…)`); a call that cannot be
//!   resolved is followed only to the crate's one function of that name and arity.
//!   Passing a backend to a function of the dispatcher or backend modules is fine;
//! - an associated call such as `CpProvisioner::stop(&cp, id)`;
//! - a presence check of the backend fields, whether or not it binds the backend
//!   (`self.provisioner.is_none() && self.cp_prov.is_none()`, `if let Some(p) =
//!   &self.cp_prov`, `let Some(p) = … else`, `.ok_or(..)?` / `.context(..)?` (the same
//!   early return), a `match` on the field,
//!   `matches!(self.cp_prov, Some(_))`, a destructuring `let … else` or `if let` that
//!   matches a backend field: `let AppState { cp_prov: Some(cp), .. } = &state else
//!   { … }`), or of a copy of one bound to a name, where it is bound or in the task it
//!   moves into (`let p = state.provisioner.clone(); tokio::spawn(async move { if let
//!   Some(p) = p { … } })`, `std::thread::spawn(move || …)`; `.clone()`, `&`,
//!   `.as_ref()`, `.cloned()`, `.map(Arc::clone)`, a copy of a copy), and "both
//!   absent" asked of the pair at once (`matches!((&s.provisioner, &s.cp_prov), (None,
//!   None))`, reported even where its value is only data, as `has_provisioner()` says
//!   the same): choosing by a backend's presence is the dispatcher's job. (The body of
//!   `has_provisioner` itself, wherever it is defined, is where that is asked.) A check
//!   (or a hand-rolled choice) that binds a backend is a finding, and so is each
//!   call on what it bound (`if let Some(p) = &self.provisioner { p.stop(id) }`:
//!   the check, and the call with the check as a secondary label), as the team's
//!   earlier gate forbade both. The conditions of one `if … else if` that choose
//!   between the backends, and the `(None, None) =>` arm of a `match` on the pair,
//!   are one choice, reported at its `if` or `match`. A presence check is reported where its value decides
//!   something: a condition (`if`, `while`, `match`, a guard, `&&`/`||` before a
//!   call, `?`, a closure such as `filter(|_| cp.is_some())`), a value returned (a
//!   hand-rolled `has_provisioner()`), or an argument of a function. One whose value
//!   only flows into data chooses nothing and is not reported: the arguments of a
//!   log, format or JSON macro (`tracing::info!(docker = self.provisioner.is_some())`,
//!   `format!`, `println!`, `json!`), of a metric macro (`gauge!`, `counter!`,
//!   `histogram!`) or of a metric handle's methods (`.set`, `.inc`, `.add`,
//!   `.increment`, `.record`, `.observe`, …), a handle being such a macro's value, a
//!   static such as `BACKEND_GAUGE`, a local bound to a metric macro, or a path
//!   naming a metric (`state.metrics.backends.with_label_values(&[…])`), and a
//!   field of a struct literal (`HealthResponse { docker:
//!   state.provisioner.is_some() }`). A local bound to a presence check (`let
//!   has_docker = state.provisioner.is_some()`, also negated, combined with `&&`,
//!   `||` or a comparison, cast, converted by `u8::from` or `.to_string()`, or turned
//!   into literals: `if cp.is_some() { 1.0 } else { 0.0 }`) is data too when it is
//!   read only in those places (also as `{has_docker}` in a format string);
//!   read anywhere else, or never read, it is reported at the check. An `if` whose
//!   branches are text (`if cp.is_some() { "control-plane" } else { "docker" }`)
//!   names the backend in use from what is present — the dispatcher's choice made
//!   by hand, wrong when neither is set — and is reported wherever its value goes;
//! - a backend's command line run directly (`Command::new("docker")`, std or tokio;
//!   `backend-commands`, also named by a constant or static, of the file or of
//!   another module: `Command::new(DOCKER)`, `Command::new(consts::DOCKER)`): it
//!   bypasses the backend objects, whatever it runs: on SaaS there is no Docker
//!   daemon, so even a read (`docker ps`, `docker info`) from a handler silently
//!   fails. A team that allows reads lists the subcommands that change a workspace
//!   in `backend-subcommands` (default `["*"]`, every one; for example `stop`, `rm`,
//!   `run`, `kill`, `start`, `create`, `restart`, `pause`, `unpause`, `exec`, `up`,
//!   `down`; `docker container stop`, `docker -H tcp://… rm`): then a command line is
//!   reported when one of its literal arguments is such a subcommand, or when its
//!   subcommand is not written as a literal (`.args(&args)`, `.arg(verb)`), and
//!   `docker ps`, `docker logs {id}`, `docker version`, `docker --version` only read. The arguments are read from the call
//!   chain (`.arg(…)`, `.args([…])`, `.args(vec![…])`) or, for a command bound to a
//!   local, from the first call that adds arguments to it (`let mut c =
//!   Command::new("docker"); c.arg("stop")`). Reported only in code that has a
//!   dispatcher or a backend module: a tool with neither just runs docker;
//! - a backend built outside the places that wire the application — the dispatcher,
//!   the backend modules and `construct-paths` (`main.rs`, `src/bin/**`, `build.rs`):
//!   `DockerProvisioner::new(..)` (any of `constructors`), `CpProvisioner { .. }` (not
//!   a variant named like one, `CoreError::Provisioner { .. }`), a
//!   unit or tuple struct's value (`let p = CpProvisioner;`,
//!   `provisioner::CpProvisioner`, `CpProvisioner(client)`), `let d:
//!   DockerProvisioner = Default::default()`, `Default::default()` returned from a
//!   function whose return type is a backend type (or an `Arc`, `Rc` or `Box` of
//!   one), `<DockerProvisioner as Default>::default()`. A backend made on the spot is
//!   not the one the dispatcher would pick. A call on it is reported too, in
//!   `construct-paths` as well: they may build a backend, not call it;
//! - a hand-rolled choice between backends, even when the chosen one is only passed
//!   on, at the choice (in place of the presence check of its first condition; an
//!   `else if let Some(d) = &self.provisioner` further down is a check of its own): a
//!   `match` on a tuple of backends, `self.cp_prov.clone().or(…)` (`or`, `or_else`,
//!   `xor`, `unwrap_or`, `unwrap_or_else` with a backend as the fallback; also
//!   through `.map(|cp| cp as Arc<dyn Provisioner>)` and `… as Arc<dyn
//!   Provisioner>`, the upcasts that let two backend types meet; a chain written
//!   over several lines is reported from the backend field it starts at down to the
//!   choosing method), and an `if … else
//!   if … else` or a `match` whose branches check, give or call different backends
//!   (`if let Some(cp) = &self.cp_prov { … } else if let Some(d) =
//!   &self.provisioner { … }`, `if saas { state.cp_prov.clone() } else {
//!   state.provisioner.clone() }`, `None => state.provisioner.clone()`), whatever
//!   decides it: presence, a flag, a setting. A choice whose backend is then called
//!   (`let b = match (&cp, &docker) { … }; b.stop(id)`, `let b =
//!   cp.or(docker).ok_or(..)?; b.start(..)`, also through a check of the picked
//!   value, `if let Some(b) = b { b.restart(..) }`, or a call in one of its branches)
//!   is reported with that call, as a presence check is; one only passed on is a
//!   finding at the choice.
//!
//! The message names what to call instead: for a call, the dispatcher verb of its
//! method (stop → `stop_workspace_auto`, start/provision →
//! `provision_workspace_auto` (or `_sync`), restart → `restart_workspace_auto`; see
//! `verbs`); for a command line, the verb of its subcommand (`docker rm` →
//! `stop_workspace_auto`), or the dispatcher when no verb matches (`docker exec`);
//! for a presence check, `has_provisioner()`; for a choice, the dispatcher verb of
//! the operation, which picks the backend in one place.
//!
//! ## Why is this bad?
//! There are two backends: Docker (self-hosted) and the control plane, which runs
//! an EC2 instance per workspace (SaaS). On SaaS only the control-plane backend is
//! set, so a handler that calls the Docker provisioner directly — `if let Some(p) =
//! &self.provisioner { p.stop(id) }` — silently does nothing: the row is marked
//! paused or removed while the EC2 instance keeps running (leaks were found in team
//! collapse, workspace delete and pause). Other handlers dispatched Docker-first
//! where the contract is control-plane first. The dispatcher verbs pick the backend
//! in one place: control plane first, Docker second, no backend → mark failed.
//!
//! ## Example
//! ```rust
//! async fn pause(&self, id: Uuid) -> Result<()> {
//!     if let Some(p) = &self.provisioner {
//!         p.stop(id).await?;
//!     }
//!     self.mark_paused(id).await
//! }
//! ```
//!
//! ## Use instead
//! ```rust
//! async fn pause(&self, id: Uuid) -> Result<()> {
//!     self.stop_workspace_auto(id).await?;
//!     self.mark_paused(id).await
//! }
//! ```
//!
//! ## Configuration
//! Abridged; `gatelint explain` lists every default in full after this text.
//! ```toml
//! [rules.direct-provisioner-call]
//! dispatcher-paths = ["**/workspace_dispatchers.rs"]         # files allowed to call backends
//! backend-paths = ["**/provisioner.rs", "**/provisioner/**"]  # the backends themselves
//! construct-paths = ["**/main.rs", "**/src/bin/**"]          # may build backends too
//! fields = ["provisioner", "cp_prov"]
//! typed-fields = ["backend", "cloud"]   # backends where declared with a backend type
//! accessor-words = ["docker", "provisioner", "backend", "cp", "plane"]  # `state.docker()`
//! types = ["DockerProvisioner", "CpProvisioner", "Provisioner"]
//! constructors = ["new", "from_env"]       # build a backend; calls inside them are wiring
//! backend-commands = ["docker", "podman"]  # Command::new("docker") outside the backends
//! backend-subcommands = ["*"]  # every one; or only those that change a workspace: ["stop", "rm", …]
//! wrapper-methods = ["as_ref", "as_deref", "unwrap", "expect", "clone", …]
//! [rules.direct-provisioner-call.verbs]   # method word -> dispatcher verb
//! stop = "stop_workspace_auto"
//! start = "provision_workspace_auto"
//! restart = "restart_workspace_auto"
//! ```
//!
//! ## Known limitations
//! - syn sees syntax, not types: a backend is recognised by its field name (the
//!   configured ones, and in a file, the fields its structs declare with a backend
//!   type: `docker: Option<Arc<dyn Provisioner>>`; a struct declared in another file
//!   is known by the configured field names only, and by `typed-fields` — a field
//!   with one of its words in its name, singular or plural (`backends`,
//!   `default_backend`) — where the struct a field is read from is known and declares
//!   it with a backend type, or one an `Option`, a collection or a map's values hold
//!   (`backends: HashMap<Kind, Arc<dyn WorkspaceBackend>>`; an entry reached by
//!   `.get(&kind)`, `.values()` or iterating the map is one, and the map's own
//!   `keys()`, `len()` are no call; in a struct pattern too, `Services { backends, ..
//!   }`). A backend type is one of `types`, a type named as a kind of one
//!   (`CloudProvisioner`), or a trait of the crate that one of them implements (`impl WorkspaceBackend for
//!   DockerProvisioner`), for these checks made with the whole crate's types; a
//!   binding derived from such a field, or a declared type naming a backend type — by
//!   its configured name or a name the same file gives it (`use … as Docker`, `type
//!   Backend = Arc<dyn Provisioner>`). A parameter typed by a name another module
//!   gives a backend type (a type alias, a renamed re-export, resolved crate-wide as
//!   Rust resolves the path) is a backend when a method named with a dispatcher verb
//!   is called on it (`backend.stop(id)`). A getter method or a function of another
//!   file is a backend only when its name has a word of `accessor-words`
//!   (`state.docker()`, `state.control_plane()`, `pick_backend(&state)`) and the
//!   method of the receiver's known type, or the function the path resolves to,
//!   returns a backend type; one named otherwise (`self.workloads()`), a struct of another name, a `let` or field typed by such a
//!   name, or an inferred type from a function's return value (`let d =
//!   make_docker()`; a backend type's constructor excepted, and a free function of
//!   the same file whose body ends in a backend value, `fn backend_for(state) -> …
//!   { state.cp_prov.clone().or_else(..) }`) is not seen.
//! - A field named in `fields` is a backend unless the struct it is read from is known
//!   and declares it with a type that holds none: read from a value of inferred type
//!   (`let req = parse(body)?; req.provisioner.is_some()`), or declared with a type
//!   outside the crate other than text, numbers, flags and ids, it is still reported.
//!   A copy of a backend field stays one only as a whole (`let p =
//!   state.provisioner.clone()`); a value chosen from it (`let p = if saas {
//!   self.cp_prov.clone() } else { None }`) is a backend, but checking it is not
//!   reported as a presence check.
//! - A helper whose parameter is typed as a backend is reported at its own call, not
//!   at its callers. A backend passed to a helper is followed only where the callee
//!   is resolved or is the crate's one function of that name: a method called on a
//!   local of inferred type (`let a = auditor(); a.audit(backend)`) whose name
//!   several types share is not followed, nor is a backend stored in a struct or collection
//!   and called from there, passed to a closure held in a variable, or handed on
//!   through a file that neither names a backend nor calls a verb. Only verbs called
//!   on the helper's parameter are reported there.
//! - Calls and constructions inside functions named like a constructor (`new`,
//!   `from_env`) are not reported: constructors wire the backends. A function named
//!   like a dispatcher verb outside the dispatcher files is reported like any other.
//! - A presence check stored in a struct literal's field, a metric handle or a
//!   static's `.set(…)` is data, even when the code branches on the stored value
//!   later (`let opts = StopOptions { saas: state.cp_prov.is_some() }; if opts.saas
//!   { … }`). A local read in another local's value (`let b = a;`) counts as a
//!   decision. A choice is seen in one `if` chain or `match`: branches that reach
//!   the backends only through helpers, or a choice spread over separate
//!   statements, are reported as their presence checks and calls.
//! - A command line's program held by a local (`let program = "docker";
//!   Command::new(program)`), built by a function, or configured through a helper
//!   (`configure(&mut cmd)`) is not followed; a subcommand word used as another
//!   literal argument (`docker logs stop`, a container named `stop`) reads as the
//!   subcommand.

mod analysis;
mod declared;
mod diagnostics;
mod extract;

pub use extract::{
    Callee, FieldOwner, Origin, ParamCall, Pass, ProvisionerFacts, ProvisionerSite, ProvisionerSiteKind, Receiver,
    TypedCall, extract,
};

use crate::rules::diagnostic::{Diagnostic, Severity};
use crate::rules::{CheckCx, ConfigSource, FileInput, ParamsError, Rule};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const ID: &str = "direct-provisioner-call";

pub struct DirectProvisionerCall;

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProvisionerParams {
    pub dispatcher_paths: Vec<String>,
    pub backend_paths: Vec<String>,
    pub construct_paths: Vec<String>,
    pub fields: Vec<String>,
    pub typed_fields: Vec<String>,
    pub accessor_words: Vec<String>,
    pub types: Vec<String>,
    pub constructors: Vec<String>,
    pub backend_commands: Vec<String>,
    pub backend_subcommands: Vec<String>,
    pub wrapper_methods: Vec<String>,
    pub verbs: BTreeMap<String, String>,
    #[serde(skip)]
    exempt: Option<globset::GlobSet>,
    #[serde(skip)]
    constructing: Option<globset::GlobSet>,
}

fn glob_set<'g>(globs: impl IntoIterator<Item = &'g String>) -> Result<globset::GlobSet, String> {
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        let g = globset::GlobBuilder::new(glob)
            .literal_separator(false)
            .build()
            .map_err(|e| format!("invalid path glob `{glob}`: {e}"))?;
        builder.add(g);
    }
    builder.build().map_err(|e| e.to_string())
}

impl ProvisionerParams {
    /// Compiles the path globs; an invalid glob is a configuration error.
    pub fn compile(mut self) -> Result<Self, String> {
        self.exempt = Some(glob_set(self.dispatcher_paths.iter().chain(&self.backend_paths))?);
        self.constructing = Some(glob_set(&self.construct_paths)?);
        Ok(self)
    }

    /// The dispatcher and the backend implementations may call the backends.
    pub fn is_exempt_path(&self, display: &str) -> bool {
        self.exempt.as_ref().is_some_and(|set| set.is_match(display))
    }

    /// Besides the dispatcher and the backends, the entry points that wire the
    /// application (`main.rs`, `src/bin/**`) may build backends.
    pub fn may_construct(&self, display: &str) -> bool {
        self.constructing.as_ref().is_some_and(|set| set.is_match(display))
    }

    /// Whether a backend command's subcommand changes a workspace (`docker stop`),
    /// rather than reading (`docker ps`).
    /// (`"*"`, the default: every subcommand.)
    pub(super) fn changes_state(&self, subcommand: &str) -> bool {
        self.backend_subcommands.iter().any(|s| s == subcommand || (s == "*" && !subcommand.starts_with('-')))
    }

    /// Whether every command line of a backend program is reported, reads included.
    pub(super) fn every_subcommand(&self) -> bool {
        self.backend_subcommands.iter().any(|s| s == "*")
    }

    /// Whether a method's name has a word of `accessor-words` (`docker`, `control_plane`):
    /// called without arguments, it may hand out a backend.
    /// Whether a field's name is a `typed-fields` word, or has one as a word, singular
    /// or plural (`backend`, `backends`, `default_backend`): a backend where the
    /// struct it is read from declares it with a backend type.
    pub(super) fn names_typed_field(&self, field: &str) -> bool {
        field.split('_').any(|w| {
            let singular = w.strip_suffix('s').unwrap_or(w);
            self.typed_fields.iter().any(|t| t.eq_ignore_ascii_case(w) || t.eq_ignore_ascii_case(singular))
        })
    }

    pub(super) fn names_accessor(&self, method: &str) -> bool {
        method.split('_').any(|w| self.accessor_words.iter().any(|a| a.eq_ignore_ascii_case(w)))
    }

    /// The dispatcher verb for a backend method, by the words of its name.
    pub(super) fn verb_for(&self, method: &str) -> Option<&str> {
        let words: Vec<&str> = method.split('_').collect();
        self.verbs.iter().find(|(k, _)| words.iter().any(|w| w.eq_ignore_ascii_case(k))).map(|(_, v)| v.as_str())
    }
}

impl Rule for DirectProvisionerCall {
    const ID: &'static str = ID;
    /// The dispatcher's escape hatch is its file name: the mutant copy is renamed.
    const MUTANT_FILE_NAME: Option<&'static str> = Some("handlers_copied_from_the_dispatcher.rs");
    type Params = ProvisionerParams;
    type Facts = ProvisionerFacts;

    fn params(table: &toml::Table, _: Option<&ConfigSource>) -> Result<ProvisionerParams, ParamsError> {
        Ok(crate::rules::params_from_table::<ProvisionerParams>(table)?.compile()?)
    }

    fn extract(input: &FileInput, params: &ProvisionerParams) -> Option<ProvisionerFacts> {
        Some(extract(input.file, input.source, input.syntax, params))
    }

    fn remove_escape_hatch(line: &str) -> String {
        line.to_string()
    }

    fn check(cx: &CheckCx, params: &ProvisionerParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        Ok(diagnostics::diagnostics(cx, params, severity))
    }
}
