//! The configuration compared with the base revision's: each change that weakens a
//! gate, at its place in the working tree's `gatelint.toml`.

use crate::rules::diagnostic::Severity;
use crate::rules::meta::Weakening;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One change that weakens a gate: where it is in the working tree's configuration
/// text, what it is, and what the changed key does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weakened {
    pub span: Range<usize>,
    pub message: String,
    pub label: String,
    /// What the changed key does (its documentation in the rule's defaults).
    pub note: Option<String>,
}

/// One side's configuration, as the comparison reads it.
pub struct Settings<'a> {
    pub include_tests: bool,
    pub exclude: &'a [String],
    /// Each rule's severity (`None`: off) and merged parameters.
    pub rules: std::collections::BTreeMap<&'static str, (Option<Severity>, &'a toml::Table)>,
    /// The configuration file's text, for the keys rules read from it; `None`: no file.
    pub text: Option<&'a str>,
}

/// Both sides of the comparison.
pub struct Sides<'a> {
    pub base: &'a Settings<'a>,
    /// The base revision as the user named it (`origin/main`).
    pub rev: &'a str,
    pub current: &'a Settings<'a>,
}

/// Every change from `base` to `current` that weakens a gate, in file order.
/// `removed_by(glob)` is how many checked files an added `exclude` glob removes.
pub fn weakenings(sides: &Sides, removed_by: &dyn Fn(&str) -> usize) -> Vec<Weakened> {
    let Sides { base, rev, current } = *sides;
    let current_text = current.text.unwrap_or("");
    let doc = DeTable::parse(current_text).ok();
    let spans = Spans { text: current_text, doc: doc.as_ref().map(|d| d.get_ref()) };
    let mut out = Vec::new();

    if base.include_tests && !current.include_tests {
        out.push(Weakened {
            span: spans.value(&["include-tests"]).unwrap_or(0..0),
            message: format!("`include-tests` is off here (on at {rev}): test code is no longer checked"),
            label: "test code no longer checked".into(),
            note: None,
        });
    }
    for glob in current.exclude.iter().filter(|g| !base.exclude.contains(g)) {
        let n = removed_by(glob);
        let what = match n {
            0 => "it removes no file checked today, and every file it matches later".to_string(),
            1 => "1 checked file is no longer checked".to_string(),
            n => format!("{n} checked files are no longer checked"),
        };
        out.push(Weakened {
            span: spans.element(&["exclude"], &toml::Value::String(glob.clone())).unwrap_or(0..0),
            message: format!("`exclude` adds `{glob}` (not at {rev}): {what}"),
            label: "exempts files from every gate".into(),
            note: None,
        });
    }

    for rule in crate::rules::registry() {
        let id = rule.id();
        let (Some(&(was_severity, was_params)), Some(&(now_severity, now_params))) =
            (base.rules.get(id), current.rules.get(id))
        else {
            continue;
        };
        let meta = crate::rules::meta(id);
        // A rule that is off while a key lists nothing (the allowlist's `functions`).
        let empty_key = meta.as_ref().and_then(|m| m.off_while_empty.clone());
        let listed = |side: &Settings| {
            empty_key.as_deref().is_none_or(|key| {
                source_value(side, id, key).is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
            })
        };
        let was_severity = was_severity.filter(|_| listed(base));
        let emptied = now_severity.is_some() && !listed(current);
        let now_severity = now_severity.filter(|_| !emptied);
        let rank = |s: Option<Severity>| match s {
            None => 0,
            Some(Severity::Warning) => 1,
            Some(Severity::Error) => 2,
        };
        let word = |s: Option<Severity>| s.map_or("off", Severity::as_str);
        if rank(now_severity) < rank(was_severity) {
            let span = spans
                .value(&["rules", id, "severity"])
                .or_else(|| spans.value(&["rules", id, "enabled"]))
                .or_else(|| spans.table_header(&format!("rules.{id}")))
                .unwrap_or(0..0);
            let change = match (now_severity, &empty_key) {
                (None, Some(key)) if emptied => format!("turned off (no `{key}` listed)"),
                (None, _) => "turned off".to_string(),
                (Some(_), _) => format!("lowered to {}", word(now_severity)),
            };
            out.push(Weakened {
                span,
                message: format!("`{id}` is {change} here ({} at {rev})", word(was_severity)),
                label: format!("`{id}` {change}"),
                note: None,
            });
        }
        // What a rule that is off reads no longer matters: turning it off is the finding.
        if now_severity.is_none() {
            continue;
        }
        let meta_weakened_by = meta.map(|m| m.weakened_by).unwrap_or_default();
        for (key, how) in &meta_weakened_by {
            let path = ["rules", id, key.as_str()];
            let note = parameter_doc(rule.defaults_toml(), key).map(|d| format!("`{key}`: {d}"));
            let (old, new) = if rule.source_keys().contains(&key.as_str()) {
                (source_value(base, id, key), source_value(current, id, key))
            } else {
                (was_params.get(key.as_str()).cloned(), now_params.get(key.as_str()).cloned())
            };
            let (old, new) = (old.unwrap_or(toml::Value::Array(Vec::new())), new.unwrap_or(toml::Value::Array(Vec::new())));
            let where_key = || spans.value(&path).or_else(|| spans.table_header(&format!("rules.{id}"))).unwrap_or(0..0);
            // A list that weakens its gate either way: what it gains and what it loses.
            let list = old.is_array() || old.is_table() || new.is_array() || new.is_table();
            let directions = match how {
                Weakening::Changing if list => vec![Weakening::Adding, Weakening::Removing],
                how => vec![*how],
            };
            for how in directions {
            match how {
                Weakening::None => {}
                Weakening::Changing => {
                    if old != new {
                        out.push(Weakened {
                            span: where_key(),
                            message: format!("`[rules.{id}] {key}` is {} here ({} at {rev})", show(&new), show(&old)),
                            label: format!("weakens `{id}`"),
                            note: note.clone(),
                        });
                    }
                }
                Weakening::Adding => {
                    // An entry whose `reason` alone changed is the same entry.
                    let old_entries: Vec<toml::Value> = elements(&old).iter().map(without_reason).collect();
                    let added = elements(&new).into_iter().filter(|e| !old_entries.contains(&without_reason(e)));
                    // Added elements with no place of their own (an inline table, a key
                    // spelled another way) are named together at the key.
                    let mut unplaced = Vec::new();
                    for e in added {
                        let Some(span) = spans.element(&path, &e) else {
                            unplaced.push(show(&e));
                            continue;
                        };
                        let message = if e.is_table() {
                            format!("a new `[[rules.{id}.{key}]]` entry (not at {rev}): {}", show(&e))
                        } else {
                            format!("`[rules.{id}] {key}` adds {} (not at {rev})", show(&e))
                        };
                        out.push(Weakened { span, message, label: format!("weakens `{id}`"), note: note.clone() });
                    }
                    if !unplaced.is_empty() {
                        out.push(Weakened {
                            span: where_key(),
                            message: format!("`[rules.{id}] {key}` adds {} (not at {rev})", unplaced.join(", ")),
                            label: format!("weakens `{id}`"),
                            note: note.clone(),
                        });
                    }
                }
                Weakening::Removing => {
                    // Removed elements have no place of their own: one finding at the key
                    // names them all; a removed entry of an array of tables is one each.
                    // (`"*"`, every table, covers whatever was removed beside it.)
                    let every = toml::Value::String("*".into());
                    let removed = |e: &toml::Value| !elements(&new).contains(e) && !elements(&new).contains(&every);
                    let (entries, plain): (Vec<_>, Vec<_>) =
                        elements(&old).into_iter().filter(removed).partition(|e| e.is_table());
                    let mut messages: Vec<String> = entries
                        .iter()
                        .map(|e| format!("a `[[rules.{id}.{key}]]` entry at {rev} is gone: {}", show(e)))
                        .collect();
                    if !plain.is_empty() {
                        let names: Vec<String> = plain.iter().map(show).collect();
                        messages.push(format!("`[rules.{id}] {key}` no longer has {} (at {rev})", names.join(", ")));
                    }
                    for message in messages {
                        out.push(Weakened { span: where_key(), message, label: format!("weakens `{id}`"), note: note.clone() });
                    }
                }
            }
            }
        }
    }
    out.sort_by(|a, b| (a.span.start, &a.message).cmp(&(b.span.start, &b.message)));
    out
}

