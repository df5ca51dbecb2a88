//! Crate-wide reasoning: the sites of every file plus those only the whole crate
//! reveals (listen-named constants and functions, serde default functions), and the
//! choice of one site per wildcard they reach. Following a site's value to the
//! wildcards it can be is [`evaluate`]'s.

mod evaluate;

use super::address::{Strength, may_hold_wildcard};
use super::config_text::{Format, listen_entries};
use super::extract::{ConfigKey, EnvVar, Included, Site};
use super::{ListenParams, SiteKind, WildcardListenDefault};
use crate::facts::value::Value;
use crate::input::source::Loc;
use crate::rules::CheckCx;
use crate::rules::diagnostic::Label;
use evaluate::Evaluator;
use std::collections::{BTreeMap, HashMap};

/// A site as the check sees it: borrowed from the facts where it can be.
pub(super) struct SiteRef<'a> {
    pub(super) kind: std::borrow::Cow<'a, SiteKind>,
    pub(super) at: Loc,
    value: std::borrow::Cow<'a, Value>,
    listen_named: bool,
}

/// The sites of every file, plus those that need the whole crate: listen-named
/// constants and functions, and functions named in `#[serde(default = "…")]`.
pub(super) fn crate_sites<'a>(ctx: &CheckCx<'a>, params: &ListenParams) -> Vec<SiteRef<'a>> {
    let mut sites = Vec::new();
    let mut serde_defaults = BTreeMap::new();
    let mut multicast_fns = std::collections::HashSet::new();
    let env_vars = program_env_vars(ctx);
    let mut env_files_read = std::collections::HashSet::new();
    let field_readers = field_readers(ctx);
    for listen in ctx.facts::<WildcardListenDefault>() {
        multicast_fns.extend(listen.multicast_fns.iter().copied());
        let read = |s: &&Site| s.into_field.as_deref().is_none_or(|f| field_read(ctx, &field_readers, s, f));
        sites.extend(listen.sites.iter().filter(read).map(|s| SiteRef {
            kind: std::borrow::Cow::Borrowed(&s.kind),
            at: s.at,
            value: std::borrow::Cow::Borrowed(&s.value),
            listen_named: s.listen_named,
        }));
        for inc in &listen.included {
            if inc.env_file {
                sites.extend(env_file_sites(ctx, params, inc, &env_vars, &mut env_files_read));
            } else {
                sites.extend(included_sites(ctx, params, inc, &env_vars));
            }
        }
        for d in &listen.serde_defaults {
            serde_defaults.entry(d.function.as_str()).or_insert_with(|| d.field.as_str());
        }
    }
    sites.extend(repo_config_sites(ctx, params));
    let files: &'a [crate::facts::FileFacts] = ctx.files;
    for facts in files {
        for c in &facts.consts {
            // (Most constants are numbers: rule those out before splitting names.)
            if may_hold_wildcard(&c.value, params) && params.is_listen_name(&c.name) {
                let kind = std::borrow::Cow::Owned(SiteKind::ListenConst { name: c.name.clone() });
                sites.push(SiteRef {
                    kind,
                    at: c.name_loc,
                    value: std::borrow::Cow::Borrowed(&c.value),
                    listen_named: true,
                });
            }
        }
        for f in &facts.fns {
            // Return values that cannot hold a wildcard were dropped at extraction.
            if matches!(f.returns(), Value::Opaque) || multicast_fns.contains(&f.name_loc) {
                continue;
            }
            let serde_field = serde_defaults.get(f.name.as_str()).copied();
            // (`fn normalize_addr(addr) { match addr.strip_prefix(':') { Some(port) =>
            // format!("0.0.0.0:{port}"), None => addr.to_owned() } }`: a function that
            // returns its input on another path converts the caller's value.)
            if serde_field.is_none() && returns_its_input(f.returns()) {
                continue;
            }
            // (`default_external_ip` of `external_ip`: an address told to others.)
            if serde_field.is_some_and(|x| params.is_remote_name(x)) || params.is_remote_name(&f.name) {
                continue;
            }
            let listen_named = params.is_listen_name(&f.name) || serde_field.is_some_and(|x| params.is_listen_name(x));
            let kind = match serde_field {
                Some(field) => SiteKind::SerdeDefaultFn { function: f.name.clone(), field: field.to_string() },
                None if params.is_listen_name(&f.name) => SiteKind::ListenFn { name: f.name.clone() },
                None if super::word_slices(&f.name).any(|w| w.eq_ignore_ascii_case("default")) => {
                    SiteKind::DefaultFn { name: f.name.clone() }
                }
                None => continue,
            };
            sites.push(SiteRef {
                kind: std::borrow::Cow::Owned(kind),
                at: f.name_loc,
                value: std::borrow::Cow::Borrowed(f.returns()),
                listen_named,
            });
        }
    }
    sites
}

