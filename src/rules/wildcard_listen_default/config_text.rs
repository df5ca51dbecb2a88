//! Wildcard listen entries in configuration text — an embedded configuration file
//! or a configuration written as a string in code: TOML (read with the `toml`
//! parser), and YAML, JSON, `.env` and INI read line by line (simple `key: value`,
//! `"key": "value"` and `KEY=value` lines, which is how default configurations are
//! written). Text that does not read as its format yields nothing.

use super::ListenParams;
use super::address::{Strength, classify_str};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    Toml,
    Yaml,
    Json,
    /// `KEY=value` lines, with optional `[section]` headers (INI).
    Env,
}

impl Format {
    /// The format a file name says (`config.default.toml`, `.env`, `base.yaml`).
    pub fn of_path(path: &str) -> Option<Format> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
        let ext = name.rsplit('.').next().unwrap_or("");
        match ext {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "env" | "ini" => Some(Format::Env),
            _ if name.starts_with(".env") => Some(Format::Env),
            _ => None,
        }
    }

    /// The format a configuration reader's path names (`Toml::string`,
    /// `serde_yaml::from_str`, `FileFormat::Json`).
    pub fn of_reader(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.contains("toml") {
            Some(Format::Toml)
        } else if lower.contains("yaml") || lower.contains("yml") {
            Some(Format::Yaml)
        } else if lower.contains("json") {
            Some(Format::Json)
        } else if lower.contains("ini") || lower.contains("dotenv") {
            Some(Format::Env)
        } else {
            None
        }
    }

    /// The format a text is written in, when nothing else says: TOML if it parses as
    /// TOML with at least one key, else YAML, JSON or env if every line reads as one.
    pub fn sniff(text: &str) -> Option<Format> {
        if !text.contains('\n') {
            return None;
        }
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return Some(Format::Json);
        }
        // A shell script (cloud-init user data): its `KEY=value` lines are its settings.
        if trimmed.starts_with("#!") {
            return Some(Format::Env);
        }
        if toml::de::DeTable::parse(text).is_ok_and(|t| !t.get_ref().is_empty()) {
            return Some(Format::Toml);
        }
        let lines = || text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines().count() == 0 {
            return None;
        }
        if lines().all(|l| yaml_line(l).is_some()) {
            return Some(Format::Yaml);
        }
        if lines().all(|l| env_line(l).is_some() || is_section(l)) {
            return Some(Format::Env);
        }
        None
    }
}

/// A `key = value` of a configuration text, with the keys of the tables around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The enclosing tables and the key, dotted (`server.listen_address`).
    pub key: String,
    pub value: String,
    /// The value's byte range in the text (its quotes included).
    pub range: Range<usize>,
}

/// The entries of `text` that set a wildcard listen address: a key named like a
/// listen setting with any wildcard, an address with a port under any key, or an
/// unspecified host next to a `port` key (`ip = "0.0.0.0"` beside `port = 8080`).
/// A key or table named like the other end of a connection (`upstream.host`) and a
/// URL are never one.
pub fn listen_entries(text: &str, format: Format, params: &ListenParams) -> Vec<Entry> {
    let raw = match format {
        Format::Toml => toml_entries(text),
        Format::Yaml => yaml_entries(text),
        Format::Json => json_entries(text),
        Format::Env => env_entries(text),
    };
    listen_only(raw, params)
}

