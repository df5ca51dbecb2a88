//! # wildcard-listen-default
//!
//! ## What it does
//! Flags a default listen or bind address that is a wildcard — every network
//! interface — instead of loopback: `0.0.0.0`, Go-style `:9100`, `[::]` or `::`,
//! `Ipv4Addr::UNSPECIFIED`, `Ipv6Addr::UNSPECIFIED`, `Ipv4Addr::new(0, 0, 0, 0)`, and
//! `[0, 0, 0, 0]` or `(0, 0, 0, 0)` turned into a socket address, and libp2p
//! multiaddresses on one (`"/ip4/0.0.0.0/tcp/4001"`, `Multiaddr::empty()
//! .with(Protocol::from(Ipv4Addr::UNSPECIFIED)).with(Protocol::Tcp(port))`).
//!
//! It looks where defaults hide: constants and statics named like a listen setting
//! or used as one; the fallback of an environment variable (`unwrap_or`,
//! `unwrap_or_else`, `map_or`, a `match` or `if let` on `env::var`; also through
//! the project's own helper that reads the variable, as in `get_or_default("HOST",
//! "0.0.0.0")`, whose arguments after the key are the fallback); clap
//! `default_value`/`default_value_t` (attribute or builder); functions named in
//! `#[serde(default = "…")]`, and functions named as a default that return a socket
//! address with a wildcard host (`fn sidecar_default() -> SocketAddr`); `impl Default`
//! bodies and `#[default(…)]` attributes
//! (smart-default's `_code = "…"` strings read as code);
//! configuration-library defaults (config-rs `set_default`, figment
//! `Serialized::default`); setters named like a listen setting
//! (`.with_http_listener(…)`); a listen setting assigned a wildcard
//! (`store.http.listen = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port)`, as a
//! setup command writes the configuration the service runs with; a value made from
//! the setting's own value, as in `event.ip_address = event.ip_address.map(mask)`,
//! transforms it and is no default);
//! a listen-named local given another address after its `let` (`listen_addr =
//! Multiaddr::empty().with(Protocol::from(Ipv4Addr::UNSPECIFIED))…` when the
//! configured port is taken; what is bound later may be either);
//! an address added to a listen-named list (`if listen_addrs.is_empty() {
//! listen_addrs.push(IpAddr::V4(Ipv4Addr::UNSPECIFIED)) }`);
//! `Lazy`/`LazyLock`/`lazy_static!` statics;
//! `format!` building a wildcard address (a local named like a listen setting that
//! the rest of its block only shows in log lines, `info!("on {bind_addr}")`, is text
//! for people, not a setting); and a wildcard hard-coded into a bind call
//! (`TcpListener::bind`, `UdpSocket::bind`, `axum_server::bind`, `Server::bind`,
//! `HttpServer::bind`, warp's `run`, tonic's `serve` and `serve_with_shutdown`, …) or
//! into a server's or listener's constructor (`StatsServer::new(addr)`, the address
//! it will bind). Values are followed through
//! locals, constants (crate-wide, by name) and functions; a list of addresses
//! (`vec![v6_any, v4_any]` given to one bind) element by element, and the blocks of
//! `cfg_if!` as alternatives (loopback in debug builds, a wildcard in release is a
//! default). A function named for the wildcard (`in6addr_any_init()`,
//! `inaddr_any()`) is a spelling of it, as `Ipv6Addr::UNSPECIFIED` is: each setting
//! that calls it is reported at the call. derive-builder's
//! `#[builder(default = "…")]` holds Rust code in a string: it is read as the
//! expression it is.
//!
//! Default configurations written as text count too: a constant, a static or a
//! configuration reader's argument (figment's `Toml::string`, config-rs's
//! `File::from_str`, `toml::from_str`, …) holding TOML, YAML, JSON or `KEY=value`
//! lines (a shell script's too, such as cloud-init user data, where a
//! `${NAME:-default}` is read as its default) is read, and a wildcard under a key named like a listen setting, a wildcard
//! with a port under any key, or an unspecified host next to a `port` key is reported
//! at its line inside the string. So is a configuration file compiled into the
//! program with `include_str!` (`.toml`, `.yaml`/`.yml`, `.json`, `.env`, `.ini`; the
//! path relative to the including file, or `concat!(env!("CARGO_MANIFEST_DIR"), …)`):
//! its wildcard listen keys are reported at their line in that file, where a
//! `# gatelint: allow(wildcard-listen-default) -- reason` comment suppresses them. A
//! URL (`http://0.0.0.0:8071`) in a configuration is a target, not a listener.
//!
//! A fallback given to a field in a struct literal of one of the workspace's own
//! types (`Self { host: env::var("VIDEO_HOST").unwrap_or_else(|_| "0.0.0.0".into()),
//! .. }`) is a default only when code that can see the struct reads that field outside log
//! lines (`cfg.host` bound, or put in a `format!`; `let Config { host, .. } = cfg`):
//! a field only printed at start-up is text for people. A library's struct reads its
//! own fields, so its literal is a default as written.
//!
//! So is a configuration file in the repository that the program reads at run time,
//! named by a relative path in its code: a string literal naming a `.toml`,
//! `.yaml`/`.yml`, `.json`, `.ini` or `.env` file
//! (`const CURRENT_DIR: &str = "./config/default.toml"`,
//! `fs::read_to_string("config.toml")`, a clap `default_value`), the literal pieces
//! of a `.join(…)` chain (`current_dir()?.join("configuration").join("base.yaml")`),
//! or the name given to config-rs's `File::with_name("config/default")` (which
//! tries `.toml`, `.json`, `.yaml`, `.yml` and `.ini` itself) or figment's
//! `Toml::file`, `Yaml::file` or `Json::file`. Such a file is a default: the
//! program ships it as the configuration it runs with until an operator says
//! otherwise. The path is resolved from where the program is usually started: its
//! package root (the directory of the nearest `Cargo.toml` above the naming file),
//! else its workspace root, else the directory gatelint runs in when that holds the
//! package; only a file that exists is read. A path given to a call that writes
//! the file (`fs::write`, `File::create`, a schema generator's `generate`) names the
//! program's output, not what it reads. Its wildcard listen keys are reported
//! at their line in that file, with the literal that names it as a note, and
//! suppressed there as above.
//!
//! So is an environment file below the package or workspace root of a program that
//! reads environment variables (`.env`, and the templates developers copy to it:
//! `.env.example`, `.env.sample`, `.env.template`, `.env.dist`, `.env.defaults`):
//! a `KEY=value` line that sets a wildcard listen address, for a variable the
//! program reads — by name (`env::var("ADMIN_BIND")`, clap's `env = "…"`,
//! `Arg::env("…")`) or by a prefix it reads a struct from (`envy::prefixed("APP_")`,
//! figment's `Env::prefixed`, config-rs's `Environment::with_prefix("APP")`; in a
//! Rocket application, `rocket::build()` or `#[launch]`, Rocket's `ROCKET_`
//! variables), outside test code. It is reported at its line in that file, with
//! where the program reads the variable as a note. A variable no code reads (a
//! compose file's service) is not reported; nor is one in an environment file the
//! code names by path (`dotenvy::from_filename("tools.env")`). The variables a
//! Dockerfile (`ENV MESHD_LISTEN=0.0.0.0:7000`) or a compose file's `environment:`
//! sets are read the same way.
//!
//! So is every other configuration file of the checked folders that a deployment
//! starts the program with — the file a package installs in `/etc`, the files a
//! compose stack or a chart mounts, the example configurations operators copy
//! (`.toml`, `.yaml`/`.yml`, `.json`; not tooling files, test or benchmark data,
//! documentation, vendored code or hidden folders) — for the settings the program
//! reads, which no name alone can tell: a key that is a field of one of its
//! `Deserialize` structs (by the name serde reads: `rename`, `alias`; compared
//! without case, `_` or `-`, so `gossipHost` is `gossip_host`), inside a table that
//! is one too (`[mesh] gossip_host`; the top table of a YAML file may wrap the
//! program's, as a chart's `meshd:` does), and a long flag of its command line
//! (`#[arg(long)]`, `.long("…")`) given in a YAML command line that starts one of
//! the repository's programs (a package, `[[bin]]` or `src/bin/` name:
//! `command: ["meshd", "--mesh-listen", "0.0.0.0:7676"]`; `uvicorn app:app --host
//! 0.0.0.0` in the same compose file is another program's). Each is reported at its
//! line in that file, with the field it is read into as a note (in a Rocket
//! application, `Rocket.toml`'s `address` under a profile — `[default]`,
//! `[release]`, `[debug]`, `[global]` — is Rocket's own setting); a file that
//! configures a container, which needs every interface, says so with a
//! `# gatelint: allow(wildcard-listen-default) -- reason` comment.
//!
//! Each default is reported once, at the wildcard itself, naming what kind of
//! default it is. A function that returns its parameter on some path (a
//! converter: `normalize_addr(addr)` expanding a Go-style `":9100"`) passes on the
//! value it is given: a wildcard given to it is reported where it is written, and
//! its own expansion is no default.
//!
//! ## Why is this bad?
//! A wildcard default exposes the service on every interface of the host or
//! container. It looks harmless while nothing publishes the port, and becomes an
//! open, often unauthenticated endpoint the day a Dockerfile publishes it or the
//! network topology changes. This happened: the memory-plugin sidecar defaulted to
//! `:9100` for an unauthenticated memory store. Loopback is the safe baseline;
//! operators who need another interface set it explicitly (for example
//! `MEMORY_PLUGIN_LISTEN_ADDR`), and that override keeps working.
//!
//! ## Example
//! ```rust
//! const DEFAULT_LISTEN_ADDR: &str = ":9100";
//!
//! fn listen_addr() -> String {
//!     std::env::var("MEMORY_PLUGIN_LISTEN_ADDR").unwrap_or_else(|_| "0.0.0.0:9100".to_string())
//! }
//!
//! let addr = SocketAddr::from(([0, 0, 0, 0], 3000));
//! let listener = TcpListener::bind(addr).await?;
//! ```
//!
//! ## Use instead
//! ```rust
//! const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:9100";
//!
//! fn listen_addr() -> String {
//!     std::env::var("MEMORY_PLUGIN_LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:9100".to_string())
//! }
//!
//! let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 3000));
//! let listener = TcpListener::bind(addr).await?;
//! ```
//! An address read from explicit configuration with no wildcard fallback
//! (`env::var("LISTEN_ADDR")?`) is not flagged: choosing `0.0.0.0` there is a
//! deliberate act by an operator. So is the branch of an `if` on a flag whose name
//! asks for exposure (`if args.bind_all { UNSPECIFIED } else { LOCALHOST }`; a field
//! or variable with a word such as `all`, `public`, `expose`, `external`, `remote`):
//! the value by default is the other branch. Nor is a default that is where to send
//! something: a URL (`"http://0.0.0.0:8071"`, unless a bind call takes it), a default
//! whose own name says it is the other end (the variable `UPSTREAM_URL`, a clap field
//! or a configuration key named by `remote-names`), the address a client's
//! requests leave from (reqwest's `local_address`, `set_local_address`), or the one
//! a node advertises to its peers (`add_public_address`, `set_advertise_addr`, a
//! `public_addr`).
//!
//! ## Configuration
//! Abridged; `gatelint explain` lists every default in full after this text.
//! ```toml
//! [rules.wildcard-listen-default]
//! severity = "error"        # or "warning", "off"
//! # Words that mark a listen setting (identifiers are split into words).
//! listen-names = ["listen", "listener", "bind", "addr", "address", "host", "hostname", "interface", "iface", "socket"]
//! # Words that name the other end of a connection; they veto a listen word.
//! remote-names = ["remote", "peer", "client", "forwarded", "upstream", "target", "dest", "destination", "proxy", "origin", "url", "uri", "dial", "connect"]
//! # Functions and methods whose arguments are the address being bound.
//! bind-functions = ["bind", "try_bind", "bind_rustls", …, "serve", "serve_with_shutdown", "run", "listen", "listen_on", …]
//! # Methods whose argument is the value used when a setting is missing.
//! fallback-methods = ["unwrap_or", "unwrap_or_else", "map_or", "map_or_else", "or", "or_else"]
//! # Calls that read the environment, matched against the end of the call path.
//! env-readers = ["env::var", "env::var_os", "dotenvy::var", "env!", "option_env!"]
//! # Configuration-library calls `(key, default)`: a method name or the end of a path.
//! config-default-functions = ["set_default", "Serialized::default"]
//! # Extra host spellings meaning "every interface", e.g. ["*"].
//! extra-wildcards = []
//! ```
//!
//! ## Known limitations
//! - Whether a field is read is told by its name: any `.host` in code that can see
//!   the struct counts, whatever its type. A field that reaches a listener only
//!   through serialization (a configuration written out by `--init` and read back
//!   by another program) is taken for unread.
//! - Constants and functions are followed by path, resolved as Rust resolves them
//!   from the module that names them (`DEFAULT_ADDR`, `config::DEFAULT_ADDR`,
//!   `crate::settings::BIND`, through `use` renames, globs and re-exports, into the
//!   workspace packages the code depends on by path). A path that cannot be followed
//!   (an item made by a macro, a glob import of a crate outside the checked files) falls
//!   back to every constant or function of that name the naming code's package can see;
//!   a path into a crate outside the workspace is not followed.
//! - A constant not named like a listen setting is reported only where a bind call
//!   uses it, so naming a crate alone does not report its constants that only crates
//!   depending on it bind (they are not read): run on the workspace, or name both.
//! - syn sees syntax, not types: a method without arguments called on a value of
//!   unknown type (`bind(listen.socket_addr())`) is followed into every method of
//!   that name the code's package can see; a value that arrives through a trait
//!   method with arguments, a field of another struct or a macro other than
//!   `format!`/`concat!` is not followed. Inside macros, only list, map and
//!   join macros are read (`vec![…]`, `hashmap! { k => v }`, `try_join!(…)`): an
//!   address in a log line or a message is no default.
//! - Inside a function about multicast (its name or a parameter says `multicast` or
//!   `mdns`: `fn bind_multicast(socket, multicast_addr)`), nothing is reported: a
//!   multicast receiver binds the unspecified address by protocol, and its query
//!   socket a random local one. A listener such a function also starts is missed.
//! - Ambiguous spellings (`"::"`, Go-style `":9100"`) are reported only where a name
//!   or a bind call says "listen address", since `"::"` is also Rust's path separator.
//!   A bare `"0.0.0.0"` fallback of something that is not an environment variable and
//!   not named like a listen setting is not reported (it is often a placeholder IP in
//!   logs).
//! - Test code is skipped unless `include-tests = true`: `tests/`, `#[cfg(test)]` items,
//!   and a file that a `#[cfg(test)] mod tests;` declaration brings in, or a `mod y;`
//!   inside an inline `#[cfg(test)] mod x { … }` (though nothing in it says so). With
//!   it, example programs (`examples/`) are checked, their findings warnings: people
//!   run and copy them. Tests and their harnesses still report nothing: a test
//!   server bound to every interface (to find a free port) runs on the machine the
//!   tests run on.
//! - A bind whose listener is dropped unnamed at once probes whether a port is free
//!   and is not reported: `match bind(a).await { Ok(_) => break, Err(_) => wait() }`,
//!   `bind(a).is_ok()`, `if let Ok(_) = bind(a)`. One that keeps it (`Ok(listener)
//!   => serve(listener)`) is a listener.
//! - Wildcards outside Rust and the configuration files it names (Dockerfiles, shell
//!   entrypoints) are out of reach; so is `unwrap_or_default()` of a type whose
//!   `Default` lives in another crate.
//! - A configuration in a string is recognised by its reader, or by reading as TOML,
//!   or with every line a YAML `key: value` or a `KEY=value`; YAML, JSON and `.env`
//!   text is read line by line (block scalars, anchors and flow mappings are not
//!   followed). Which keys are listen settings is guessed from their names (and a
//!   `port` key beside them), not from the struct the text is read into.
//! - An IP field with no listen word (`ip`, `bind_ip`) counts as the listen address
//!   when the struct literal also sets a `port` field and neither the field nor the
//!   struct is named like a remote end (`remote-names`: `UpstreamAddr { ip, port }`
//!   is a client's). A function named in `#[serde(default = "…")]` that returns a
//!   wildcard is reported wherever it is.
//! - An included file, or one read at run time, is read from disk when the rules run
//!   (with `--staged` too: the working tree's version, and its findings are not
//!   reported, since such a run reports the staged Rust files only). Naming a Rust
//!   file reports only that file; naming a folder also reports the configuration
//!   files below it that its code names. A JSON file has no comments to suppress a
//!   finding in: use a baseline. A run that reads such a file is replayed only
//!   while the file has the bytes it read; one that looked for configuration files
//!   and found none, only while they are still missing.
//! - Which configuration files the program reads at run time is a heuristic: every
//!   string literal naming one counts, whether or not it reaches a reader, and the
//!   directory the program runs in is guessed (the package root, then the workspace
//!   root, then the directory gatelint runs in when that holds the package; the
//!   first that holds the file wins).
//!   A path made at run time (`format!("{env}.yaml")`, `.join(name)` with a variable
//!   piece, `concat!`, a constant without an extension passed to `File::with_name`) is
//!   not followed; an absolute path (`/etc/app/config.toml`) is outside the
//!   repository. A piece of a `.join(…)` chain that is not a literal before the
//!   literal pieces (`current_dir()`, `env!("CARGO_MANIFEST_DIR")`, a parameter) is
//!   taken for the directory the program runs in.
//! - Tooling files are never read, though code names them: `Cargo.toml`,
//!   `Cargo.lock`, `rust-toolchain.toml`, `clippy.toml`, `rustfmt.toml`, `deny.toml`
//!   and other cargo tools' files, `package.json`, `tsconfig.json` and other
//!   ecosystems' manifests, CI and hosting files (`.gitlab-ci.yml`, `fly.toml`, …), and
//!   files under `.cargo/`, `.config/`, `.github/`, `node_modules/` or `target/`.
//! - Deployment overlays of a configuration the program names are not read: a file
//!   whose name or folder says `production`, `prod`, `staging`, `docker`, `compose`,
//!   `container(s)`, `k8s`, `kubernetes`, `helm`, `deploy` or `deployment`, named in
//!   code (`config/docker.toml`) or lying beside a file that is
//!   (`configuration/production.yaml` next to `configuration/base.yaml`). A wildcard
//!   there is what a container or a host behind its own firewall needs, and the
//!   program reads it only when an operator selects it (`config/{run_mode}`). A
//!   deployment file elsewhere in the repository (a compose stack's, a chart's, a
//!   package's) is what the program is started with, and is read as above.
//! - The configuration files of the repository are matched to the program by key
//!   names alone: a key spelt like a field of any `Deserialize` struct of the checked
//!   crates counts, whichever program the file is for (a table that is no setting of
//!   theirs is not read), and a command-line flag counts only in a YAML command line
//!   that names one of the repository's programs (a compose `command:` that runs
//!   the image's entrypoint with flags alone is not read). Dockerfiles, shell
//!   scripts and ansible variables are not read, nor a `Rocket.toml` in a
//!   repository whose code launches no Rocket application.
//!   Development and local overlays (`local.yaml`, `development.toml`) are read: a
//!   developer's machine listening on every interface is the exposure this rule is
//!   about.
//! - A configuration file named by test code is not read (with `include-tests = true`
//!   too): a `#[cfg(test)]` item, a file a `#[cfg(test)] mod` brings in, a file whose
//!   name or folder below its package says test (`src/test.rs`, `test_utils.rs`), and
//!   a path with such a word (`tests/config.toml`, `config/test.toml`, `fixtures/`).
//! - A wildcard with port 0 (`"0.0.0.0:0"`, `(Ipv4Addr::UNSPECIFIED, 0)`) asks for an
//!   ephemeral port, which is how outgoing (client) sockets bind; it is not reported,
//!   except where a listener or server binds it outside test code
//!   (`TcpListener::bind`, `Server::try_bind`, libp2p's `listen_on`: a server on a
//!   random port still listens on every interface). A text address on port 0 is
//!   never reported.
//! - A wildcard bound or given as a value inside the branch of an `if` taken only
//!   when the configured address is already one (`if addr.ip() ==
//!   Ipv6Addr::UNSPECIFIED`, `host == "0.0.0.0"`, `.is_unspecified()`) spells out the
//!   operator's choice (both stacks of `[::]`, a v4 wildcard upgraded to v6) and is
//!   not reported. A listen setting assigned a local
//!   (`cfg.listen = answer`) holds the operator's value; one assigned an address
//!   written in the assignment is reported.
//! - Only a function's tail expression and top-level `return` count as its return value.
//!   Functions whose declared return type cannot hold an address (`()`, numbers,
//!   `bool`, `Result<()>`) are not followed at all.