/// Whether one of a function's returned branches is a parameter (a lowercase name
/// the lowering did not resolve: locals are substituted), as given or converted.
fn returns_its_input(value: &Value) -> bool {
    fn input(v: &Value) -> bool {
        match v {
            Value::Path { segments, .. } => {
                segments.len() == 1 && segments[0].starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            }
            Value::Method { receiver, method, args, .. } => {
                args.is_empty()
                    && matches!(method.as_str(), "to_owned" | "to_string" | "into" | "clone" | "as_str" | "as_ref")
                    && input(receiver)
            }
            _ => false,
        }
    }
    matches!(value, Value::Branches { arms } if arms.iter().any(input))
}

/// The wildcard listen keys of a configuration file compiled in with `include_str!`
/// or read at run time, read now (the file is not the naming file's facts), each a
/// site at its line in that file. A file that could not be read or parsed has none.
fn included_sites<'a>(ctx: &CheckCx<'a>, params: &ListenParams, inc: &Included, vars: &[&EnvVar]) -> Vec<SiteRef<'a>> {
    // A configuration named from test code is the tests' (the findings are in the
    // configuration file, which the test-code filter does not know to skip).
    let naming = ctx.files.get(inc.at.file);
    let in_test_items = naming.is_some_and(|f| f.test_items.iter().any(|&(s, e)| s <= inc.at.start && inc.at.end <= e));
    if in_test_items || ctx.defs.is_test_file(inc.at.file) {
        return Vec::new();
    }
    let Some(id) = ctx.included_file(inc.at.file, &inc.named()) else { return Vec::new() };
    let file = ctx.db.get(id);
    let Some(format) = Format::of_path(&file.display).or(inc.run_time.as_ref().and_then(|r| r.format)) else {
        return Vec::new();
    };
    // An environment file read at run time sets variables: only those the program
    // reads are its settings (`PDS_HOST` in a file of variables for other tools).
    let name = file.display.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
    let variables = inc.run_time.is_some() && (name.starts_with(".env") || name.ends_with(".env"));
    listen_entries(file.text(), format, params)
        .into_iter()
        .filter(|e| !variables || super::extract::env_vars::read_by(vars, &e.key).is_some())
        .map(|e| {
            let loc = Loc::new(id, e.range.start, e.range.end);
            let kind = match inc.run_time {
                Some(_) => SiteKind::RunTimeConfig { key: e.key, path: inc.path.clone() },
                None => SiteKind::EmbeddedConfig { key: e.key, holder: format!("{} of `{}`", inc.holder, inc.path) },
            };
            SiteRef {
                kind: std::borrow::Cow::Owned(kind),
                at: inc.at,
                value: std::borrow::Cow::Owned(Value::Str { text: e.value, loc }),
                listen_named: true,
            }
        })
        .collect()
}