/// The elements a change adds or removes: an array's elements, a table's keys (as
/// strings), or the value itself.
fn elements(value: &toml::Value) -> Vec<toml::Value> {
    match value {
        toml::Value::Array(a) => a.clone(),
        toml::Value::Table(t) => t.keys().map(|k| toml::Value::String(k.clone())).collect(),
        other => vec![other.clone()],
    }
}

/// An entry of an array of tables without its `reason` (what it says, not what it exempts).
fn without_reason(value: &toml::Value) -> toml::Value {
    match value {
        toml::Value::Table(t) => toml::Value::Table(t.iter().filter(|(k, _)| *k != "reason").map(|(k, v)| (k.clone(), v.clone())).collect()),
        other => other.clone(),
    }
}

/// A value as the reader wrote it: `"x"`, an entry's `key = value` pairs inline.
fn show(value: &toml::Value) -> String {
    match value {
        // An entry's `name` first: it says which entry it is.
        toml::Value::Table(t) => {
            let mut pairs: Vec<(&String, &toml::Value)> = t.iter().collect();
            pairs.sort_by_key(|(k, _)| *k != "name");
            pairs.iter().map(|(k, v)| format!("{k} = {}", show(v))).collect::<Vec<_>>().join(", ")
        }
        toml::Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// A key the rule reads from the configuration text itself (the allowlist's
/// `functions`): its value in `config`'s text.
fn source_value(settings: &Settings, id: &str, key: &str) -> Option<toml::Value> {
    let table: toml::Table = toml::from_str(settings.text?).ok()?;
    table.get("rules")?.get(id)?.get(key).cloned()
}

/// The comment above `key = …` in a rule's defaults file, as one line.
fn parameter_doc(defaults_toml: &str, key: &str) -> Option<String> {
    // Only the `[parameters]` tables hold the keys' documentation.
    let lines: Vec<&str> =
        defaults_toml.lines().skip_while(|l| !l.trim_start().starts_with("[parameters")).collect();
    let at =
        lines.iter().position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key) && !l.starts_with('#'))?;
    let comment: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!comment.is_empty()).then(|| comment.join(" "))
}

