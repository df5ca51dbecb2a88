//! Per-file facts for `direct-provisioner-call` and the visitor that extracts them
//! ([`Extractor`]): every method call on a provisioner backend value, every
//! associated call on a backend type, every presence check of the backend fields
//! and every hand-rolled choice between backends, with where the backend value came
//! from; backends built on the spot and backend command lines. Origins and bindings
//! are tracked in [`origin`], backend types recognised in [`types`], command lines
//! read in [`commands`], presence used as data told apart in [`data`].

mod commands;
mod data;
mod origin;
mod types;

use super::ProvisionerParams;
use crate::input::source::{FileId, Loc, SourceFile};
use data::{PRESENCE_METHODS, is_data_macro};
use origin::PASS_THROUGH;
use serde::{Deserialize, Serialize};
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use types::{backend_generics, quote_type};

/// Where a backend value came from, for the secondary label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub loc: Loc,
    pub what: String,
    /// It is the field itself (`self.cp_prov`) or a copy of it bound to a name (`let p
    /// = state.provisioner.clone()`), not a backend taken out of it.
    pub is_field: bool,
    /// The backend as written where it came from: `self.cp_prov`, or a parameter's name.
    pub source: String,
    /// A parameter of the enclosing function not known to be a backend (its index,
    /// `self` not counted), or a binding derived from one: a backend only where a
    /// caller passes one ([`ProvisionerFacts::passes`]).
    pub param: Option<u16>,
    /// The backend field it comes from, and what the field is read from: where the
    /// field is declared with a type that holds no backend (`provisioner:
    /// Option<String>`), it is no backend.
    pub owner: Option<FieldOwner>,
}

/// A field named like a backend field, and the value it is read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOwner {
    /// The value, as far as its type can be told: `self`, a binding of a declared type.
    pub base: Receiver,
    pub field: String,
    /// `field` is a method called without arguments (`state.docker()`), named with an
    /// `accessor-words` word: a backend where the method of the value's type returns one.
    #[serde(default)]
    pub accessor: bool,
    /// A function of another file called by this path (`pick_backend(&state)`), named
    /// with an `accessor-words` word: a backend where the function returns one.
    #[serde(default)]
    pub function: Option<Vec<String>>,
}

impl FieldOwner {
    /// A field read from `base`, as written (`state.provisioner`).
    pub fn of_field(base: Receiver, field: String) -> FieldOwner {
        FieldOwner { base, field, accessor: false, function: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProvisionerSiteKind {
    /// `backend.method(…)`
    MethodCall { method: String },
    /// `CpProvisioner::stop(&cp, id)`
    AssociatedCall { ty: String, method: String },
    /// `self.provisioner.is_none()`, `if let Some(_) = self.cp_prov`, `match &self.cp_prov {…}`
    PresenceCheck,
    /// `Command::new("docker")`: a backend's command line run directly, with its
    /// subcommand where written (`stop`); one that only reads is not a site.
    Command { program: String, subcommand: Option<String> },
    /// A hand-rolled choice between backends (`cp.or(docker)`, `match (&cp, &docker)`,
    /// `if saas { cp } else { docker }`): `other` is the second backend.
    Choice { other: Origin },
    /// `DockerProvisioner::new(..)`, `CpProvisioner { .. }`: a backend built here.
    Construct { ty: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionerSite {
    pub kind: ProvisionerSiteKind,
    pub loc: Loc,
    pub origin: Option<Origin>,
    /// The enclosing function.
    pub function: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionerFacts {
    pub sites: Vec<ProvisionerSite>,
    /// Verb-named method calls (`b.stop(id)`) on a parameter whose type is named
    /// otherwise than the backend types in this file (`b: Backend`, imported): a site
    /// when the name resolves, crate-wide, to a backend type (a type alias or rename
    /// made in another module).
    pub typed_calls: Vec<TypedCall>,
    /// Backend values passed as arguments, and parameters handed on to other
    /// functions: where a backend flows into a helper.
    pub passes: Vec<Pass>,
    /// Verbs called on parameters: backend calls where a caller passes a backend.
    pub param_calls: Vec<ParamCall>,
    /// Backend command lines whose program is a constant of another module
    /// (`Command::new(consts::DOCKER)`): a site where the path resolves to one of
    /// [`ProvisionerFacts::program_consts`].
    pub command_paths: Vec<CommandPath>,
    /// Constants and statics of this file whose value is a backend program
    /// (`const DOCKER: &str = "docker"`), by the location of their name.
    pub program_consts: Vec<(Loc, String)>,
    /// Backends bound by a check of their presence or a choice between them (`if let
    /// Some(p) = &self.provisioner`, a `match` arm, `let … else`, `let cp =
    /// state.cp_prov.clone().ok_or(..)?`, `let b = match (&cp, &docker) { … }`): the
    /// binding's location, and where the check or choice is. A call on the binding
    /// is reported with the check it came from.
    pub check_binds: Vec<(Loc, Loc)>,
}

/// A backend command line run with a program named by a path this file does not define.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandPath {
    /// The site, its program still empty.
    pub site: ProvisionerSite,
    /// The path as written (`consts::DOCKER`).
    pub path: Vec<String>,
}

/// Types that hold no backend: a parameter of one is never followed as a backend.
const PLAIN_TYPES: &[&str] = &[
    "str", "String", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128",
    "isize", "f32", "f64", "Uuid", "Vec", "HashMap", "HashSet", "BTreeMap", "BTreeSet", "Value", "Json", "Query",
    "Form", "Path", "PathBuf", "HeaderMap", "Duration", "Instant", "SystemTime", "DateTime", "NaiveDateTime",
    "PgPool", "SqlitePool", "MySqlPool", "Pool", "PgConnection", "SqliteConnection", "MySqlConnection",
    "Transaction", "DatabaseConnection", "DatabaseTransaction",
];

/// The function a call names, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Callee {
    /// `helper(…)`, `ops::helper(…)`, `Self::helper(…)`.
    Path(Vec<String>),
    /// `receiver.helper(…)`.
    Method { name: String, receiver: Receiver },
}

/// A method call's receiver, as far as its type can be told from syntax.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Receiver {
    /// `self`, then the fields named (`self.ops` → `["ops"]`).
    SelfValue(Vec<String>),
    /// A parameter of a declared type (its path), then the fields named (`state.ops`).
    Typed(Vec<String>, Vec<String>),
    Unknown,
}

/// A backend value (or a parameter that may hold one) passed to a function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    pub callee: Callee,
    /// Which argument it is, of how many (a method call's receiver not counted).
    pub arg: u16,
    pub args: u16,
    /// The argument.
    pub loc: Loc,
    /// The backend passed; a parameter when `origin.param` says which.
    pub origin: Origin,
    /// The enclosing function, where its name is written.
    pub fn_loc: Loc,
}

/// A verb called on a parameter of a function (`p.stop(id)` in `fn retry(p: &P, …)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamCall {
    /// The function, where its name is written.
    pub fn_loc: Loc,
    pub function: String,
    /// The parameter's index (`self` not counted) and the name the call uses.
    pub param: u16,
    pub name: String,
    pub method: String,
    pub loc: Loc,
}

/// A candidate site whose receiver's type is decided crate-wide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedCall {
    pub site: ProvisionerSite,
    /// The parameter's type as written, wrappers removed (`Backend`, `infra::Docker`).
    pub ty: Vec<String>,
}

/// Methods that fall back from one value to another: on a backend with another
/// backend as the fallback, a choice between backends.
const CHOICES: &[&str] = &["or", "or_else", "xor", "unwrap_or", "unwrap_or_else"];

/// Whether `text` calls a method named with a dispatcher verb's word (`.stop`,
/// `.restart_…`): the only calls a parameter typed elsewhere is reported for.
fn calls_a_verb(text: &str, params: &ProvisionerParams) -> bool {
    let bytes = text.as_bytes();
    // One pass over the dots (this runs on every file that names no backend).
    bytes.iter().enumerate().filter(|(_, b)| **b == b'.').any(|(i, _)| {
        params.verbs.keys().any(|verb| {
            // `.stop(`, `.stop_all(`: the verb as the method name's first word.
            let end = i + 1 + verb.len();
            bytes.get(i + 1..end).is_some_and(|w| w.eq_ignore_ascii_case(verb.as_bytes()))
                && matches!(bytes.get(end), Some(b'(' | b'_'))
        })
    })
}

fn strip_refs(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Reference(r) => strip_refs(&r.expr),
        syn::Expr::Paren(p) => strip_refs(&p.expr),
        _ => expr,
    }
}