/// The long flags given a wildcard listen address in `text` (a compose file's
/// `command: app --listen-http='0.0.0.0:7676'`, a chart's `args: ["--host",
/// "0.0.0.0"]`), keyed by the flag without its dashes: a flag named like a listen
/// setting with any wildcard, or any flag with an address and a port.
pub fn flag_entries(text: &str, params: &ListenParams) -> Vec<Entry> {
    let bytes = text.as_bytes();
    let mut raw = Vec::new();
    for (at, _) in text.match_indices("--") {
        if at > 0 && !matches!(bytes[at - 1], b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'[' | b',' | b'(') {
            continue;
        }
        let name_end = at + 2 + text[at + 2..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(text.len() - at - 2);
        let name = &text[at + 2..name_end];
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        // `--flag=value`, `--flag value`, `"--flag", "value"`.
        let rest = &text[name_end..];
        let after = rest.strip_prefix('=').map(str::len).or_else(|| {
            let spaced = rest.trim_start_matches([' ', '\t']);
            if spaced.len() < rest.len() {
                return Some(spaced.len());
            }
            let listed = rest.strip_prefix(['"', '\''])?.trim_start().strip_prefix(',')?.trim_start();
            Some(listed.len())
        });
        let Some(after) = after else { continue };
        let mut start = text.len() - after;
        if text[start..].starts_with(['"', '\'']) {
            start += 1;
        }
        let len = text[start..].find(|c: char| c.is_whitespace() || "\"',])".contains(c)).unwrap_or(text.len() - start);
        if len > 0 {
            let range = start..start + len;
            raw.push(RawEntry { parent: Vec::new(), key: name.to_string(), value: text[range.clone()].to_string(), range });
        }
    }
    listen_only(raw, params)
}

/// The environment variables a deployment file sets to a wildcard listen address,
/// keyed by the variable: a Dockerfile's `ENV NAME=value` (and `ENV NAME value`),
/// a compose file's `environment:` entries (`- NAME=value`, `NAME: value`).
pub fn env_assignments(text: &str, dockerfile: bool, params: &ListenParams) -> Vec<Entry> {
    let mut raw = Vec::new();
    let is_name = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if dockerfile {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let trimmed = line.trim_start();
            let Some(rest) = trimmed.strip_prefix("ENV ").or_else(|| trimmed.strip_prefix("env ")) else { continue };
            let mut at = start + (line.len() - trimmed.len()) + 4;
            let rest = rest.trim_end();
            // `ENV NAME value`: one variable, the rest of the line its value.
            if let Some((name, value)) = rest.split_once(' ')
                && is_name(name)
                && !name.contains('=')
                && !value.contains('=')
            {
                let value_at = at + name.len() + 1 + (value.len() - value.trim_start().len());
                let (v, r) = scalar(value.trim_start());
                raw.push(RawEntry { parent: Vec::new(), key: name.to_string(), value: v, range: value_at + r.start..value_at + r.end });
                continue;
            }
            // `ENV A=1 B="2"`.
            for word in rest.split(' ') {
                if let Some((name, value)) = word.split_once('=')
                    && is_name(name)
                {
                    let value_at = at + name.len() + 1;
                    let (v, r) = scalar(value.trim_end_matches('\\'));
                    raw.push(RawEntry { parent: Vec::new(), key: name.to_string(), value: v, range: value_at + r.start..value_at + r.end });
                }
                at += word.len() + 1;
            }
        }
    } else {
        for e in yaml_entries(text) {
            if e.key == "environment" {
                // `- NAME=value`: the item's text after the `=`.
                if let Some((name, value)) = e.value.split_once('=')
                    && is_name(name)
                {
                    let quoted = usize::from(e.range.len() == e.value.len() + 2);
                    let at = e.range.start + quoted + name.len() + 1;
                    raw.push(RawEntry { parent: Vec::new(), key: name.to_string(), value: value.to_string(), range: at..at + value.len() });
                }
            } else if e.parent.last().is_some_and(|p| p == "environment") && is_name(&e.key) {
                raw.push(RawEntry { parent: Vec::new(), ..e });
            }
        }
    }
    listen_only(raw, params)
}

/// The words of the command line that reaches offset `at` of a YAML text: from the
/// key whose value it is (`command:`, `args:`, `shell:`; the nearest line above
/// that starts with a key) to `at`, each a program's name without its folder
/// (`/usr/local/bin/local_proxy` → `local_proxy`); `NAME=value` words are left out.
pub fn command_words(text: &str, at: usize) -> Vec<&str> {
    let before = &text[..at.min(text.len())];
    let mut start = 0;
    let mut line_end = before.len();
    while let Some(line_start) = before[..line_end].rfind('\n').map(|i| i + 1).or((line_end > 0).then_some(0)) {
        let line = before[line_start..].lines().next().unwrap_or("").trim_start();
        let line = line.strip_prefix("- ").unwrap_or(line);
        if yaml_line(line).is_some_and(|(key, _)| key.is_some()) && !line.starts_with(['"', '\'']) {
            start = line_start;
            break;
        }
        if line_start == 0 {
            break;
        }
        line_end = line_start - 1;
    }
    before[start..]
        .split(|c: char| c.is_whitespace() || "\"'[],".contains(c))
        .filter(|w| !w.is_empty() && !w.contains('='))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .collect()
}