mod address;
mod analysis;
mod config_text;
mod diagnostics;
mod extract;

pub use address::may_hold_wildcard;
pub use extract::{ListenFacts, Site, SiteKind, extract};

use crate::facts::value::Value;
use crate::rules::diagnostic::{Diagnostic, Severity};
use crate::rules::{CheckCx, ConfigSource, FileInput, ParamsError, Rule};
use serde::Deserialize;

pub const ID: &str = "wildcard-listen-default";

pub struct WildcardListenDefault;

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ListenParams {
    pub listen_names: Vec<String>,
    pub remote_names: Vec<String>,
    pub bind_functions: Vec<String>,
    pub fallback_methods: Vec<String>,
    pub env_readers: Vec<String>,
    pub config_default_functions: Vec<String>,
    pub extra_wildcards: Vec<String>,
}

impl ListenParams {
    /// Whether any word of `name` is a listen word (`DEFAULT_LISTEN_ADDR`, `bindHost`).
    /// A word from `remote-names` vetoes it: `peer_addr`, `client_host`, `upstream_addr`
    /// name the other end of a connection, not where this service listens.
    pub fn is_listen_name(&self, name: &str) -> bool {
        let has = |list: &[String]| word_slices(name).any(|w| list.iter().any(|l| l.eq_ignore_ascii_case(w)));
        has(&self.listen_names) && !has(&self.remote_names) && !names_public_address(name)
    }

