//! Configuration files the program reads at run time, named in its code: a string
//! literal that names one (`"./config/default.toml"`, a clap `default_value`), the
//! pieces of a `.join(…)` chain (`base.join("configuration").join("base.yaml")`),
//! and the argument of a configuration reader that may leave the extension out
//! (config-rs's `File::with_name("settings")`, figment's `Toml::file("App.toml")`).
//! Each is recorded as an [`Included`] with the paths to try; which of them exists
//! is found when the rule runs (see [`crate::rules::NamedFile::RunTime`]).
//!
//! Only files the program ships as its default configuration count: tooling files
//! (`Cargo.toml`, `rustfmt.toml`, `package.json`, CI workflows, …), deployment
//! overlays (`production.yaml`, `docker.toml`: a wildcard there is what a container
//! needs) and test data are not read.

use super::{Extractor, Included, RunTimeRead};
use crate::facts::lower::segments;
use crate::input::config_files;
use crate::facts::value::Value;
use crate::input::source::Loc;
use crate::rules::wildcard_listen_default::config_text::Format;
use crate::rules::wildcard_listen_default::word_slices;

/// Words of a folder or file name that mark a deployment overlay: a wildcard there
/// is deliberate (a container or a production host behind its own firewall), and
/// the program does not read it unless an operator selects it.
pub(in crate::rules::wildcard_listen_default) const DEPLOYMENT_WORDS: &[&str] =
    &["production", "prod", "staging", "docker", "compose", "container", "containers", "k8s", "kubernetes", "helm", "deploy", "deployment"];

/// Calls that write, create or move the file they are given (matched by the last
/// segment of the call path or the method name): a configuration file named there is
/// the program's output (a schema generated into the docs, `--init` writing a
/// starting configuration), not what it reads.
const FILE_WRITERS: &[&str] = &[
    "write", "write_all", "write_file", "write_to", "to_file", "create", "create_new", "generate", "generate_to", "save",
    "save_to", "dump", "export", "persist", "render_to", "rename", "remove_file",
];

/// The extensions config-rs tries, in turn, for a name given without one.
const CONFIG_RS_EXTENSIONS: &[&str] = &["toml", "json", "yaml", "yml", "ini"];

/// Readers of a configuration file by name (matched against the end of the call
/// path), and whether they add the extension themselves (config-rs).
const FILE_READERS: &[(&str, bool)] = &[
    ("File::with_name", true),
    ("File::new", true),
    ("Toml::file", false),
    ("Toml::file_exact", false),
    ("Yaml::file", false),
    ("Yaml::file_exact", false),
    ("Json::file", false),
    ("Json::file_exact", false),
];