/// The entries of `raw` that set a wildcard listen address (see [`listen_entries`]).
fn listen_only(mut raw: Vec<RawEntry>, params: &ListenParams) -> Vec<Entry> {
    raw.sort_by_key(|e| e.range.start);
    let has_port = |parent: &[String]| {
        raw.iter().any(|e| e.parent == parent && super::word_slices(&e.key).any(|w| w.eq_ignore_ascii_case("port")))
    };
    let remote = |name: &str| {
        super::word_slices(name).any(|w| params.remote_names.iter().any(|r| r.eq_ignore_ascii_case(w)))
    };
    let mut out = Vec::new();
    for e in &raw {
        // A URL (`http://0.0.0.0:8071`) in a configuration is where to send something.
        if remote(&e.key) || e.parent.iter().any(|p| remote(p)) || e.value.contains("://") {
            continue;
        }
        let Some(c) = classify_str(&e.value, &params.extra_wildcards) else { continue };
        let listen = params.is_listen_name(&e.key)
            || c.strength == Strength::Socket
            || (c.strength >= Strength::Host && has_port(&e.parent));
        if listen {
            let key = e.parent.iter().chain(std::iter::once(&e.key)).cloned().collect::<Vec<_>>().join(".");
            out.push(Entry { key, value: e.value.clone(), range: e.range.clone() });
        }
    }
    out
}

/// A string value found under `parent` tables at key `key`.
struct RawEntry {
    parent: Vec<String>,
    key: String,
    value: String,
    range: Range<usize>,
}

fn toml_entries(text: &str) -> Vec<RawEntry> {
    let Ok(doc) = toml::de::DeTable::parse(text) else { return Vec::new() };
    let mut out = Vec::new();
    toml_table(doc.get_ref(), &mut Vec::new(), &mut out);
    out
}

fn toml_table(table: &toml::de::DeTable, parent: &mut Vec<String>, out: &mut Vec<RawEntry>) {
    for (key, value) in table {
        toml_value(key.get_ref(), value, parent, out);
    }
}

fn toml_value(
    key: &str,
    value: &toml::Spanned<toml::de::DeValue>,
    parent: &mut Vec<String>,
    out: &mut Vec<RawEntry>,
) {
    match value.get_ref() {
        toml::de::DeValue::String(s) => out.push(RawEntry {
            parent: parent.clone(),
            key: key.to_string(),
            value: s.to_string(),
            range: value.span(),
        }),
        toml::de::DeValue::Table(t) => {
            parent.push(key.to_string());
            toml_table(t, parent, out);
            parent.pop();
        }
        toml::de::DeValue::Array(items) => {
            for item in items {
                toml_value(key, item, parent, out);
            }
        }
        // Numbers and the rest: kept for their key (`port = 8080` marks its table).
        _ => out.push(RawEntry { parent: parent.clone(), key: key.to_string(), value: String::new(), range: value.span() }),
    }
}

/// `key: value`, `key:`, `- value` or `- key: value` (the line trimmed): the key and
/// the value's offset in the line, when it has one.
fn yaml_line(line: &str) -> Option<(Option<&str>, Option<usize>)> {
    if let Some(item) = line.strip_prefix("- ").or_else(|| (line == "-").then_some("")) {
        let offset = line.len() - item.len();
        return match yaml_line(item.trim_start()) {
            Some((Some(key), at)) if !item.trim_start().starts_with(['"', '\'']) => {
                let pad = item.len() - item.trim_start().len();
                Some((Some(key), at.map(|a| a + offset + pad)))
            }
            _ => Some((None, (!item.trim().is_empty()).then_some(offset))),
        };
    }
    let (key, rest) = line.split_once(':')?;
    let key = key.trim().trim_matches(['"', '\'']);
    let plain = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
    if !plain || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let value = rest.trim_start();
    let at = (!value.is_empty() && !value.starts_with('#')).then(|| line.len() - value.len());
    Some((Some(key), at))
}