/// Positions in the working tree's configuration text.
struct Spans<'a> {
    text: &'a str,
    doc: Option<&'a DeTable<'a>>,
}

impl Spans<'_> {
    fn get(&self, path: &[&str]) -> Option<&Spanned<DeValue<'_>>> {
        let (last, parents) = path.split_last()?;
        let mut table = self.doc?;
        for key in parents {
            match table.get(*key)?.get_ref() {
                DeValue::Table(t) => table = t,
                _ => return None,
            }
        }
        table.get(*last)
    }

    /// The span of the value at `path` (`["rules", id, "severity"]`).
    fn value(&self, path: &[&str]) -> Option<Range<usize>> {
        self.get(path).map(|v| v.span())
    }

    /// The span of the element of the array at `path` equal to `element`; for an
    /// entry of an array of tables, from its `[[…]]` header to its last line.
    fn element(&self, path: &[&str], element: &toml::Value) -> Option<Range<usize>> {
        let DeValue::Array(items) = self.get(path)?.get_ref() else { return None };
        let k = items.iter().position(|item| &to_value(item.get_ref()) == element)?;
        if !element.is_table() {
            return Some(items[k].span());
        }
        let headers = self.headers();
        let name = path.join(".");
        let (start, header_end) = headers.iter().filter(|h| h.2 && h.3 == name).nth(k).map(|h| (h.0, h.1))?;
        // The entry ends at the next header (or the end), without its trailing blank lines.
        let next = headers.iter().map(|h| h.0).find(|&h| h > start).unwrap_or(self.text.len());
        let end = self.text[..next].trim_end().len().max(header_end);
        Some(start..end)
    }

    /// Every table header: (start, end, is an array-of-tables header, dotted name
    /// without quotes or spaces).
    fn headers(&self) -> Vec<(usize, usize, bool, String)> {
        let mut out = Vec::new();
        let mut at = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim();
            let indent = line.len() - line.trim_start().len();
            let (array, inner) = match trimmed.strip_prefix("[[") {
                Some(rest) => (true, rest.split_once("]]").map(|(h, _)| h)),
                None => (false, trimmed.strip_prefix('[').and_then(|l| l.split_once(']')).map(|(h, _)| h)),
            };
            if let Some(inner) = inner {
                let start = at + indent;
                out.push((start, start + trimmed.len(), array, inner.replace(['"', '\'', ' '], "")));
            }
            at += line.len();
        }
        out
    }

    /// The span of a `[name]` table header, spelled with or without quotes.
    fn table_header(&self, name: &str) -> Option<Range<usize>> {
        self.headers().into_iter().find(|h| !h.2 && h.3 == name).map(|h| h.0..h.1)
    }
}

/// A parsed value with its spans dropped.
fn to_value(v: &DeValue) -> toml::Value {
    match v {
        DeValue::String(s) => toml::Value::String(s.to_string()),
        DeValue::Integer(i) => i.to_string().parse::<i64>().map_or_else(|_| toml::Value::String(i.to_string()), toml::Value::Integer),
        DeValue::Float(f) => f.to_string().parse::<f64>().map_or_else(|_| toml::Value::String(f.to_string()), toml::Value::Float),
        DeValue::Boolean(b) => toml::Value::Boolean(*b),
        DeValue::Datetime(d) => toml::Value::Datetime(*d),
        DeValue::Array(a) => toml::Value::Array(a.iter().map(|x| to_value(x.get_ref())).collect()),
        DeValue::Table(t) => toml::Value::Table(t.iter().map(|(k, v)| (k.get_ref().to_string(), to_value(v.get_ref()))).collect()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_of_every_rule_says_how_a_change_weakens_it() {
        for rule in crate::rules::registry() {
            let meta = crate::rules::meta(rule.id()).unwrap();
            let mut keys: Vec<&str> = meta.parameters.keys().map(String::as_str).collect();
            keys.extend(rule.source_keys());
            keys.sort();
            let declared: Vec<&str> = meta.weakened_by.keys().map(String::as_str).collect();
            assert_eq!(declared, keys, "rules/{}.toml: `[weakened-by]` must name every key, and only those", rule.id());
        }
    }
}