impl Extractor<'_> {
    /// A string literal that names a configuration file, read relative to the
    /// directory the program runs in.
    pub(super) fn run_time_literal(&mut self, s: &syn::LitStr) {
        let at = self.lowerer.span_loc(s.span());
        if self.claimed.contains(&at.start) {
            return;
        }
        // Most literals are no file name: decided on the source text, without
        // unescaping each one.
        let written = self.lowerer.source.text().get(at.range()).unwrap_or("");
        if written.ends_with('"') && !written.contains('.') {
            return;
        }
        let path = s.value();
        if config_file_format(&path).is_some() {
            self.run_time_file(path, at);
        }
    }

    /// The path literals in the arguments of a call that writes the file
    /// ([`FILE_WRITERS`]): claimed, so none is read as a configuration. Called before
    /// the arguments are visited.
    pub(super) fn claim_written<'e>(&mut self, callee: &syn::Ident, args: impl IntoIterator<Item = &'e syn::Expr>) {
        if !FILE_WRITERS.iter().any(|w| callee == w) {
            return;
        }
        struct Literals<'a>(&'a mut Vec<proc_macro2::Span>);
        impl<'ast> syn::visit::Visit<'ast> for Literals<'_> {
            fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
                self.0.push(s.span());
            }
        }
        let mut spans = Vec::new();
        for arg in args {
            syn::visit::Visit::visit_expr(&mut Literals(&mut spans), arg);
        }
        for span in spans {
            let at = self.lowerer.span_loc(span);
            self.claimed.insert(at.start);
        }
    }

    /// `….join("configuration").join("base.yaml")`: the literal pieces joined, from
    /// the first literal (`Path::new("config")`) or an unknown base (the current
    /// directory, `env!("CARGO_MANIFEST_DIR")`, a variable) read as the directory the
    /// program runs in. A piece that is not a literal after the base (`.join(env)`)
    /// leaves the directory unknown: nothing is read. Called before the call's
    /// arguments are visited, so the last piece is not also read on its own.
    pub(super) fn run_time_join(&mut self, m: &syn::ExprMethodCall) {
        let (true, Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(last), .. }))) =
            (m.method == "join" && m.args.len() == 1, m.args.first())
        else {
            return;
        };
        let at = self.lowerer.span_loc(last.span());
        let name = last.value();
        if config_file_format(&name).is_none() || !self.claimed.insert(at.start) {
            return;
        }
        let receiver = self.lowerer.lower(&m.receiver);
        let Some(mut pieces) = path_pieces(&receiver) else { return };
        pieces.push(name);
        let path = pieces.join("/");
        if config_file_format(&path).is_some() {
            self.run_time_file(path, at);
        }
    }

    /// config-rs's `File::with_name("settings")` (the extension may be left out: it
    /// tries each it knows) and figment's `Toml::file("App.toml")` (the provider says
    /// the format). Called before the call's arguments are visited.
    pub(super) fn run_time_reader(&mut self, c: &syn::ExprCall) {
        let syn::Expr::Path(p) = &*c.func else { return };
        let Some(last) = p.path.segments.last() else { return };
        // (Most calls are none of these: no string is built for them.)
        if !["with_name", "new", "file", "file_exact"].iter().any(|n| last.ident == n) {
            return;
        }
        let path = segments(&p.path).join("::");
        let Some(&(reader, adds_extension)) =
            FILE_READERS.iter().find(|(r, _)| path == *r || path.ends_with(&format!("::{r}")))
        else {
            return;
        };
        // config-rs's `File::new(name, FileFormat::Toml)`; any other `File::new` is not it.
        let format_arg = c.args.iter().nth(1).and_then(|a| match a {
            syn::Expr::Path(f) => Some(segments(&f.path).join("::")),
            _ => None,
        });
        if reader == "File::new" && !format_arg.as_deref().is_some_and(|f| f.contains("FileFormat")) {
            return;
        }
        let Some(arg) = c.args.first() else { return };
        let Some((name, at)) = literal_of(&self.lowerer.lower(arg)) else { return };
        if !plain_path(&name) {
            return;
        }
        self.claimed.insert(at.start);
        let format = match &format_arg {
            Some(f) => Format::of_reader(f),
            None if !adds_extension => Format::of_reader(reader),
            None => None,
        };
        let candidates = if config_file_format(&name).is_some() {
            vec![name.clone()]
        } else if adds_extension {
            let extensions: Vec<&str> = match format {
                Some(Format::Toml) => vec!["toml"],
                Some(Format::Yaml) => vec!["yaml", "yml"],
                Some(Format::Json) => vec!["json"],
                Some(Format::Env) => vec!["ini"],
                None => CONFIG_RS_EXTENSIONS.to_vec(),
            };
            // config-rs appends the extension to a name that has a dot in it already
            // (`config.default` -> `config.default.toml`); its releases before 0.14
            // replaced what followed the dot (`config.toml`), tried after.
            let path = std::path::Path::new(&name);
            let appended = extensions.iter().map(|e| format!("{name}.{e}"));
            let replaced = extensions
                .iter()
                .filter(|_| path.extension().is_some())
                .map(|e| path.with_extension(e).to_string_lossy().replace('\\', "/"));
            appended.chain(replaced).collect()
        } else {
            vec![name.clone()]
        };
        let candidates: Vec<String> = candidates.into_iter().filter(|c| is_program_configuration(c)).collect();
        if candidates.is_empty() || self.in_test_support() {
            return;
        }
        self.facts.included.push(Included {
            path: name,
            at,
            holder: format!("`{reader}`"),
            run_time: Some(RunTimeRead { candidates, format }),
            env_file: false,
        });
    }

    /// Whether this file is test support by its name ([`is_test_support`]).
    fn in_test_support(&mut self) -> bool {
        *self.test_support.get_or_insert_with(|| is_test_support(self.path))
    }

    /// Records `path`, named at `at`, when it may be the program's configuration.
    fn run_time_file(&mut self, path: String, at: Loc) {
        self.claimed.insert(at.start);
        let known = self.facts.included.iter().any(|i| i.at == at && i.path == path);
        if known || !is_program_configuration(&path) || self.in_test_support() {
            return;
        }
        let read = RunTimeRead { candidates: vec![path.clone()], format: None };
        self.facts.included.push(Included { path, at, holder: "a path".to_string(), run_time: Some(read), env_file: false });
    }
}

/// Whether a Rust file is test support by its name or its folders below its
/// package root (`src/test.rs`, `src/test/mod.rs`, `src/test_utils.rs`), though
/// nothing in it says `#[cfg(test)]`.
fn is_test_support(path: &std::path::Path) -> bool {
    let below = path.ancestors().skip(1).position(|d| d.join("Cargo.toml").is_file()).unwrap_or(0);
    let parts: Vec<_> = path.components().rev().take(below + 1).collect();
    parts.iter().any(|part| {
        let name = part.as_os_str().to_string_lossy();
        let stem = name.strip_suffix(".rs").unwrap_or(&name);
        word_slices(stem).any(|w| config_files::TEST_WORDS.iter().any(|t| t.eq_ignore_ascii_case(w)))
    })
}