pub fn extract(file: FileId, source: &SourceFile, syntax: &syn::File, params: &ProvisionerParams) -> ProvisionerFacts {
    if params.is_exempt_path(&source.display) {
        return ProvisionerFacts::default();
    }
    // A backend value starts at a field or type name, or is a parameter whose type
    // another module names (then a verb is called on it): a file that mentions
    // neither has nothing to find (a cheap substring test before a full walk).
    let text = source.text();
    let names_backend = (params.fields.iter().chain(&params.typed_fields).chain(&params.types).chain(&params.accessor_words))
        .any(|name| text.contains(name.as_str()))
        || params.backend_commands.iter().any(|program| text.contains(&format!("\"{program}\"")))
        || text.contains(COMMAND_NEW);
    if !names_backend && !calls_a_verb(text, params) {
        return ProvisionerFacts::default();
    }
    let types = types::with_local_names(&syntax.items, &params.types);
    let named: Vec<String> = params.fields.iter().chain(&params.typed_fields).cloned().collect();
    let fields = types::with_typed_fields(&syntax.items, &named, &types);
    let consts = commands::program_consts(syntax, &params.backend_commands);
    let mut out = ProvisionerFacts::default();
    for (ident, program) in &consts {
        out.program_consts.push((source.span_loc(file, ident.span(), ident.span()), program.clone()));
    }
    let mut v = Extractor {
        file,
        source,
        params,
        types: &types,
        fields: &fields,
        may_construct: params.may_construct(&source.display),
        named_elsewhere: Vec::new(),
        as_data: false,
        scope: Vec::new(),
        declared: Vec::new(),
        generic_backends: Vec::new(),
        function: None,
        fn_loc: None,
        program_consts: consts.into_iter().map(|(ident, program)| (ident.to_string(), program)).collect(),
        command_chains: Vec::new(),
        pending_commands: Vec::new(),
        command_local: None,
        flags: Vec::new(),
        deferring: None,
        metric_locals: Vec::new(),
        backend_fns: Vec::new(),
        backend_methods: Vec::new(),
        closure_inputs: Vec::new(),
        typed_closures: Vec::new(),
        out,
    };
    v.backend_fns = v.fns_returning_backends(&syntax.items);
    v.backend_methods = v.methods_returning_backends(&syntax.items);
    v.closure_inputs = v.closure_backend_inputs(&syntax.items);
    v.visit_file(syntax);
    v.out
}

/// A closure argument, through `&`, parentheses and `Box::new(..)`.
fn strip_closure(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Reference(r) => strip_closure(&r.expr),
        syn::Expr::Paren(p) => strip_closure(&p.expr),
        syn::Expr::Call(c) if c.args.len() == 1 => match &*c.func {
            syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "new") => strip_closure(&c.args[0]),
            _ => expr,
        },
        other => other,
    }
}

/// How a backend command line is started (`std::process::Command::new`, tokio's).
const COMMAND_NEW: &str = "Command::new";

struct Extractor<'a> {
    file: FileId,
    source: &'a SourceFile,
    params: &'a ProvisionerParams,
    /// The backend types' names in this file: the configured ones and what the
    /// file renames them to (`use … as Docker`, `type Backend = Arc<DockerProvisioner>`).
    types: &'a [String],
    /// The backend fields' names in this file: the configured ones and the fields its
    /// structs declare with a backend type.
    fields: &'a [String],
    /// Inside a macro whose arguments are data (see [`is_data_macro`]).
    as_data: bool,
    /// The current function's parameters typed by a name that is not a backend type
    /// here (see [`ProvisionerFacts::typed_calls`]): name, type path, origin.
    named_elsewhere: Vec<(String, Vec<String>, Origin)>,
    /// Bindings in scope, innermost last: `Some` holds a backend, `None` shadows an
    /// outer backend binding of the same name.
    scope: Vec<(String, Option<Origin>)>,
    /// The declared types of bindings in scope (by their index in `scope`): what a
    /// field read from one belongs to (`req: CreateReq`, `Json(req): Json<CreateReq>`).
    declared: Vec<(usize, Vec<String>)>,
    /// Generic parameters of the current function bounded by a backend type (`P: Provisioner`).
    generic_backends: Vec<String>,
    /// The enclosing function; `None` outside functions or inside exempt ones.
    function: Option<String>,
    /// Where the enclosing function's name is written.
    fn_loc: Option<Loc>,
    /// The file is one of `construct-paths`: it may build backends.
    may_construct: bool,
    /// Constants and statics of this file naming a backend program, with the program.
    program_consts: Vec<(String, String)>,
    /// The subcommand of each command line built in a call chain, by where its
    /// program is written (see [`commands`]).
    command_chains: Vec<(Loc, commands::Subcommand)>,
    /// Command lines bound to a local in scope, decided when it leaves the scope.
    pending_commands: Vec<commands::PendingCommand>,
    /// Where the program of the `let` being visited is written, when its value is a
    /// command line (`let mut c = Command::new("docker")`).
    command_local: Option<Loc>,
    /// Locals bound to a presence check in scope (see [`data::Flag`]).
    flags: Vec<data::Flag>,
    /// The presence checks of the `let` value being visited, collected for its flag.
    deferring: Option<data::Deferring>,
    /// Locals bound to a metric handle (`let g = metrics::gauge!("cp")`).
    metric_locals: Vec<String>,
    /// The file's functions whose value is a backend (`fn backend_for(state) ->
    /// Option<DynBackend> { state.cp_prov.clone().or_else(..) }`), with that backend:
    /// a call of one is a backend too.
    backend_fns: Vec<(String, Origin)>,
    /// The file's methods whose value is a backend (`fn docker_backend(&self) ->
    /// Option<&Arc<dyn Provisioner>> { self.provisioner.as_ref() }`, in an extension
    /// trait's impl too): a call of one, on any receiver, is a backend.
    backend_methods: Vec<(String, Origin)>,
    /// The file's functions that call a closure parameter with a backend
    /// ([`Extractor::closure_backend_inputs`]).
    closure_inputs: Vec<ClosureInputs>,
    /// The closures about to be visited whose inputs a callee types as backends: where
    /// each starts, and its backend inputs with the callee's name.
    typed_closures: Vec<(u32, ClosureInputs)>,
    out: ProvisionerFacts,
}

/// A function's parameter that it calls with a backend: `callee(.., f, ..)` at
/// `position` calls `f` with a backend as input `k` for each `(k, type)` of `backends`.
#[derive(Clone)]
pub(crate) struct ClosureInputs {
    callee: String,
    position: usize,
    backends: Vec<(usize, String)>,
}

/// `Option`/`Result` combinators: they pass the backend to a closure, they do not call it.
const COMBINATORS: &[&str] = &[
    "map",
    "and_then",
    "map_or",
    "map_or_else",
    "inspect",
    "filter",
    "ok_or",
    "ok_or_else",
    "unwrap_or",
    "unwrap_or_else",
    "unwrap_or_default",
    "is_some_and",
    "is_none_or",
    "iter",
    "into_iter",
    "as_slice",
    "then",
    "for_each",
    "or",
    "or_else",
    "zip",
    "xor",
    "copied",
];

/// Combinators whose name is also a backend verb (`docker inspect`): a combinator
/// only when given a closure.
const BACKEND_VERB_COMBINATORS: &[&str] = &["inspect"];

/// Methods of plain values (a `provisioner` column holding a name): not backend calls.
const VALUE_METHODS: &[&str] = &[
    "as_str",
    "is_empty",
    "len",
    "to_string",
    "eq",
    "ne",
    "parse",
    "contains",
    "starts_with",
    "ends_with",
    "to_lowercase",
    "to_uppercase",
    "as_bytes",
    "trim",
    "chars",
    "split",
    "fmt",
    "hash",
    "cmp",
    "partial_cmp",
    "eq_ignore_ascii_case",
    "to_ascii_lowercase",
    // A collection's or map's of backends (`state.backends.keys()`).
    "keys",
    "contains_key",
    "capacity",
    "values",
    "values_mut",
    "into_values",
    "iter",
    "iter_mut",
];

/// The type a value is written with: a struct literal (`CreateReq { .. }`), a
/// turbofish (`serde_json::from_str::<CreateReq>(…)?`, `.json::<CreateReq>().await?`).
fn written_type(expr: &syn::Expr) -> Option<Vec<String>> {
    let turbofish = |args: &syn::AngleBracketedGenericArguments| match args.args.iter().collect::<Vec<_>>()[..] {
        [syn::GenericArgument::Type(t)] => crate::facts::names::type_path(t),
        _ => None,
    };
    match strip(expr) {
        syn::Expr::Struct(s) => Some(crate::facts::lower::segments(&s.path)),
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => match &p.path.segments.last()?.arguments {
                syn::PathArguments::AngleBracketed(args) => turbofish(args),
                _ => None,
            },
            _ => None,
        },
        syn::Expr::MethodCall(m) => m.turbofish.as_ref().and_then(turbofish),
        _ => None,
    }
}