/// The wildcard listen settings of the configuration files of the checked trees
/// that no code names (a packaged `/etc` configuration, the files a compose stack
/// or a chart mounts, the examples operators copy), for the settings the program
/// reads: a key that is a field of one of its `Deserialize` structs, inside a table
/// that is one too (the top table of a YAML file may wrap the program's, as a
/// chart's `values.yaml` does), or a long flag it takes. Each is a site at its line
/// in that file, declared at the field.
fn repo_config_sites<'a>(ctx: &CheckCx<'a>, params: &ListenParams) -> Vec<SiteRef<'a>> {
    use super::extract::config_keys::key_word;
    if ctx.repo_configs.is_empty() {
        return Vec::new();
    }
    let mut keys: BTreeMap<String, &'a ConfigKey> = BTreeMap::new();
    let mut flags: BTreeMap<String, &'a ConfigKey> = BTreeMap::new();
    for listen in ctx.facts::<WildcardListenDefault>() {
        for k in listen.config_keys.iter().filter(|k| !ctx.in_test_code(&k.at)) {
            let by = if k.flag { &mut flags } else { &mut keys };
            by.entry(key_word(&k.name)).or_insert(k);
        }
    }
    // The folders of the configuration files the program names: an overlay beside
    // one (`config/container.toml` next to `config/default.toml`) is read only when
    // an operator selects it (`config/{run_mode}`).
    // (By folder and extension: `compose.yml` beside a named `tools.env` is no
    // overlay of it.)
    let folder_and_extension = |display: &'a str| {
        let (dir, name) = display.rsplit_once('/').unwrap_or(("", display));
        (dir, name.rsplit_once('.').map_or("", |(_, ext)| ext))
    };
    let named_dirs: std::collections::HashSet<(&str, &str)> = ctx
        .facts::<WildcardListenDefault>()
        .flat_map(|l| l.included.iter().filter(|inc| !inc.env_file))
        .filter_map(|inc| ctx.included_file(inc.at.file, &inc.named()))
        .map(|id| folder_and_extension(ctx.db.get(id).display.as_str()))
        .collect();
    let env_vars = program_env_vars(ctx);
    let mut sites = Vec::new();
    for &id in ctx.repo_configs {
        let file = ctx.db.get(id);
        let name = file.display.rsplit('/').next().unwrap_or_default();
        let compose = name.starts_with("compose.") || name.starts_with("docker-compose");
        if !compose
            && named_dirs.contains(&folder_and_extension(file.display.as_str()))
            && super::extract::runtime::names_overlay(name)
        {
            continue;
        }
        let site = |kind: SiteKind, at: Loc, e: super::config_text::Entry| SiteRef {
            kind: std::borrow::Cow::Owned(kind),
            at,
            value: std::borrow::Cow::Owned(Value::Str { text: e.value, loc: Loc::new(id, e.range.start, e.range.end) }),
            listen_named: true,
        };
        let format = Format::of_path(&file.display);
        let dockerfile = crate::input::config_files::is_dockerfile(name);
        // The variables a Dockerfile or a compose file sets, for those the program reads.
        if (dockerfile || format == Some(Format::Yaml)) && !env_vars.is_empty() {
            for e in super::config_text::env_assignments(file.text(), dockerfile, params) {
                let Some(read) = super::extract::env_vars::read_by(&env_vars, &e.key) else { continue };
                let prefix = read.prefix.then(|| read.name.clone());
                let kind = SiteKind::EnvFile { key: e.key.clone(), path: file.display.clone(), prefix };
                sites.push(site(kind, read.at, e));
            }
        }
        let Some(format) = format else { continue };
        // Rocket's own configuration file, in a Rocket application: `address` under a
        // profile (`[default]`, `[release]`, …) is where it listens.
        let rocket = env_vars.iter().find(|v| v.prefix && v.name == super::extract::env_vars::ROCKET_PREFIX);
        if let Some(rocket) = rocket
            && name.eq_ignore_ascii_case("Rocket.toml")
        {
            for e in listen_entries(file.text(), format, params) {
                let profile = e.key.strip_suffix(".address");
                if profile.is_some_and(|p| matches!(p, "default" | "debug" | "release" | "global")) {
                    let field = "rocket::Config.address".to_string();
                    let kind = SiteKind::RepoConfig { key: e.key.clone(), path: file.display.clone(), field };
                    sites.push(site(kind, rocket.at, e));
                }
            }
            continue;
        }
        for e in listen_entries(file.text(), format, params) {
            let path: Vec<&str> = e.key.split('.').collect();
            let Some((last, tables)) = path.split_last() else { continue };
            let Some(field) = keys.get(&key_word(last)) else { continue };
            let read_table = match tables {
                [] => true,
                [only] => keys.contains_key(&key_word(only)) || format == Format::Yaml,
                [.., parent] => keys.contains_key(&key_word(parent)),
            };
            if read_table {
                let kind = SiteKind::RepoConfig { key: e.key.clone(), path: file.display.clone(), field: field.field.clone() };
                sites.push(site(kind, field.at, e));
            }
        }
        if format == Format::Yaml && !flags.is_empty() && !ctx.program_names.is_empty() {
            for e in super::config_text::flag_entries(file.text(), params) {
                let Some(flag) = flags.get(&key_word(&e.key)) else { continue };
                // (`uvicorn app:app --host 0.0.0.0` in the same compose file gives
                // another program its flag.)
                let words = super::config_text::command_words(file.text(), e.range.start);
                if !words.iter().any(|w| ctx.program_names.iter().any(|p| key_word(p) == key_word(w))) {
                    continue;
                }
                let kind = SiteKind::ConfigFlag { flag: e.key.clone(), path: file.display.clone(), field: flag.field.clone() };
                sites.push(site(kind, flag.at, e));
            }
        }
    }
    sites
}