    /// Whether any word of `name` names the other end of a connection or an address
    /// told to others (`peer_addr`, `external_ip`, `AnnounceRequest`).
    pub fn is_remote_name(&self, name: &str) -> bool {
        word_slices(name).any(|w| self.remote_names.iter().any(|l| l.eq_ignore_ascii_case(w)))
    }

    /// Whether a field of a struct that also has a `port` field is the address it
    /// listens on: an IP field (`ip`, `bind_ip`, `ip_addr`) not named like a remote
    /// end, in a struct not named like one (`ServerAddr`, not `UpstreamAddr`).
    pub fn is_ip_beside_port(&self, field: &str, ty: &str) -> bool {
        let ip = word_slices(field).any(|w| w.eq_ignore_ascii_case("ip"));
        ip && !self.is_remote_name(field) && !self.is_remote_name(ty)
    }

    /// Whether a call path (`std::env::var`, `option_env!`) reads the environment.
    pub fn is_env_reader(&self, path: &str) -> bool {
        self.env_readers
            .iter()
            .any(|r| path.strip_suffix(r.as_str()).is_some_and(|head| head.is_empty() || head.ends_with("::")))
    }
}

/// Whether a name says "public address" (`public_addr`, `add_public_address`): in a
/// peer-to-peer node, the address it tells its peers to reach it at, not the one it
/// binds. (`PUBLIC_HOST` and `public_ip` stay listen names: a host to serve on.)
fn names_public_address(name: &str) -> bool {
    let has = |set: &[&str]| word_slices(name).any(|w| set.iter().any(|s| s.eq_ignore_ascii_case(w)));
    has(&["public"]) && has(&["addr", "address", "addrs", "addresses", "multiaddr"])
}