/// The literal pieces of the directory a `.join(…)` receiver names, outermost first;
/// empty for an unknown base (read as the directory the program runs in), `None`
/// when a piece after the base is not a literal.
fn path_pieces(value: &Value) -> Option<Vec<String>> {
    let mut pieces = Vec::new();
    let mut at = value;
    loop {
        match at {
            Value::Local { value, .. } => at = value,
            Value::Method { receiver, method, args, .. } if method == "join" => match args.as_slice() {
                [Value::Str { text, .. }] if plain_path(text) => {
                    pieces.push(text.clone());
                    at = receiver;
                }
                _ => return None,
            },
            Value::Method { receiver, method, args, .. }
                if args.is_empty()
                    && matches!(method.as_str(), "to_path_buf" | "to_owned" | "clone" | "as_path" | "into" | "as_ref") =>
            {
                at = receiver
            }
            Value::Call { callee, args, .. }
                if callee.len() >= 2
                    && matches!(callee[callee.len() - 2].as_str(), "Path" | "PathBuf")
                    && matches!(callee[callee.len() - 1].as_str(), "new" | "from") =>
            {
                match args.as_slice() {
                    [Value::Str { text, .. }] if plain_path(text) => pieces.push(text.clone()),
                    [Value::Str { .. }] => return None,
                    _ => {}
                }
                break;
            }
            Value::Str { text, .. } if plain_path(text) => {
                pieces.push(text.clone());
                break;
            }
            Value::Str { .. } => return None,
            _ => break,
        }
    }
    pieces.reverse();
    Some(pieces)
}

/// The string a reader's argument is, through locals, with the literal's place.
fn literal_of(value: &Value) -> Option<(String, Loc)> {
    match value {
        Value::Str { text, loc } => Some((text.clone(), *loc)),
        Value::Local { value, .. } => literal_of(value),
        _ => None,
    }
}

/// A relative path as a program writes one: no spaces, placeholders, globs, URLs,
/// home or root directories.
fn plain_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 255
        && !path.starts_with(['/', '\\'])
        && path.chars().all(|c| c.is_alphanumeric() || "._-/+".contains(c))
}

/// The format of a configuration file a path names: a file name with a stem and a
/// configuration extension (`config/default.toml`, `base.yaml`), or a `.env` file.
fn config_file_format(path: &str) -> Option<Format> {
    if !plain_path(path) {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let (stem, _) = name.rsplit_once('.')?;
    let env_file = name == ".env" || name.starts_with(".env.");
    if stem.trim_matches('.').is_empty() && !env_file {
        return None;
    }
    Format::of_path(name)
}

/// Whether a file name says a deployment overlay (`production.yaml`,
/// `config.docker.toml`).
pub(in crate::rules::wildcard_listen_default) fn names_overlay(name: &str) -> bool {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    word_slices(stem).any(|w| DEPLOYMENT_WORDS.contains(&w.to_ascii_lowercase().as_str()))
}

/// Whether a configuration file the program names may be its default
/// configuration: not a tooling file, a deployment overlay or test data.
fn is_program_configuration(path: &str) -> bool {
    let mut parts = path.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".");
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    if config_files::is_tooling_file(name) || name.eq_ignore_ascii_case("values.yaml") {
        return false;
    }
    !parts.any(|part| {
        config_files::TOOLING_DIRS.contains(&part)
            || word_slices(part).any(|w| {
                let w = w.to_ascii_lowercase();
                DEPLOYMENT_WORDS.contains(&w.as_str()) || config_files::TEST_WORDS.contains(&w.as_str())
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_file_names() {
        for name in ["config.toml", "./config/default.toml", "base.yaml", "app.yml", "settings.json", ".env", "a.ini"] {
            assert!(config_file_format(name).is_some(), "{name}");
        }
        for name in
            ["toml", ".toml", "json", "application/json", "*.toml", "/etc/app/config.toml", "{}.yaml", "a b.toml", "x.rs"]
        {
            assert!(config_file_format(name).is_none(), "{name}");
        }
    }

    #[test]
    fn tooling_overlays_and_test_data_are_not_the_programs_configuration() {
        for path in ["config/default.toml", "configuration/base.yaml", "settings.toml", "config/local.yaml", "App.toml"] {
            assert!(is_program_configuration(path), "{path}");
        }
        for path in [
            "Cargo.toml",
            "./rustfmt.toml",
            "web/package.json",
            ".cargo/config.toml",
            ".github/workflows/ci.yml",
            "configuration/production.yaml",
            "config.prod.toml",
            "docker/config.toml",
            "docker-compose.yml",
            "tests/config.toml",
            "config/test.toml",
        ] {
            assert!(!is_program_configuration(path), "{path}");
        }
    }
}