/// The environment variables the crate's code outside tests reads.
fn program_env_vars<'a>(ctx: &CheckCx<'a>) -> Vec<&'a EnvVar> {
    ctx.facts::<WildcardListenDefault>().flat_map(|l| l.env_vars.iter()).filter(|v| !in_test_code(ctx, v.at)).collect()
}

/// The wildcard listen settings of an environment file the program may be started
/// with (`.env.example`, copied to `.env`), for the variables it reads: each a site
/// at the line in that file, declared where the program reads the variable. Each
/// file is read once (`done`).
fn env_file_sites<'a>(
    ctx: &CheckCx<'a>,
    params: &ListenParams,
    inc: &Included,
    vars: &[&EnvVar],
    done: &mut std::collections::HashSet<crate::input::source::FileId>,
) -> Vec<SiteRef<'a>> {
    let Some(id) = ctx.included_file(inc.at.file, &inc.named()) else { return Vec::new() };
    if vars.is_empty() || !done.insert(id) {
        return Vec::new();
    }
    let file = ctx.db.get(id);
    listen_entries(file.text(), Format::Env, params)
        .into_iter()
        .filter_map(|e| {
            let read = super::extract::env_vars::read_by(vars, &e.key)?;
            let prefix = read.prefix.then(|| read.name.clone());
            let loc = Loc::new(id, e.range.start, e.range.end);
            Some(SiteRef {
                kind: std::borrow::Cow::Owned(SiteKind::EnvFile { key: e.key, path: inc.path.clone(), prefix }),
                at: read.at,
                value: std::borrow::Cow::Owned(Value::Str { text: e.value, loc }),
                listen_named: true,
            })
        })
        .collect()
}

/// The files that read each field name outside log lines, by where they start.
fn field_readers<'a>(ctx: &CheckCx<'a>) -> HashMap<&'a str, Vec<Loc>> {
    let mut readers: HashMap<&str, Vec<Loc>> = HashMap::new();
    for listen in ctx.facts::<WildcardListenDefault>() {
        let Some(start) = listen.file_start else { continue };
        for name in &listen.field_reads {
            readers.entry(name.as_str()).or_default().push(start);
        }
    }
    readers
}

/// Whether field `field` of the struct literal a site is in may be read: the struct
/// is not the workspace's (a library reads its own configuration), or code that can
/// see the literal reads the field outside log lines. A default given to a field
/// nothing reads (`host` of a configuration only printed at start-up) is text for
/// people, never bound.
fn field_read(ctx: &CheckCx, readers: &HashMap<&str, Vec<Loc>>, site: &Site, field: &str) -> bool {
    let cx = ctx.defs.context(site.at);
    let ours = matches!(
        ctx.defs.type_key(cx.module, &site.into_struct, cx.self_ty.as_ref()),
        Some(crate::facts::defs::TypeKey::Def(_))
    );
    !ours || readers.get(field).is_some_and(|files| files.iter().any(|&f| f.file == site.at.file || ctx.defs.sees(f, site.at)))
}