/// Splits an identifier or text into words at `_`, punctuation and case changes
/// (`bindHost` → `bind`, `Host`), without allocating: names are checked by the
/// hundred thousand on a large crate.
pub(crate) fn word_slices(name: &str) -> impl Iterator<Item = &str> {
    let mut rest = name.char_indices().peekable();
    std::iter::from_fn(move || {
        // Skip separators.
        let (start, first) = loop {
            let (i, c) = rest.next()?;
            if c.is_alphanumeric() {
                break (i, c);
            }
        };
        let mut prev_lower = first.is_lowercase() || first.is_ascii_digit();
        let mut end = start + first.len_utf8();
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() || (c.is_uppercase() && prev_lower) {
                break;
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            end = i + c.len_utf8();
            rest.next();
        }
        Some(&name[start..end])
    })
}

#[cfg(test)]
fn words(name: &str) -> Vec<String> {
    word_slices(name).map(str::to_lowercase).collect()
}

impl Rule for WildcardListenDefault {
    const ID: &'static str = ID;
    const IN_TEST_CODE: crate::rules::InTestCode = crate::rules::InTestCode::InExamplesOnly;
    /// Functions named like a listen address, or named by `#[serde(default = "…")]`,
    /// are sites through the value they return.
    const READS_FN_RETURNS: bool = true;
    /// The configuration files of the repository hold defaults for the settings the
    /// program reads.
    const READS_REPO_CONFIGS: bool = true;
    type Params = ListenParams;
    type Facts = ListenFacts;