/// The backend an origin names, to tell two apart: the field (`cp_prov`), else the
/// binding or the type built (`DockerProvisioner::new()`: `DockerProvisioner`).
fn backend_key(o: &Origin) -> &str {
    match &o.owner {
        Some(owner) => &owner.field,
        None => o.source.split(['(', ':']).next().unwrap_or(&o.source),
    }
}

/// A backend of one branch and a different one of another branch, if any.
fn choice_between(branches: &[Vec<Origin>]) -> Option<(Origin, Origin)> {
    branches.iter().enumerate().find_map(|(i, here)| {
        here.iter().find_map(|o| {
            let other = branches.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, b)| b);
            other.into_iter().find(|p| backend_key(p) != backend_key(o)).map(|p| (o.clone(), p.clone()))
        })
    })
}

/// Strips parentheses, references, `?`, `.await` and `*` around an expression.
fn strip(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Reference(r) => strip(&r.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        syn::Expr::Try(t) => strip(&t.expr),
        syn::Expr::Await(a) => strip(&a.base),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => strip(&u.expr),
        _ => expr,
    }
}

impl Extractor<'_> {
    fn loc(&self, span: proc_macro2::Span) -> Loc {
        self.source.span_loc(self.file, span, span)
    }

    /// Leaves the bindings made since the scope had `saved` of them: the flags and
    /// command lines bound to them are decided.
    /// The backends bound since the scope had `from` entries were bound by the check
    /// or choice at `check` ([`ProvisionerFacts::check_binds`]).
    fn note_check_binds(&mut self, from: usize, check: Loc) {
        let bound = self.scope.get(from..).unwrap_or_default().iter().filter_map(|(_, o)| o.as_ref().map(|o| o.loc));
        let pairs: Vec<(Loc, Loc)> = bound.map(|b| (b, check)).collect();
        self.out.check_binds.extend(pairs);
    }

    /// The bindings made since the scope had `from` entries, from `expr`: when `expr`
    /// is a local bound by checks or choices, so are they (`let b = cp.or(docker);`
    /// then `if let Some(b) = b { … }`).
    fn inherit_check_binds(&mut self, from: usize, expr: &syn::Expr) {
        let syn::Expr::Path(p) = strip_refs(expr) else { return };
        let Some(ident) = p.path.get_ident() else { return };
        let Some(source) = self.scope[..from.min(self.scope.len())]
            .iter()
            .rev()
            .find(|(n, _)| ident == n)
            .and_then(|(_, o)| o.as_ref().map(|o| o.loc))
        else {
            return;
        };
        let checks: Vec<Loc> =
            self.out.check_binds.iter().filter(|(bound, _)| *bound == source).map(|&(_, check)| check).collect();
        for check in checks {
            self.note_check_binds(from, check);
        }
    }

    /// Where a `let`'s value checks or chooses a backend: the `match` or `if` it is,
    /// the `ok_or(..)?` that leaves without one, the `.or(..)` that picks one.
    fn checks_of_value(&self, expr: &syn::Expr, out: &mut Vec<Loc>) {
        match strip(expr) {
            syn::Expr::Match(m) => out.push(self.loc(m.match_token.span)),
            syn::Expr::If(i) => out.push(self.loc(i.if_token.span)),
            syn::Expr::Try(t) => self.checks_of_value(&t.expr, out),
            syn::Expr::Await(a) => self.checks_of_value(&a.base, out),
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                if matches!(method.as_str(), "ok_or" | "ok_or_else" | "context" | "with_context")
                    || CHOICES.contains(&method.as_str())
                {
                    out.push(self.loc(m.method.span()));
                }
                self.checks_of_value(&m.receiver, out);
            }
            _ => {}
        }
    }

    fn unscope(&mut self, saved: usize) {
        self.scope.truncate(saved);
        self.declared.retain(|(index, _)| *index < saved);
        let (closed, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.flags).into_iter().partition(|f| f.index >= saved);
        self.flags = kept;
        for flag in closed {
            self.close_flag(flag);
        }
        let (closed, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.pending_commands).into_iter().partition(|c| c.index.is_none_or(|i| i >= saved));
        self.pending_commands = kept;
        for command in closed {
            self.close_command(command);
        }
    }

    /// Records the type a pattern's binding is declared with: `req: CreateReq`, an
    /// extractor's field (`Json(req): Json<CreateReq>`), `&req: &CreateReq`.
    fn declare(&mut self, pat: &syn::Pat, ty: &syn::Type) {
        match (pat, ty) {
            (syn::Pat::Ident(i), _) if i.subpat.is_none() => {
                if let Some(path) = crate::facts::names::type_path(ty) {
                    self.declare_path(&i.ident, path);
                }
            }
            (syn::Pat::Type(t), _) => self.declare(&t.pat, &t.ty),
            (syn::Pat::Reference(r), syn::Type::Reference(t)) => self.declare(&r.pat, &t.elem),
            (syn::Pat::TupleStruct(ts), syn::Type::Path(tp)) if ts.elems.len() == 1 => {
                let (Some(wrapper), Some(written)) = (ts.path.segments.last(), tp.path.segments.last()) else { return };
                let syn::PathArguments::AngleBracketed(args) = &written.arguments else { return };
                let inner = args.args.iter().find_map(|a| match a {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                });
                if let Some(inner) = inner
                    && wrapper.ident == written.ident
                {
                    self.declare(&ts.elems[0], inner);
                }
            }
            _ => {}
        }
    }

    /// Records that the innermost binding `ident` is of type `path`.
    fn declare_path(&mut self, ident: &syn::Ident, path: Vec<String>) {
        if let Some(index) = self.scope.iter().rposition(|(n, _)| ident == n) {
            self.declared.push((index, path));
        }
    }

    /// What a field is read from, as far as its type can be told: `self`, or a binding
    /// of a declared type, then the fields named after it (`params.filter`).
    fn field_base(&self, expr: &syn::Expr) -> Receiver {
        let mut fields = Vec::new();
        let mut base = strip(expr);
        while let syn::Expr::Field(f) = base {
            let syn::Member::Named(name) = &f.member else { return Receiver::Unknown };
            fields.push(name.to_string());
            base = strip(&f.base);
        }
        fields.reverse();
        let syn::Expr::Path(p) = base else { return Receiver::Unknown };
        let Some(ident) = p.path.get_ident() else { return Receiver::Unknown };
        if ident == "self" {
            return Receiver::SelfValue(fields);
        }
        let Some(index) = self.scope.iter().rposition(|(n, _)| ident == n) else { return Receiver::Unknown };
        match self.declared.iter().rev().find(|(i, _)| *i == index) {
            Some((_, ty)) => Receiver::Typed(ty.clone(), fields),
            None => Receiver::Unknown,
        }
    }

    fn push(&mut self, kind: ProvisionerSiteKind, loc: Loc, origin: Option<Origin>) {
        if matches!(kind, ProvisionerSiteKind::Construct { .. }) && self.may_construct {
            return;
        }
        if let Some(function) = &self.function {
            self.out.sites.push(ProvisionerSite { kind, loc, origin, function: function.clone() });
        }
    }

    /// A verb called on a parameter whose type is named otherwise (decided crate-wide).
    fn typed_call(&mut self, m: &syn::ExprMethodCall, method: String) {
        let syn::Expr::Path(p) = strip_refs(&m.receiver) else { return };
        let Some(ident) = p.path.get_ident() else { return };
        let name = ident.to_string();
        if self.params.verb_for(&method).is_none() {
            return;
        }
        let Some((_, ty, origin)) = self.named_elsewhere.iter().rev().find(|(n, _, _)| *n == name) else { return };
        // A binding of the same name since the parameter shadows it.
        let innermost = self.scope.iter().rev().find(|(n, _)| *n == name).and_then(|(_, o)| o.as_ref());
        if innermost.is_none_or(|o| o.loc != origin.loc) {
            return;
        }
        let (ty, origin) = (ty.clone(), origin.clone());
        let loc = self.loc(m.method.span());
        if let Some(function) = &self.function {
            let kind = ProvisionerSiteKind::MethodCall { method };
            let site = ProvisionerSite { kind, loc, origin: Some(origin), function: function.clone() };
            self.out.typed_calls.push(TypedCall { site, ty });
        }
    }

    /// A verb called on a parameter (or a binding derived from one).
    fn param_call(&mut self, origin: &Origin, method: &str, loc: Loc) {
        let (Some(param), Some(function), Some(fn_loc)) = (origin.param, &self.function, self.fn_loc) else { return };
        if self.params.verb_for(method).is_some() {
            let (name, method, function) = (origin.source.clone(), method.to_string(), function.clone());
            self.out.param_calls.push(ParamCall { fn_loc, function, param, name, method, loc });
        }
    }

    /// A backend value or a parameter passed as argument `arg` of a call.
    fn pass(&mut self, callee: &Callee, (arg, args): (usize, usize), expr: &syn::Expr) {
        let (Some(_), Some(fn_loc)) = (&self.function, self.fn_loc) else { return };
        let Some(origin) = self.origin(expr) else { return };
        let span = syn::spanned::Spanned::span(expr);
        let loc = self.source.span_loc(self.file, span, span);
        let (arg, args) = (u16::try_from(arg).unwrap_or(u16::MAX), u16::try_from(args).unwrap_or(u16::MAX));
        self.out.passes.push(Pass { callee: callee.clone(), arg, args, loc, origin, fn_loc });
    }

    /// What a receiver's type can be told from: `self` or a typed parameter, and the
    /// fields named after it (`self.ops`, `state.janitor`).
    fn receiver(&self, expr: &syn::Expr) -> Receiver {
        let mut fields = Vec::new();
        let mut base = strip_refs(expr);
        while let syn::Expr::Field(f) = base {
            let syn::Member::Named(name) = &f.member else { return Receiver::Unknown };
            fields.push(name.to_string());
            base = strip_refs(&f.base);
        }
        fields.reverse();
        let syn::Expr::Path(p) = base else { return Receiver::Unknown };
        let Some(ident) = p.path.get_ident() else { return Receiver::Unknown };
        if ident == "self" {
            return Receiver::SelfValue(fields);
        }
        // The parameter itself, not a binding that shadows it.
        let name = ident.to_string();
        let innermost = self.scope.iter().rev().find(|(n, _)| *n == name).and_then(|(_, o)| o.as_ref());
        match self.named_elsewhere.iter().rev().find(|(n, _, _)| *n == name) {
            Some((_, ty, o)) if innermost.is_some_and(|i| i.loc == o.loc) => Receiver::Typed(ty.clone(), fields),
            _ => Receiver::Unknown,
        }
    }

    /// A backend field a destructuring pattern checks the presence of
    /// (`AppState { cp_prov: Some(cp), .. }`, nested or inside `State(…)`).
    fn checked_field(&self, pat: &syn::Pat) -> Option<Origin> {
        match pat {
            syn::Pat::Struct(s) => s.fields.iter().find_map(|field| match &field.member {
                syn::Member::Named(name)
                    if self.fields.contains(&name.to_string())
                        && match &*field.pat {
                            syn::Pat::TupleStruct(_) | syn::Pat::Path(_) => true,
                            // `None` parses as a binding.
                            syn::Pat::Ident(i) => i.ident == "None",
                            _ => false,
                        } =>
                {
                    let source = name.to_string();
                    let what = format!("`{source}` is a provisioner backend field");
                    let owner =
                        FieldOwner::of_field(Receiver::Typed(crate::facts::lower::segments(&s.path), Vec::new()), source.clone());
                    let loc = self.loc(name.span());
                    Some(Origin { loc, what, is_field: true, source, param: None, owner: Some(owner) })
                }
                _ => self.checked_field(&field.pat),
            }),
            syn::Pat::TupleStruct(t) => t.elems.iter().find_map(|p| self.checked_field(p)),
            syn::Pat::Tuple(t) => t.elems.iter().find_map(|p| self.checked_field(p)),
            syn::Pat::Reference(r) => self.checked_field(&r.pat),
            syn::Pat::Paren(p) => self.checked_field(&p.pat),
            _ => None,
        }
    }

    /// The backend fields a condition checks the presence of (`cp.is_some() && …`,
    /// `!matches!(docker, Some(_))`).
    fn checked_in(&self, cond: &syn::Expr, out: &mut Vec<Origin>) {
        match cond {
            syn::Expr::Paren(p) => self.checked_in(&p.expr, out),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => self.checked_in(&u.expr, out),
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) => {
                self.checked_in(&b.left, out);
                self.checked_in(&b.right, out);
            }
            syn::Expr::MethodCall(m) if PRESENCE_METHODS.contains(&m.method.to_string().as_str()) => {
                out.extend(self.origin(&m.receiver).filter(|o| o.is_field));
            }
            syn::Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "matches") => {
                let args = m.mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_separated_nonempty);
                out.extend(args.ok().and_then(|a| a.first().and_then(|e| self.origin(e))).filter(|o| o.is_field));
            }
            _ => {}
        }
    }

    /// The backends of the sites found since there were `from` of them: what a
    /// branch calls or checks.
    fn site_backends(&self, from: usize) -> Vec<Origin> {
        let sites = &self.out.sites[from.min(self.out.sites.len())..];
        let mut out = Vec::new();
        for site in sites {
            out.extend(site.origin.iter().filter(|o| o.param.is_none()).cloned());
            if let ProvisionerSiteKind::Choice { other } = &site.kind {
                out.push(other.clone());
            }
        }
        out
    }

    /// The backend fields among a tuple's elements (`(&h.provisioner, &h.cp_prov)`).
    fn tuple_of_backends(&self, expr: &syn::Expr) -> Vec<Origin> {
        match strip_refs(expr) {
            syn::Expr::Tuple(t) => t.elems.iter().filter_map(|e| self.backend_origin(e).filter(|o| o.is_field)).collect(),
            _ => Vec::new(),
        }
    }

    /// A backend value, not a parameter that may hold one.
    fn backend_origin(&self, expr: &syn::Expr) -> Option<Origin> {
        self.origin(expr).filter(|o| o.param.is_none())
    }

    /// A presence check of a backend field; in a `let`'s value, collected for its flag.
    fn presence(&mut self, loc: Loc, origin: Origin) {
        if !origin.is_field || self.as_data {
            return;
        }
        let Some(function) = &self.function else { return };
        let kind = ProvisionerSiteKind::PresenceCheck;
        let site = ProvisionerSite { kind, loc, origin: Some(origin), function: function.clone() };
        match &mut self.deferring {
            Some(d) if d.locs.contains(&loc) => d.sites.push(site),
            _ => self.out.sites.push(site),
        }
    }

    /// A hand-rolled choice between backends (not in data: a log line picks nothing).
    fn choice(&mut self, loc: Loc, origin: Origin, other: Origin) {
        if !self.as_data {
            self.push(ProvisionerSiteKind::Choice { other }, loc, Some(origin));
        }
    }

    /// Whether a function has parameters (a caller may pass it a backend) or its text
    /// (signature and body) names a backend field or type. Every other backend value
    /// in a function starts at such a name (a field, a typed binding, a generic
    /// bound), so the others are not walked.
    fn mentions_backend(&self, sig: &syn::Signature, block: &syn::Block) -> bool {
        // A parameter may receive a backend from a caller and hand it on.
        if sig.inputs.iter().any(|i| matches!(i, syn::FnArg::Typed(_))) {
            return true;
        }
        let start = self.loc(sig.fn_token.span).start as usize;
        let end = self.loc(block.brace_token.span.close()).end as usize;
        let Some(text) = self.source.text().get(start..end) else { return true };
        self.fields.iter().chain(self.types).any(|name| text.contains(name.as_str()))
            || calls_a_verb(text, self.params)
            || self.params.backend_commands.iter().any(|program| text.contains(&format!("\"{program}\"")))
            || text.contains(COMMAND_NEW)
    }

    fn enter_fn(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let name = sig.ident.to_string();
        // A constructor wires backends (`CpProvisioner::from_env()?.validate()?`).
        let exempt = self.params.constructors.contains(&name);
        let saved_fn = std::mem::replace(&mut self.function, if exempt { None } else { Some(name) });
        let fn_loc = self.loc(sig.ident.span());
        let saved_loc = self.fn_loc.replace(fn_loc);
        let saved_scope = std::mem::take(&mut self.scope);
        let saved_declared = std::mem::take(&mut self.declared);
        let saved_generics =
            std::mem::replace(&mut self.generic_backends, backend_generics(&sig.generics, self.types));
        let saved_named = std::mem::take(&mut self.named_elsewhere);
        let saved_flags = std::mem::take(&mut self.flags);
        let saved_commands = std::mem::take(&mut self.pending_commands);
        let saved_metrics = std::mem::take(&mut self.metric_locals);
        let typed = sig.inputs.iter().filter_map(|i| match i {
            syn::FnArg::Typed(t) => Some(t),
            syn::FnArg::Receiver(_) => None,
        });
        for (index, t) in typed.enumerate() {
            self.bind_param(&t.pat, &t.ty, Some(u16::try_from(index).unwrap_or(u16::MAX)));
        }
        self.returned_defaults(sig, block);
        self.visit_block(block);
        // The flags and command lines still in scope are decided at the function's end.
        self.unscope(0);
        self.flags = saved_flags;
        self.pending_commands = saved_commands;
        self.metric_locals = saved_metrics;
        self.named_elsewhere = saved_named;
        self.scope = saved_scope;
        self.declared = saved_declared;
        self.generic_backends = saved_generics;
        self.function = saved_fn;
        self.fn_loc = saved_loc;
    }

    /// Binds a parameter of a function (its `index` given) or a closure: one typed by
    /// a backend type is a backend; a destructured state (`State(AppState {
    /// provisioner, .. })`, nested structs, tuples) binds its backend fields; a
    /// function's other parameters hold a backend where a caller passes one.
    fn bind_param(&mut self, pat: &syn::Pat, ty: &syn::Type, index: Option<u16>) {
        self.bind_typed(pat, ty, index);
        self.declare(pat, ty);
    }

    /// The closures among a call's arguments that the callee (a function of this file
    /// of that name) calls with a backend: their inputs are bound to it when visited.
    fn note_typed_closures(&mut self, callee: &str, args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) {
        for given in self.closure_inputs.iter().filter(|c| c.callee == callee) {
            if let Some(syn::Expr::Closure(c)) = args.iter().nth(given.position).map(strip_closure) {
                let start = self.loc(c.or1_token.span).start;
                self.typed_closures.push((start, given.clone()));
            }
        }
    }

    fn bind_typed(&mut self, pat: &syn::Pat, ty: &syn::Type, index: Option<u16>) {
        // `(p, id): (Arc<DockerProvisioner>, Uuid)`
        if let (syn::Pat::Tuple(pats), syn::Type::Tuple(tys)) = (pat, ty) {
            for (p, t) in pats.elems.iter().zip(&tys.elems) {
                self.bind_param(p, t, None);
            }
            return;
        }
        let Some(ident) = crate::facts::lower::pat_ident(pat) else { return self.bind_pat(pat, None, &[], "") };
        let what = format!("`{ident}` is a `{}`", quote_type(ty));
        let source = ident.to_string();
        let o = Origin { loc: self.loc(ident.span()), what, is_field: false, source, param: None, owner: None };
        if self.type_is_backend(ty) {
            self.scope.push((ident.to_string(), Some(o)));
            return;
        }
        let Some(index) = index else { return self.scope.push((ident.to_string(), None)) };
        // A parameter of a type no backend has (text, numbers, ids, pools, extractors)
        // is not followed: most parameters are such, and each followed one is a fact.
        let path = crate::facts::names::type_path(ty);
        if path.as_ref().and_then(|p| p.last()).is_some_and(|l| PLAIN_TYPES.contains(&l.as_str())) {
            return self.scope.push((ident.to_string(), None));
        }
        if let Some(path) = path
            && path.last().is_some_and(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        {
            self.named_elsewhere.push((ident.to_string(), path, o.clone()));
        }
        let what = format!("`{ident}` is a parameter of `{}`", self.function.as_deref().unwrap_or_default());
        self.scope.push((ident.to_string(), Some(Origin { what, param: Some(index), ..o })));
    }
}