/// Every wildcard the sites reach, each once, with the site that reports it: the
/// most specific site wins (`SiteKind` order), in the order of the wildcards' locations.
pub(super) fn wildcards<'s, 'a>(
    ctx: &CheckCx<'a>,
    params: &ListenParams,
    sites: &'s [SiteRef<'a>],
) -> Vec<(&'s SiteRef<'a>, Hit)> {
    let evaluator = Evaluator::new(ctx, params);
    let mut found: BTreeMap<Loc, (&SiteRef, Hit)> = BTreeMap::new();
    for site in sites {
        if names_remote_end(site, params) {
            continue;
        }
        let required = required_strength(site);
        let listener = binds_a_listener(site) && !in_test_code(ctx, site.at);
        for hit in evaluator.hits(&site.value) {
            if hit.strength < required && !hit.via_listen_named {
                continue;
            }
            if hit.ephemeral_port && !listener {
                continue;
            }
            // A URL (`http://0.0.0.0:8071`) is where to send something, as in
            // configuration text, unless a bind call takes it.
            if hit.loopback.contains("://") && !matches!(*site.kind, SiteKind::BindCall { .. }) {
                continue;
            }
            let better = found.get(&hit.loc).is_none_or(|(s, _)| (&site.kind, site.at) < (&s.kind, s.at));
            if better {
                found.insert(hit.loc, (site, hit));
            }
        }
    }
    found.into_values().collect()
}

/// Whether a default's own name says it is the other end: the variable of an env
/// fallback (`MEMORY_PLUGIN_UPSTREAM_URL`), a clap field, a configuration key.
fn names_remote_end(site: &SiteRef, params: &ListenParams) -> bool {
    match &*site.kind {
        SiteKind::EnvFallback { var: Some(var), .. } => params.is_remote_name(var),
        SiteKind::ClapDefault { field, .. } => params.is_remote_name(field),
        SiteKind::ConfigDefault { key, .. } => params.is_remote_name(key),
        _ => false,
    }
}

/// The weakest wildcard a site reports: ambiguous spellings only where names or a
/// bind call say "listen address".
fn required_strength(site: &SiteRef) -> Strength {
    if site.listen_named {
        return Strength::Weak;
    }
    match *site.kind {
        SiteKind::EmbeddedConfig { .. }
        | SiteKind::RunTimeConfig { .. }
        | SiteKind::EnvFile { .. }
        | SiteKind::RepoConfig { .. }
        | SiteKind::ConfigFlag { .. }
        | SiteKind::BindCall { .. }
        | SiteKind::ListenBinding { .. }
        | SiteKind::ListenField { .. }
        | SiteKind::ListenConst { .. }
        | SiteKind::ListenFn { .. }
        | SiteKind::ListenSetter { .. } => Strength::Weak,
        SiteKind::EnvFallback { .. }
        | SiteKind::ClapDefault { .. }
        | SiteKind::DefaultAttr { .. }
        | SiteKind::SerdeDefaultFn { .. }
        | SiteKind::ConfigDefault { .. } => Strength::Host,
        SiteKind::Fallback { .. } | SiteKind::DefaultImpl { .. } | SiteKind::DefaultFn { .. } => Strength::Socket,
    }
}

/// Whether `at` is in test code: a `#[cfg(test)]` item or a test file. (Tests
/// bind listeners on random ports to talk to them.)
fn in_test_code(ctx: &CheckCx, at: Loc) -> bool {
    let file = ctx.files.get(at.file);
    file.is_some_and(|f| f.test_items.iter().any(|&(s, e)| s <= at.start && at.end <= e))
        || ctx.defs.is_test_file(at.file)
}

/// Whether a site is a call that makes a listening socket or server, which listens
/// on every interface even on an ephemeral port: `TcpListener::bind`,
/// `axum::Server::try_bind`, libp2p's `swarm.listen_on` (a `UdpSocket::bind` or a
/// plain `.bind()` may be a client's). Not in test code, which binds listeners on
/// random ports to talk to them.
fn binds_a_listener(site: &SiteRef) -> bool {
    match &*site.kind {
        SiteKind::BindCall { callee } => {
            callee.contains("Listener") || callee.contains("Server") || callee == ".listen_on()" || callee == ".try_bind()"
        }
        _ => false,
    }
}

/// A wildcard reached from a site: where it is written and how it got there.
#[derive(Clone, Debug)]
pub(super) struct Hit {
    pub(super) loc: Loc,
    strength: Strength,
    pub(super) go_style: bool,
    /// The loopback spelling to suggest in place of the wildcard.
    pub(super) loopback: String,
    /// The constants, locals and functions the value travelled through.
    pub(super) via: Vec<Label>,
    /// One of them is named like a listen setting.
    via_listen_named: bool,
    /// The port is 0 (`(Ipv4Addr::UNSPECIFIED, 0)`): an ephemeral port, which is how
    /// client sockets bind; a wildcard only where a listener binds it.
    ephemeral_port: bool,
}