    fn params(table: &toml::Table, _: Option<&ConfigSource>) -> Result<ListenParams, ParamsError> {
        crate::rules::params_from_table(table)
    }

    fn extract(input: &FileInput, params: &ListenParams) -> Option<ListenFacts> {
        Some(extract(input.file, input.path, input.source, input.syntax, params))
    }

    /// Configuration files compiled in with `include_str!` or named by a path the
    /// program reads at run time: read by the check.
    fn included_files(facts: &ListenFacts) -> Vec<crate::rules::NamedFile> {
        facts.included.iter().map(extract::Included::named).collect()
    }

    fn keeps_fn_return(params: &ListenParams, value: &Value) -> bool {
        may_hold_wildcard(value, params)
    }

    /// The escape hatch of the listen rule is loopback: made a wildcard. (And a branch
    /// taken only for a configured wildcard: made one taken for any address.)
    fn remove_escape_hatch(line: &str) -> String {
        line.replace("ip() == Ipv6Addr::UNSPECIFIED", "ip().is_ipv6()")
            .replace("127.0.0.1", "0.0.0.0")
            .replace("[::1]", "[::]")
            .replace("LOCALHOST", "UNSPECIFIED")
            .replace("127, 0, 0, 1", "0, 0, 0, 0")
            .replace("\"localhost\"", "\"0.0.0.0\"")
            // A function about multicast, renamed to be about something else.
            .replace("multicast", "upstream")
            // An operator's opt-in flag, renamed to a setting that picks a mode.
            .replace("bind_all", "bind_mode")
            // An address advertised to peers, made one the node listens on.
            .replace("add_public_address", "add_listen_address")
            .replace("set_advertise_addr", "set_listen_addr")
            // A field shown only in a log line, read by code.
            .replace("tracing::info!(\"serving", "format!(\"serving")
    }