impl Extractor<'_> {
    /// The bindings a `let` makes (its value visited already).
    fn bind_local(&mut self, local: &syn::Local) {
        let typed = match &local.pat {
            syn::Pat::Type(t) if self.type_is_backend(&t.ty) => {
                // `let d: DockerProvisioner = Default::default();` builds one.
                if let Some(init) = &local.init
                    && let syn::Expr::Call(c) = strip(&init.expr)
                    && let syn::Expr::Path(p) = &*c.func
                    && p.path.segments.iter().map(|s| s.ident.to_string()).eq(["Default", "default"])
                {
                    let loc = self.loc(p.path.segments[0].ident.span());
                    self.push(ProvisionerSiteKind::Construct { ty: quote_type(&t.ty) }, loc, None);
                }
                crate::facts::lower::pat_ident(&t.pat).map(|i| {
                    let ty = quote_type(&t.ty);
                    let what = format!("`{i}` is a `{ty}`");
                    let loc = self.loc(i.span());
                    let source = i.to_string();
                    let o = Origin { loc, what, is_field: false, source, param: None, owner: None };
                    // `let p: Option<Arc<DockerProvisioner>> = state.provisioner.clone()`: the field.
                    match local.init.as_ref().and_then(|init| self.field_copy(&init.expr)) {
                        Some(field) => (i.clone(), Origin { is_field: true, owner: field.owner, ..o }),
                        None => (i.clone(), o),
                    }
                })
            }
            _ => None,
        };
        if let Some((ident, origin)) = typed {
            self.scope.push((ident.to_string(), Some(origin)));
            return;
        }
        match &local.init {
            Some(init) => {
                // `let Some(p) = &self.provisioner else { … }`: a presence check too.
                if init.diverge.is_some()
                    && let Some(origin) = self.backend_origin(&init.expr).or_else(|| self.checked_field(&local.pat))
                {
                    let loc = self.loc(local.let_token.span);
                    self.presence(loc, origin);
                }
                self.bind_match(&local.pat, &init.expr);
            }
            None => self.shadow(&local.pat),
        }
        // The binding's type, where the `let` writes it: `let req: CreateReq = …`,
        // `CreateReq { .. }`, `from_str::<CreateReq>(…)?`.
        match (&local.pat, &local.init) {
            (syn::Pat::Type(t), _) => self.declare(&t.pat, &t.ty),
            (syn::Pat::Ident(i), Some(init)) if i.subpat.is_none() => {
                if let Some(path) = written_type(&init.expr).or_else(|| self.copied_type(&init.expr, &i.ident)) {
                    self.declare_path(&i.ident, path);
                }
            }
            _ => {}
        }
    }

    /// The declared type of the binding a value copies (`let bg = state.clone()`,
    /// `Arc::clone(&state)`, `&state`), looked up among the bindings before `new`.
    fn copied_type(&self, expr: &syn::Expr, new: &syn::Ident) -> Option<Vec<String>> {
        let mut at = strip(expr);
        loop {
            at = match at {
                syn::Expr::Reference(r) => strip(&r.expr),
                syn::Expr::MethodCall(m) if m.args.is_empty() && matches!(m.method.to_string().as_str(), "clone" | "to_owned") => {
                    strip(&m.receiver)
                }
                syn::Expr::Call(c)
                    if c.args.len() == 1
                        && matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "clone")) =>
                {
                    strip(&c.args[0])
                }
                _ => break,
            };
        }
        let syn::Expr::Path(p) = at else { return None };
        let ident = p.path.get_ident()?;
        let newest = self.scope.iter().rposition(|(n, _)| new == n)?;
        let index = self.scope[..newest].iter().rposition(|(n, _)| ident == n)?;
        self.declared.iter().rev().find(|(i, _)| *i == index).map(|(_, ty)| ty.clone())
    }
}