fn yaml_entries(text: &str) -> Vec<RawEntry> {
    let mut out = Vec::new();
    // (indent, key) of the mappings the current line is inside.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end();
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let Some((key, at)) = yaml_line(trimmed) else { continue };
        let is_item = trimmed.starts_with('-');
        // A list item belongs to the key above it, even at the same indent.
        while stack.last().is_some_and(|(i, _)| *i > indent || (*i == indent && !is_item)) {
            stack.pop();
        }
        let parent: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
        match (key, at) {
            (Some(key), None) => stack.push((indent, key.to_string())),
            (key, Some(at)) => {
                let (parent, key) = match key {
                    Some(k) => (parent, k.to_string()),
                    None => match parent.split_last() {
                        Some((k, rest)) => (rest.to_vec(), k.clone()),
                        None => continue,
                    },
                };
                let (value, range) = scalar(&trimmed[at..]);
                let start = line_start + indent + at;
                out.push(RawEntry { parent, key, value, range: start + range.start..start + range.end });
            }
            (None, None) => {}
        }
    }
    out
}

/// A scalar written after `:` or `=`: its text without quotes or a trailing
/// comment, and its range in `s` (quotes included).
fn scalar(s: &str) -> (String, Range<usize>) {
    if let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'')
        && let Some(end) = s[1..].find(q)
    {
        return (s[1..1 + end].to_string(), 0..end + 2);
    }
    let end = s.find(" #").unwrap_or(s.len());
    let value = s[..end].trim_end();
    (value.to_string(), 0..value.len())
}

/// `${NAME:-default}` (or `${NAME-default}`): a shell's value when `NAME` is unset
/// is the default, and its range within the value's.
fn shell_default(value: String, range: Range<usize>) -> (String, Range<usize>) {
    let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else { return (value, range) };
    let Some(dash) = inner.find('-') else { return (value, range) };
    let name = inner[..dash].strip_suffix(':').unwrap_or(&inner[..dash]);
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return (value, range);
    }
    let default = &inner[dash + 1..];
    // The value starts after `${`, the name and `-`, and after the opening quote.
    let quoted = usize::from(range.len() == value.len() + 2);
    let start = range.start + quoted + 2 + dash + 1;
    (default.to_string(), start..start + default.len())
}

fn is_section(line: &str) -> bool {
    line.starts_with('[') && line.ends_with(']')
}

/// `KEY=value`, `export KEY=value`, `key = value` (the line trimmed): the key and
/// the value's offset in the line.
fn env_line(line: &str) -> Option<(&str, usize)> {
    let body = line.strip_prefix("export ").unwrap_or(line);
    let (key, _) = body.split_once('=')?;
    let key = key.trim();
    let plain = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
    if !plain {
        return None;
    }
    let after = &body[body.find('=')? + 1..];
    let value = after.trim_start();
    Some((key, line.len() - value.len()))
}

fn env_entries(text: &str) -> Vec<RawEntry> {
    let mut out = Vec::new();
    let mut section: Vec<String> = Vec::new();
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end();
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if is_section(trimmed) {
            section = vec![trimmed[1..trimmed.len() - 1].trim().to_string()];
            continue;
        }
        if trimmed.starts_with(['#', ';']) {
            continue;
        }
        let Some((key, at)) = env_line(trimmed) else { continue };
        let (value, range) = scalar(&trimmed[at..]);
        let (value, range) = shell_default(value, range);
        let start = line_start + indent + at;
        out.push(RawEntry { parent: section.clone(), key: key.to_string(), value, range: start + range.start..start + range.end });
    }
    out
}