    fn check(ctx: &CheckCx, params: &ListenParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let sites = analysis::crate_sites(ctx, params);
        let found = analysis::wildcards(ctx, params, &sites);
        Ok(found.into_iter().map(|(site, hit)| diagnostics::diagnostic(ctx, site, hit, severity)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(words("DEFAULT_LISTEN_ADDR"), vec!["default", "listen", "addr"]);
        assert_eq!(words("bindHost"), vec!["bind", "host"]);
        assert_eq!(words("server.bind_addr"), vec!["server", "bind", "addr"]);
        assert_eq!(words("IMPORT_SEP"), vec!["import", "sep"]);
        assert_eq!(words("__x__yZ"), vec!["x", "y", "z"]);
        assert_eq!(words("HTTPServer listen2Addr"), vec!["httpserver", "listen2", "addr"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn env_readers_match_whole_path_segments() {
        let params = ListenParams {
            listen_names: Vec::new(),
            remote_names: Vec::new(),
            bind_functions: Vec::new(),
            fallback_methods: Vec::new(),
            env_readers: vec!["env::var".into()],
            config_default_functions: Vec::new(),
            extra_wildcards: Vec::new(),
        };
        assert!(params.is_env_reader("env::var"));
        assert!(params.is_env_reader("std::env::var"));
        assert!(!params.is_env_reader("myenv::var"));
        assert!(!params.is_env_reader("env::var_os"));
    }
}
