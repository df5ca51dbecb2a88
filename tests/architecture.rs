//! The source layout's dependencies point one way, as docs/architecture.md draws them:
//! messages → input → facts → rules → report / config → engine → server → cli. A
//! module may use only modules of lower stages; modules of one stage do not form a
//! cycle; the core (input, facts, report, config, engine) names no rule. Read from the
//! `crate::` paths of the sources, test modules and comments left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stages, lowest first; a module may use modules of lower stages only.
const STAGES: &[&[&str]] =
    &[&["messages"], &["input"], &["facts"], &["rules"], &["report", "config"], &["engine"], &["server"], &["cli"]];

fn stage(top: &str) -> Option<usize> {
    STAGES.iter().position(|s| s.contains(&top))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path below `src/` (`input::parse`, `rules::non_idempotent_insert::extract`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without its test module and comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Every module path `code` names, as segments from the crate root: `crate::a::b`,
/// the members of `crate::{a, b::c}` groups, and `super::…` paths resolved against
/// `module`, the file's own module path (`a::b` for `a/b.rs` and for `a/b/mod.rs`,
/// whose `super` is `a` either way).
fn crate_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let split = |p: &str| -> Vec<String> { p.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect() };
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        // (`$crate::` in a macro is the crate too.)
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(inner.split(',').map(|p| split(p.trim().split(' ').next().unwrap_or(""))));
        } else {
            out.push(split(&rest.chars().take_while(|c| ident(*c)).collect::<String>()));
        }
    }
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with("::") {
            continue; // `super::super::` is read from its first `super`
        }
        let mut base: Vec<String> = module.to_vec();
        let mut rest = &code[at..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        let path: String = rest.chars().take_while(|c| ident(*c)).collect();
        base.extend(split(&path));
        out.push(base);
    }
    out.retain(|p| !p.is_empty());
    out
}

/// The module-level graph: (module, used module), modules two segments deep.
fn graph() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = BTreeSet::new();
    for file in files {
        let module = module_of(&src, &file);
        if module.first().is_none_or(|m| m == "lib" || m == "main" || m == "bin") {
            continue;
        }
        let node = |parts: &[String]| parts.iter().take(2).cloned().collect::<Vec<_>>().join("::");
        let from = node(&module);
        for path in crate_paths(&code(&std::fs::read_to_string(&file).unwrap()), &module) {
            // Items (`crate::rules::Rule`) count as their module: only lower-case segments.
            let modules: Vec<String> =
                path.into_iter().take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_lowercase())).collect();
            let to = node(&modules);
            if !to.is_empty() && to != from {
                edges.insert((from.clone(), to));
            }
        }
    }
    edges
}

fn top(node: &str) -> &str {
    node.split("::").next().unwrap()
}

#[test]
fn modules_use_only_lower_stages() {
    let mut wrong = Vec::new();
    for (from, to) in graph() {
        let (a, b) = (top(&from), top(&to));
        if a == b {
            continue;
        }
        let (Some(sa), Some(sb)) = (stage(a), stage(b)) else {
            wrong.push(format!("{from} -> {to}: a top-level module missing from STAGES"));
            continue;
        };
        if sb >= sa {
            wrong.push(format!("{from} -> {to}"));
        }
    }
    assert!(wrong.is_empty(), "dependencies against the pipeline's direction:\n{}", wrong.join("\n"));
}

#[test]
fn modules_of_one_stage_form_no_cycle() {
    let edges = graph();
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in &edges {
        if top(from) == top(to) {
            next.entry(from).or_default().push(to);
        }
    }
    // Depth-first search for a back edge.
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            return Some(path[at..].iter().map(|s| s.to_string()).chain([node.to_string()]).collect());
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for n in next.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(n, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in next.keys() {
        if let Some(cycle) = visit(node, &next, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_core_names_no_rule() {
    let rule_modules: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| format!("rules::{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    assert!(rule_modules.len() >= 7, "{rule_modules:?}");
    // The engine emits parse-error findings and, comparing with a base revision,
    // config-weakened ones; the suppressions their own two rules (and never call an
    // accepted config-weakened finding unused).
    let allowed = [
        "engine -> rules::parse_error",
        "engine -> rules::config_weakened",
        "report -> rules::invalid_suppression",
        "report -> rules::unused_suppression",
        "report -> rules::config_weakened",
    ];
    let mut wrong = Vec::new();
    for (from, to) in graph() {
        let core = ["input", "facts", "report", "config", "engine"].contains(&top(&from));
        let edge = format!("{} -> {to}", top(&from));
        if core && rule_modules.contains(&to) && !allowed.contains(&edge.as_str()) {
            wrong.push(format!("{from} -> {to}"));
        }
    }
    assert!(wrong.is_empty(), "the core names a rule:\n{}", wrong.join("\n"));
}

#[test]
fn the_graph_is_read() {
    // The reader itself must see the edges it checks, or the tests above prove nothing.
    let edges = graph();
    assert!(edges.contains(&("engine".to_string(), "input::discover".to_string())), "{edges:?}");
    assert!(edges.contains(&("rules::non_idempotent_insert".to_string(), "facts::sql".to_string())), "{edges:?}");
    assert!(edges.len() > 50, "{}", edges.len());
    // `super::` paths: the engine's stages use each other through `super::`.
    assert!(edges.contains(&("engine::finish".to_string(), "engine::crate_check".to_string())), "{edges:?}");
    assert_eq!(
        crate_paths("use crate::{input::source, rules::Rule as R};", &["engine".into()]),
        [vec!["input".to_string(), "source".to_string()], vec!["rules".to_string(), "Rule".to_string()]]
    );
}