impl<'ast> Visit<'ast> for Extractor<'_> {
    // Types and attributes hold nothing these facts come from: not walked.
    fn visit_type(&mut self, _: &'ast syn::Type) {}
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        if self.mentions_backend(&i.sig, &i.block) {
            self.enter_fn(&i.sig, &i.block);
        }
    }

    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        if self.mentions_backend(&i.sig, &i.block) {
            self.enter_fn(&i.sig, &i.block);
        }
    }

    fn visit_trait_item_fn(&mut self, i: &'ast syn::TraitItemFn) {
        if let Some(block) = &i.default
            && self.mentions_backend(&i.sig, block)
        {
            self.enter_fn(&i.sig, block);
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        let saved = self.scope.len();
        syn::visit::visit_block(self, b);
        self.unscope(saved);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        // `let has_docker = state.provisioner.is_some()`: its checks wait for its reads.
        let mut checks = Vec::new();
        if let Some(init) = &local.init
            && init.diverge.is_none()
            && origin::plain_ident(&local.pat).is_some()
        {
            self.value_checks(&init.expr, &mut checks);
        }
        let deferring = (!checks.is_empty()).then(|| data::Deferring { locs: checks, sites: Vec::new() });
        let saved_deferring = std::mem::replace(&mut self.deferring, deferring);
        // `let mut c = Command::new("docker")`: its arguments come in later statements.
        let command = match local.init.as_ref().map(|i| strip(&i.expr)) {
            Some(syn::Expr::Call(c)) => self.command_program(c).map(|(_, loc)| loc),
            _ => None,
        };
        let saved_command = std::mem::replace(&mut self.command_local, command);
        syn::visit::visit_local(self, local);
        self.command_local = saved_command;
        let deferred = std::mem::replace(&mut self.deferring, saved_deferring);
        let bound_from = self.scope.len();
        self.bind_local(local);
        let mut checks = Vec::new();
        match &local.init {
            Some(init) if init.diverge.is_some() => checks.push(self.loc(local.let_token.span)),
            Some(init) => self.checks_of_value(&init.expr, &mut checks),
            None => {}
        }
        for check in checks {
            self.note_check_binds(bound_from, check);
        }
        if let Some(init) = &local.init {
            self.inherit_check_binds(bound_from, &init.expr);
        }
        let ident = origin::plain_ident(&local.pat);
        if let Some(d) = deferred
            && !d.sites.is_empty()
        {
            match ident.and_then(|i| self.scope.iter().rposition(|(n, _)| i == n)) {
                Some(index) => self.flags.push(data::Flag { index, sites: d.sites, data_uses: 0 }),
                None => self.out.sites.extend(d.sites),
            }
        }
        if let Some(loc) = command {
            let index = ident.and_then(|i| self.scope.iter().rposition(|(n, _)| i == n));
            if let Some(pending) = self.pending_commands.iter_mut().find(|c| c.loc == loc) {
                pending.index = index;
            }
        }
        if let Some(init) = &local.init {
            self.note_metric_local(&local.pat, &init.expr);
        }
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(ident) = p.path.get_ident() {
            self.read_name(&ident.to_string());
        }
        // `CpProvisioner` (a unit struct), `provisioner::CpProvisioner`, `CpProvisioner(…)`.
        if let Some(built) = self.unit_backend(p)
            && !self.scope.iter().any(|(n, _)| *n == built.source)
        {
            self.push(ProvisionerSiteKind::Construct { ty: built.source }, built.loc, None);
        }
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        // A task's code is not data, in a log line's argument neither.
        let saved = std::mem::replace(&mut self.as_data, false);
        syn::visit::visit_expr_async(self, a);
        self.as_data = saved;
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        // A closure's code is not data, in a log line's argument neither.
        let saved_data = std::mem::replace(&mut self.as_data, false);
        let saved = self.scope.len();
        let start = self.loc(c.or1_token.span).start;
        let typed = self.typed_closures.iter().position(|(at, _)| *at == start).map(|k| self.typed_closures.remove(k).1);
        // `|State(AppState { provisioner, .. }): State<AppState>|`, `|p: &CpProvisioner|`.
        for (k, input) in c.inputs.iter().enumerate() {
            match input {
                syn::Pat::Type(t) => self.bind_param(&t.pat, &t.ty, None),
                // `with_backend(&s.provisioner, |p| p.stop(id))` where `with_backend`
                // calls its closure with an `Arc<dyn Provisioner>`.
                other => {
                    let given = typed.as_ref().and_then(|t| Some((&t.callee, &t.backends.iter().find(|(i, _)| *i == k)?.1)));
                    match (given, crate::facts::lower::pat_ident(other)) {
                        (Some((callee, ty)), Some(ident)) => {
                            let what = format!("`{ident}` is the `{ty}` `{callee}` calls this closure with");
                            let source = ident.to_string();
                            let loc = self.loc(ident.span());
                            let o = Origin { loc, what, is_field: false, source, param: None, owner: None };
                            self.scope.push((ident.to_string(), Some(o)));
                        }
                        _ => self.bind_pat(other, None, &[], ""),
                    }
                }
            }
        }
        self.visit_expr(&c.body);
        self.unscope(saved);
        self.as_data = saved_data;
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        let saved = self.scope.len();
        // `for b in backends` (a collection of backends), `for b in backends.iter()`,
        // `for b in map.values()`; a map's entries, `for (kind, b) in &backends`.
        let mut iterated = strip(&e.expr);
        while let syn::Expr::MethodCall(m) = iterated {
            let method = m.method.to_string();
            if !matches!(method.as_str(), "iter" | "into_iter" | "iter_mut" | "cloned" | "copied" | "values" | "values_mut" | "into_values") {
                break;
            }
            iterated = strip(&m.receiver);
        }
        match (self.origin(iterated), &*e.pat) {
            (Some(o), syn::Pat::Tuple(t)) if t.elems.len() == 2 => {
                self.shadow(&t.elems[0]);
                self.bind_pattern(&t.elems[1], &o);
            }
            (Some(o), pat) => self.bind_pattern(pat, &o),
            (None, pat) => self.shadow(pat),
        }
        self.visit_block(&e.body);
        self.unscope(saved);
    }

    /// An `if` and its `else if`s: the backends each branch checks (in its
    /// condition), gives or calls. Two branches on different backends make a
    /// hand-rolled choice, reported once at the first `if` in place of the
    /// conditions' presence checks.
    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        let start = self.out.sites.len();
        let mut conditions: Vec<std::ops::Range<usize>> = Vec::new();
        let mut branches: Vec<Vec<Origin>> = Vec::new();
        let mut link = e;
        loop {
            let from = self.out.sites.len();
            let saved = self.scope.len();
            let mut backends = Vec::new();
            match &*link.cond {
                syn::Expr::Let(cond) => {
                    self.visit_expr(&cond.expr);
                    // `if let Some(p) = &self.provisioner`: choosing by the backend's presence is a
                    // presence check, whether or not it binds the backend (a call on `p` is one more).
                    if let Some(origin) = self.backend_origin(&cond.expr).or_else(|| self.checked_field(&cond.pat)) {
                        let loc = self.loc(link.if_token.span);
                        backends.push(origin.clone());
                        self.presence(loc, origin);
                    }
                    let bound_from = self.scope.len();
                    self.bind_match(&cond.pat, &cond.expr);
                    self.note_check_binds(bound_from, self.loc(link.if_token.span));
                    self.inherit_check_binds(bound_from, &cond.expr);
                }
                cond => {
                    // Naming the backend by presence decides, even inside data.
                    let in_data = self.as_data && !data::names_by_presence(link);
                    let saved_data = std::mem::replace(&mut self.as_data, in_data);
                    self.visit_expr(cond);
                    self.as_data = saved_data;
                    self.checked_in(cond, &mut backends);
                }
            }
            conditions.push(from..self.out.sites.len());
            self.visit_block(&link.then_branch);
            // What the branch gives, with the condition's bindings (`Some(cp.clone())`).
            backends.extend(origin::block_tail(&link.then_branch).and_then(|t| self.backend_origin(t)));
            self.unscope(saved);
            backends.extend(self.site_backends(from));
            branches.push(backends);
            match link.else_branch.as_ref().map(|(_, e)| &**e) {
                Some(syn::Expr::If(next)) => link = next,
                Some(other) => {
                    let from = self.out.sites.len();
                    self.visit_expr(other);
                    let mut backends: Vec<Origin> = self.backend_origin(other).into_iter().collect();
                    backends.extend(self.site_backends(from));
                    branches.push(backends);
                    break;
                }
                None => break,
            }
        }
        if let Some((first, other)) = choice_between(&branches) {
            // The conditions' presence checks are the choice: one finding at its `if`.
            let tail = self.out.sites.split_off(start);
            for (i, site) in tail.into_iter().enumerate() {
                let in_condition = conditions.iter().any(|r| r.contains(&(start + i)));
                if !(in_condition && site.kind == ProvisionerSiteKind::PresenceCheck) {
                    self.out.sites.push(site);
                }
            }
            let loc = self.loc(e.if_token.span);
            self.choice(loc, first, other);
        }
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        let syn::Expr::Let(cond) = &*e.cond else { return syn::visit::visit_expr_while(self, e) };
        self.visit_expr(&cond.expr);
        let saved = self.scope.len();
        self.bind_match(&cond.pat, &cond.expr);
        self.visit_block(&e.body);
        self.unscope(saved);
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        self.visit_expr(&m.expr);
        // A `match` on a backend field is a presence check, whether or not an arm binds
        // it; on a tuple of backends (`match (&self.cp_prov, &self.provisioner)`), or
        // with arms on different backends (`None => state.provisioner.clone()`), a
        // hand-rolled choice of backend.
        let scrutinee: Vec<Origin> = match strip_refs(&m.expr) {
            syn::Expr::Tuple(t) => t.elems.iter().filter_map(|e| self.backend_origin(e)).collect(),
            _ => self.backend_origin(&m.expr).into_iter().collect(),
        };
        let mut branches: Vec<Vec<Origin>> = Vec::new();
        let mut both_absent = None;
        for arm in &m.arms {
            let from = self.out.sites.len();
            let saved = self.scope.len();
            // `(None, None) => …` on a tuple of backends: a bare "both absent" check.
            if scrutinee.len() >= 2
                && let syn::Pat::Tuple(t) = &arm.pat
                && t.elems.len() == scrutinee.len()
                && t.elems.iter().all(|p| matches!(p, syn::Pat::Ident(i) if i.ident == "None"))
            {
                let loc = self.loc(syn::spanned::Spanned::span(&arm.pat));
                self.presence(loc, scrutinee[0].clone());
                both_absent = Some(loc);
            }
            // Tuple scrutinees bind per element: `(Some(cp), _) => …`.
            self.bind_match(&arm.pat, &m.expr);
            self.note_check_binds(saved, self.loc(m.match_token.span));
            self.inherit_check_binds(saved, &m.expr);
            if let Some((_, guard)) = &arm.guard {
                self.visit_expr(guard);
            }
            self.visit_expr(&arm.body);
            let mut backends: Vec<Origin> = self.backend_origin(&arm.body).into_iter().collect();
            self.unscope(saved);
            backends.extend(self.site_backends(from));
            branches.push(backends);
        }
        // The elements of a tuple matched (`(&self.cp_prov, &self.provisioner)`), else
        // what the arms do, else the backend matched and an arm's.
        let elements: Vec<Vec<Origin>> = scrutinee.iter().map(|o| vec![o.clone()]).collect();
        let choice = choice_between(&elements).or_else(|| choice_between(&branches)).or_else(|| {
            branches.insert(0, scrutinee.clone());
            choice_between(&branches)
        });
        let loc = self.loc(m.match_token.span);
        // The "both absent" arm is part of the choice the other arms make.
        let drop_arm = |sites: &mut Vec<ProvisionerSite>| {
            sites.retain(|s| Some(s.loc) != both_absent || s.kind != ProvisionerSiteKind::PresenceCheck);
        };
        match (choice, scrutinee.first()) {
            (Some((first, other)), _) if !self.as_data => {
                drop_arm(&mut self.out.sites);
                self.choice(loc, first, other);
            }
            (Some(_), _) => {}
            (None, Some(o)) => self.presence(loc, o.clone()),
            (None, None) => {}
        }
    }

    fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
        // `state.provisioner.context("…")?`, `cp.ok_or(Error::NoBackend)?`: like `let
        // Some(p) = … else { return Err(..) }`, the code goes on only with a backend.
        if let syn::Expr::MethodCall(m) = strip(&t.expr)
            && matches!(m.method.to_string().as_str(), "ok_or" | "ok_or_else" | "context" | "with_context")
            && let Some(origin) = self.backend_origin(&m.receiver)
        {
            self.presence(self.loc(m.method.span()), origin);
        }
        syn::visit::visit_expr_try(self, t);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let method = m.method.to_string();
        let receiver_origin = self.origin(&m.receiver);
        // `docker.inspect(id)`: `Option::inspect` takes a closure; a backend's
        // `inspect` (docker's verb) takes an id.
        let combinator = |method: &str| {
            let given_closure = m.args.iter().any(|a| matches!(a, syn::Expr::Closure(_)));
            COMBINATORS.contains(&method) && (given_closure || !BACKEND_VERB_COMBINATORS.contains(&method))
        };
        self.command_chain(m);
        // `metrics::gauge!("cp").set(…)`, `BACKEND_GAUGE.set(…)`: the value is data.
        let records = data::METRIC_METHODS.contains(&method.as_str()) && self.is_metric_handle(&m.receiver);
        self.visit_expr(&m.receiver);
        let plumbing = self.params.wrapper_methods.contains(&method)
            || combinator(&method)
            || PASS_THROUGH.contains(&method.as_str())
            || VALUE_METHODS.contains(&method.as_str())
            || CHOICES.contains(&method.as_str());
        if !plumbing && receiver_origin.is_none() {
            // `self.retry_stop(&self.provisioner, id)`: the callee's parameter is a backend.
            let callee = Callee::Method { name: method.clone(), receiver: self.receiver(&m.receiver) };
            for (i, arg) in m.args.iter().enumerate() {
                self.pass(&callee, (i, m.args.len()), arg);
            }
        }
        let saved_data = self.as_data;
        self.as_data |= records;
        self.note_typed_closures(&method, &m.args);
        for arg in &m.args {
            // `self.provisioner.as_ref().map(|p| p.stop(id))`: the closure's parameter is the backend.
            match (arg, &receiver_origin) {
                (syn::Expr::Closure(c), Some(origin)) if combinator(&method) => {
                    let saved = self.scope.len();
                    if let Some(first) = c.inputs.first() {
                        self.bind_pattern(first, origin);
                    }
                    self.visit_expr(&c.body);
                    self.unscope(saved);
                }
                _ => self.visit_expr(arg),
            }
        }
        self.as_data = saved_data;
        // `self.cp_prov.as_ref().or(self.provisioner.as_ref())`: a hand-rolled choice
        // between backends, even when the choice is only passed on.
        if CHOICES.contains(&method.as_str())
            && let Some(origin) = &receiver_origin
            && let Some(other) = m.args.iter().find_map(|a| match strip_refs(a) {
                syn::Expr::Closure(c) => self.backend_origin(&c.body),
                other => self.backend_origin(other),
            })
        {
            // (A chain written over several lines is shown from the backend it starts
            // at, `state\n.cp_prov\n.clone()\n.or_else(..)`, to the choice.)
            let method = self.loc(m.method.span());
            let receiver = self.loc(syn::spanned::Spanned::span(&m.receiver));
            let earlier_line = |at: u32| self.source.line_col(at as usize).line < self.source.line_col(method.start as usize).line;
            let loc = if receiver.start <= origin.loc.start && earlier_line(origin.loc.start) {
                Loc { start: origin.loc.start, ..method }
            } else {
                method
            };
            self.choice(loc, origin.clone(), other);
        }
        if self.params.wrapper_methods.contains(&method)
            || combinator(&method)
            || PASS_THROUGH.contains(&method.as_str())
            || VALUE_METHODS.contains(&method.as_str())
        {
            return;
        }
        let Some(origin) = receiver_origin else { return self.typed_call(m, method) };
        let loc = self.loc(m.method.span());
        if origin.param.is_some() {
            self.param_call(&origin, &method, loc);
            return self.typed_call(m, method);
        }
        if PRESENCE_METHODS.contains(&method.as_str()) {
            self.presence(loc, origin);
        } else if !matches!(method.as_str(), "take" | "replace" | "insert" | "get_or_insert_with") {
            // Moving a backend in or out of its field (`take`, `replace`) is wiring, not a call.
            self.push(ProvisionerSiteKind::MethodCall { method }, loc, Some(origin));
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        let local = self.command_local.take();
        if let syn::Expr::Path(p) = &*c.func
            && let Some(last) = p.path.segments.last()
        {
            self.note_typed_closures(&last.ident.to_string(), &c.args);
        }
        syn::visit::visit_expr_call(self, c);
        let syn::Expr::Path(p) = &*c.func else { return };
        let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        // `Command::new("docker")` (std or tokio): the backend's own command line.
        if self.command(c, local) {
            return;
        }
        // `<DockerProvisioner as Default>::default()`
        if let Some(q) = &p.qself
            && self.type_is_backend(&q.ty)
            && segs.last().is_some_and(|m| self.params.constructors.contains(m))
        {
            let loc = self.loc(p.path.segments.last().expect("a qualified path has a segment").ident.span());
            return self.push(ProvisionerSiteKind::Construct { ty: quote_type(&q.ty) }, loc, None);
        }
        if let [.., ty, method] = segs.as_slice()
            && self.types.contains(ty)
        {
            let ty_ident = &p.path.segments[segs.len() - 2].ident;
            if self.params.constructors.contains(method) {
                let loc = self.loc(ty_ident.span());
                self.push(ProvisionerSiteKind::Construct { ty: ty.clone() }, loc, None);
            } else {
                let loc = self.loc(p.path.segments.last().expect("two segments").ident.span());
                let origin = c.args.first().and_then(|a| self.backend_origin(a));
                self.push(ProvisionerSiteKind::AssociatedCall { ty: ty.clone(), method: method.clone() }, loc, origin);
            }
            return;
        }
        // `retry_stop(&state.provisioner, id)`: the callee's parameter is a backend.
        // (A capitalised name is a tuple struct or variant: `Some(p)`, `State(s)`.)
        if segs.last().is_some_and(|l| l.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')) {
            let callee = Callee::Path(segs);
            for (i, arg) in c.args.iter().enumerate() {
                self.pass(&callee, (i, c.args.len()), arg);
            }
        }
    }

    fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
        // A field's value is data (`HealthResponse { docker: state.provisioner.is_some() }`).
        let saved = std::mem::replace(&mut self.as_data, true);
        for field in &s.fields {
            self.visit_expr(&field.expr);
        }
        self.as_data = saved;
        if let Some(rest) = &s.rest {
            self.visit_expr(rest);
        }
        // `CpProvisioner { client, .. }` builds a backend; `CoreError::Provisioner { .. }`
        // (after a type's name: an enum's variant) does not.
        let after_type = s.path.segments.len() >= 2
            && s.path.segments[s.path.segments.len() - 2].ident.to_string().starts_with(|c: char| c.is_ascii_uppercase());
        if let Some(last) = s.path.segments.last()
            && self.types.contains(&last.ident.to_string())
            && !after_type
        {
            let loc = self.loc(last.ident.span());
            self.push(ProvisionerSiteKind::Construct { ty: last.ident.to_string() }, loc, None);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // `matches!(self.cp_prov, Some(_))` is a presence check too.
        let is_matches = mac.path.segments.last().is_some_and(|s| s.ident == "matches");
        if is_matches
            && let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_separated_nonempty)
            && let Some(first) = args.first()
        {
            let loc = self.loc(mac.path.segments.last().expect("non-empty").ident.span());
            let pair = self.tuple_of_backends(first);
            if let Some(origin) = self.origin(first) {
                self.presence(loc, origin);
                return;
            }
            // Both backends asked at once (`matches!((&cp, &docker), (None, None))`):
            // `has_provisioner()` says the same, so it is reported even as data.
            if pair.len() >= 2
                && let Some(function) = &self.function
            {
                let kind = ProvisionerSiteKind::PresenceCheck;
                let site = ProvisionerSite { kind, loc, origin: pair.into_iter().next(), function: function.clone() };
                self.out.sites.push(site);
                return;
            }
        }
        // Other macros: their arguments, where they parse as expressions. In a log
        // line, a JSON value or a metric a presence check is data: it chooses nothing.
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        let saved = self.as_data;
        self.as_data |= is_data_macro(&name);
        if !self.flags.is_empty() {
            self.read_captures(mac.tokens.clone());
        }
        match mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) {
            Ok(args) => {
                for arg in &args {
                    self.visit_expr(arg);
                }
            }
            // Not expressions (`info!(cp = ?x, "…")`): the flags it names are read.
            Err(_) if !self.flags.is_empty() => self.read_names(mac.tokens.clone()),
            Err(_) => {}
        }
        self.as_data = saved;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ProvisionerParams {
        let defaults: toml::Table = include_str!("../../../rules/direct-provisioner-call.toml").parse().unwrap();
        let table = defaults["parameters"].as_table().unwrap();
        crate::rules::params_from_table::<ProvisionerParams>(table).unwrap().compile().unwrap()
    }

    /// The sites of `src`, as (line, kind) with the kind's name.
    fn sites(src: &str) -> Vec<(usize, String)> {
        let source = SourceFile::new("src/handlers.rs".into(), src.into());
        let syntax = syn::parse_file(src).unwrap();
        let facts = extract(0, &source, &syntax, &params());
        let mut out: Vec<(usize, String)> = facts
            .sites
            .iter()
            .map(|s| {
                let kind = match &s.kind {
                    ProvisionerSiteKind::MethodCall { method } => format!("call {method}"),
                    ProvisionerSiteKind::AssociatedCall { method, .. } => format!("call {method}"),
                    ProvisionerSiteKind::PresenceCheck => "presence".to_string(),
                    ProvisionerSiteKind::Command { program, subcommand } => {
                        format!("command {program} {}", subcommand.as_deref().unwrap_or("?"))
                    }
                    ProvisionerSiteKind::Construct { ty } => format!("construct {ty}"),
                    ProvisionerSiteKind::Choice { other } => format!("choice or {}", other.source),
                };
                (source.line_col(s.loc.start as usize).line, kind)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_flag_is_reported_where_it_decides_not_where_it_is_data() {
        let src = "fn f(s: &S) -> bool {\n\
                   let logged = s.provisioner.is_some();\n\
                   tracing::info!(logged, \"{logged}\");\n\
                   let decides = s.cp_prov.is_none();\n\
                   if decides { return false; }\n\
                   let unread = matches!(s.cp_prov, Some(_));\n\
                   let returned = !s.provisioner.is_none();\n\
                   returned\n\
                   }";
        assert_eq!(sites(src), [(4, "presence".into()), (6, "presence".into()), (7, "presence".into())]);
    }

    #[test]
    fn sinks_take_presence_as_data() {
        let src = "fn f(s: &S) -> Health {\n\
                   metrics::gauge!(\"cp\").set(s.cp_prov.is_some() as u8 as f64);\n\
                   GAUGE.set(if s.provisioner.is_some() { 1 } else { 0 });\n\
                   s.mode.set(s.cp_prov.is_some());\n\
                   Health { docker: s.provisioner.is_some() }\n\
                   }";
        assert_eq!(sites(src), [(4, "presence".into())]);
    }

    #[test]
    fn naming_the_backend_by_presence_decides_even_as_data() {
        let src = "fn f(s: &S) {\n\
                   tracing::info!(backend = if s.cp_prov.is_some() { \"cp\" } else { \"docker\" });\n\
                   let name = if s.provisioner.is_some() { \"docker\" } else { \"none\" };\n\
                   tracing::info!(name);\n\
                   let level = if s.provisioner.is_some() { 1 } else { 0 };\n\
                   tracing::info!(level);\n\
                   }";
        assert_eq!(sites(src), [(2, "presence".into()), (3, "presence".into())]);
    }

    #[test]
    fn branches_on_different_backends_are_one_choice() {
        let src = "fn f(s: &S, saas: bool) {\n\
                   let a = if saas { s.cp_prov.clone() } else { s.provisioner.clone() };\n\
                   if let Some(cp) = &s.cp_prov { keep(cp) } else if let Some(d) = &s.provisioner { keep(d) }\n\
                   if s.cp_prov.is_some() && s.provisioner.is_some() { warn() }\n\
                   }";
        assert_eq!(
            sites(src),
            [
                (2, "choice or s.provisioner".into()),
                // The `else if`'s own check is part of the choice.
                (3, "choice or s.provisioner".into()),
                // Two checks of one condition: one finding per line (see `diagnostics`).
                (4, "presence".into()),
                (4, "presence".into())
            ]
        );
    }

    #[test]
    fn command_lines_are_reported_by_their_subcommand() {
        let src = "const D: &str = \"docker\";\n\
                   fn f(id: &str) {\n\
                   Command::new(D).args([\"ps\", id]).status();\n\
                   Command::new(\"docker\").args([\"-H\", \"h\", \"kill\", id]).status();\n\
                   let mut c = Command::new(\"podman\");\n\
                   c.arg(\"version\");\n\
                   let mut r = Command::new(\"docker\");\n\
                   r.arg(\"rm\").arg(id);\n\
                   Command::new(\"docker\").args(args(id)).status();\n\
                   }";
        // By default every subcommand is reported, reads included.
        assert_eq!(
            sites(src),
            [
                (3, "command docker ps".into()),
                (4, "command docker h".into()),
                (5, "command podman version".into()),
                (7, "command docker rm".into()),
                (9, "command docker ?".into())
            ]
        );
        // With the subcommands that change a workspace listed, reads are not.
        let mut listed = params();
        listed.backend_subcommands = ["kill", "rm", "stop"].map(String::from).to_vec();
        let source = SourceFile::new("src/handlers.rs".into(), src.into());
        let facts = extract(0, &source, &syn::parse_file(src).unwrap(), &listed);
        let mut lines: Vec<usize> = facts.sites.iter().map(|s| source.line_col(s.loc.start as usize).line).collect();
        lines.sort();
        assert_eq!(lines, [4, 7, 9]);
    }

    #[test]
    fn unit_structs_and_returned_defaults_build_backends() {
        let src = "fn f() -> DockerProvisioner { let c = CpProvisioner; c.stop(1); Default::default() }\n\
                   fn g() -> Option<DockerProvisioner> { Default::default() }\n\
                   fn h() -> Kind { Kind::CpProvisioner }";
        assert_eq!(
            sites(src),
            [
                (1, "call stop".into()),
                (1, "construct CpProvisioner".into()),
                (1, "construct DockerProvisioner".into())
            ]
        );
    }
}