/// `"key": "value"` pairs, with the keys of the objects around them.
fn json_entries(text: &str) -> Vec<RawEntry> {
    let mut out = Vec::new();
    // The key of each open object or array (`None` for one that no key names).
    let mut stack: Vec<Option<String>> = Vec::new();
    // The last string read and whether a `:` followed it: the pending key.
    let mut last: Option<String> = None;
    let mut key: Option<String> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let end = (i + 1).min(bytes.len());
                let text_of = text.get(start + 1..i.min(bytes.len())).unwrap_or("").to_string();
                if let Some(k) = key.take() {
                    let parent = stack.iter().flatten().cloned().collect();
                    out.push(RawEntry { parent, key: k, value: text_of, range: start..end });
                } else {
                    last = Some(text_of);
                }
            }
            b':' => key = last.take(),
            b'{' | b'[' => {
                stack.push(key.take());
                last = None;
            }
            b'}' | b']' => {
                stack.pop();
                key = None;
                last = None;
            }
            b',' => {
                last = None;
                key = None;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ListenParams {
        crate::config::Config::defaults().active.params::<super::super::WildcardListenDefault>().unwrap().clone()
    }

    fn found(text: &str, format: Format) -> Vec<(String, String)> {
        listen_entries(text, format, &params())
            .into_iter()
            .map(|e| {
                assert_eq!(&text[e.range.clone()].trim_matches(['"', '\'']), &e.value);
                (e.key, e.value)
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn toml_keys_and_tables() {
        let text = "listen_address = \"0.0.0.0:8071\"\n[server]\nip = \"0.0.0.0\"\nport = 80\n[db]\nip = \"0.0.0.0\"\n[upstream]\nhost = \"0.0.0.0\"\n[metrics]\nbind = [\"[::]:9090\", \"127.0.0.1:9091\"]\n";
        assert_eq!(
            found(text, Format::Toml),
            pairs(&[("listen_address", "0.0.0.0:8071"), ("server.ip", "0.0.0.0"), ("metrics.bind", "[::]:9090")])
        );
        assert!(found("listen = \"0.0.0.0\n", Format::Toml).is_empty(), "malformed TOML yields nothing");
    }

    #[test]
    fn yaml_lines() {
        let text = "application:\n  port: 8000\n  host: 0.0.0.0 # every interface\ndatabase:\n  host: \"0.0.0.0\"\n  listeners:\n    - \"[::]:80\"\n  - name: x\n";
        assert_eq!(
            found(text, Format::Yaml),
            pairs(&[("application.host", "0.0.0.0"), ("database.host", "0.0.0.0"), ("database.listeners", "[::]:80")])
        );
    }

    #[test]
    fn env_and_ini_lines() {
        let text = "# defaults\nexport LISTEN_ADDR=:9100\nDATABASE_URL=postgres://0.0.0.0:5432/x\n[web]\nhost = '::'\n";
        assert_eq!(found(text, Format::Env), pairs(&[("LISTEN_ADDR", ":9100"), ("web.host", "::")]));
    }

    #[test]
    fn shell_defaults() {
        let text = "#!/bin/bash\nset -e\ncat >/etc/agent.env <<EOF\nAGENT_LISTEN_ADDR=${AGENT_LISTEN_ADDR:-0.0.0.0:8000}\nHOST=\"${HOST-::}\"\nPEER=${PEER:-127.0.0.1:1}\nEOF\n";
        assert_eq!(Format::sniff(text), Some(Format::Env));
        let found = listen_entries(text, Format::Env, &params());
        let values: Vec<(&str, &str)> = found.iter().map(|e| (e.key.as_str(), &text[e.range.clone()])).collect();
        assert_eq!(values, [("AGENT_LISTEN_ADDR", "0.0.0.0:8000"), ("HOST", "::")]);
    }

    #[test]
    fn json_objects() {
        let text = "{\n  \"server\": {\n    \"host\": \"0.0.0.0\",\n    \"peers\": [\"0.0.0.0:1\"]\n  },\n  \"proxy\": { \"listen\": \":8080\" }\n}\n";
        assert_eq!(found(text, Format::Json), pairs(&[("server.host", "0.0.0.0")]));
    }

    #[test]
    fn sniffing() {
        assert_eq!(Format::sniff("a = 1\n[b]\nc = \"x\"\n"), Some(Format::Toml));
        assert_eq!(Format::sniff("a:\n  b: c\n"), Some(Format::Yaml));
        assert_eq!(Format::sniff("A=x y\nB=2\n"), Some(Format::Env));
        assert_eq!(Format::sniff("SELECT * FROM t\nWHERE x = 1\n"), None);
        assert_eq!(Format::sniff("listen = 0.0.0.0"), None);
        assert_eq!(Format::of_path("../config.default.toml"), Some(Format::Toml));
        assert_eq!(Format::of_path("x/.env.example"), Some(Format::Env));
        assert_eq!(Format::of_path("schema.sql"), None);
    }
}
