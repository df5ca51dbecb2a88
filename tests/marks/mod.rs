//! The inline annotations of fixture files, shared by the fixture harnesses
//! (`tests/fixtures.rs`, `tests/against.rs`): `//~ RULE` in Rust, `#~ RULE` in
//! configuration files (and configuration text inside Rust strings), `--~ RULE` in SQL;
//! `todo:`, `mutant:` and `hatch:` before the rule ids mark known misses, mutants and
//! escape hatches.

use gatelint::input::comments::lex_comments;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    Expect,
    Todo,
    Mutant,
    Hatch,
}

/// (line, mark, rule) for every `#~` annotation: in a configuration file
/// (`gatelint.toml`, an embedded `config.default.toml`, YAML, `.env`), or on a line
/// of configuration text inside a Rust string.
fn hash_annotations(text: &str) -> Vec<(usize, Mark, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some((_, body)) = line.split_once("#~") {
            let (mark, rules) = mark_of(body.trim());
            for rule in rules.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                out.push((i + 1, mark, rule.to_string()));
            }
        }
    }
    out
}

/// (line, mark, rule) for every `--~` annotation of a SQL file (a migration).
fn sql_annotations(text: &str) -> Vec<(usize, Mark, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some((_, body)) = line.split_once("--~") {
            let (mark, rules) = mark_of(body.trim());
            for rule in rules.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                out.push((i + 1, mark, rule.to_string()));
            }
        }
    }
    out
}

/// The annotated files of a fixture folder that are configuration files.
pub const CONFIG_EXTENSIONS: &[&str] = &["toml", "yaml", "yml", "json", "ini", "env"];

/// Whether a file is a configuration file: by its extension, or an environment
/// file (`.env`, `.env.example`).
pub fn is_config_file(file: &Path) -> bool {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    file.extension().is_some_and(|e| CONFIG_EXTENSIONS.iter().any(|c| e == *c))
        || name == ".env"
        || name.starts_with(".env.")
        || name == "Dockerfile"
        || name.starts_with("Dockerfile.")
}

pub fn file_annotations(file: &Path, text: &str) -> Vec<(usize, Mark, String)> {
    if file.extension().is_some_and(|e| e == "sql") {
        sql_annotations(text)
    } else if is_config_file(file) {
        hash_annotations(text)
    } else {
        let mut marks = annotations(text);
        marks.extend(hash_annotations(text));
        marks
    }
}

/// The mark and the rules of an annotation's text (after `//~` or `#~`).
fn mark_of(body: &str) -> (Mark, &str) {
    if let Some(r) = body.strip_prefix("todo:") {
        (Mark::Todo, r)
    } else if let Some(r) = body.strip_prefix("mutant:") {
        (Mark::Mutant, r)
    } else if let Some(r) = body.strip_prefix("hatch:") {
        (Mark::Hatch, r)
    } else {
        (Mark::Expect, body)
    }
}

/// (line, mark, rule) for every `//~` annotation of a file.
pub fn annotations(text: &str) -> Vec<(usize, Mark, String)> {
    let mut out = Vec::new();
    for c in lex_comments(text) {
        // `//~ …` alone, or after another comment's text (`// marker //~ hatch: rule`).
        let body = c.body.trim();
        let Some(body) = body.strip_prefix('~').or_else(|| body.split_once("//~").map(|(_, rest)| rest)) else {
            continue;
        };
        let line = text[..c.start].matches('\n').count() + 1;
        let (mark, rules) = mark_of(body.trim());
        for rule in rules.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            out.push((line, mark, rule.to_string()));
        }
    }
    out
}
