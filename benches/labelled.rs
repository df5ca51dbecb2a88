//! Precision and recall on real code: `GATELINT_CORPUS=<dir> cargo bench --bench
//! labelled`. `<dir>` holds clones of the repositories in
//! `benches/data/<set>-repos.tsv` (one folder per `name`, at the listed commit;
//! their code is never part of this repository), `benches/data/<set>-labels.tsv`
//! the hand labels: each finding judged TP or FP by reading the code, and each real
//! case gatelint misses as FN. The bench checks every repository with every table
//! guarded and prints, per rule, the findings at labelled locations, unlabelled
//! findings (to label), precision and recall by location (a location whose findings
//! name several tables is a real case when a table found there is labelled one:
//! `[table]` before a label's reason says which). `GATELINT_LABELS=<set>`
//! picks the set: `real-code` (the default, the set the rules were tuned on),
//! `held-out-2` … `held-out-9` (each labelled once, before the rules saw it).
//! `GATELINT_TESTS=1` checks test code too (`include-tests = true`); without it, labels
//! whose reason starts with `test:` (after the `[table]`), which are about test code,
//! are left out. Without `GATELINT_CORPUS` it says how to run and stops.

mod release;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn main() {
    let Some(corpus) = std::env::var_os("GATELINT_CORPUS") else {
        println!("set GATELINT_CORPUS to a folder with the repositories of benches/data/<set>-repos.tsv");
        return;
    };
    let corpus = Path::new(&corpus);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data");
    let bin = release::gatelint_release();
    let config = std::env::temp_dir().join("gatelint-labelled.toml");
    let with_tests = std::env::var_os("GATELINT_TESTS").is_some_and(|v| v == "1");
    let include_tests = if with_tests { "include-tests = true\n" } else { "" };
    std::fs::write(&config, format!("{include_tests}[rules.non-idempotent-insert]\ntables = [\"*\"]\n"))
        .expect("temporary config");
    // (repo, rule, file:line) → the labels there, by table (`[t]` before the reason
    // names the table a label is about; `None`: any table).
    let mut labels: BTreeMap<Key, Vec<(Option<String>, String)>> = BTreeMap::new();
    let set = std::env::var("GATELINT_LABELS").unwrap_or_else(|_| "real-code".to_string());
    for line in std::fs::read_to_string(data.join(format!("{set}-labels.tsv"))).expect("labels").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [repo, rule, location, label, ref rest @ ..] = cols[..] {
            let why = rest.first().copied().unwrap_or_default();
            let table = why.strip_prefix('[').and_then(|w| w.split_once(']'));
            let about_tests = table.map_or(why, |(_, w)| w.trim_start()).starts_with("test:");
            if about_tests && !with_tests {
                continue;
            }
            let table = table.map(|(t, _)| t.to_string());
            labels.entry((repo.into(), rule.into(), location.into())).or_default().push((table, label.into()));
        }
    }
    // (repo, rule, file:line) → the tables its findings name (`None` for other rules).
    let mut found: BTreeMap<Key, BTreeSet<Option<String>>> = BTreeMap::new();
    for line in std::fs::read_to_string(data.join(format!("{set}-repos.tsv"))).expect("repos").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, _, _, paths] = cols[..] else { continue };
        let dir = corpus.join(name);
        if !dir.is_dir() {
            println!("{name}: not in {} (skipped)", corpus.display());
            continue;
        }
        let out = Command::new(&bin)
            .args(["check", "--no-cache", "--format", "concise", "-j", "2", "--config"])
            .arg(&config)
            .args(paths.split(' '))
            .current_dir(&dir)
            .output()
            .expect("gatelint runs");
        for finding in String::from_utf8_lossy(&out.stdout).lines() {
            // `path:line:col: severity[rule]: message`
            let mut parts = finding.splitn(4, ':');
            let (Some(path), Some(line), Some(_), Some(rest)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Some((rule, message)) = rest.split_once('[').and_then(|(_, r)| r.split_once(']')) else {
                continue;
            };
            let table =
                message.split_once("INSERT INTO `").and_then(|(_, t)| t.split_once('`')).map(|(t, _)| t.to_string());
            found.entry((name.to_string(), rule.to_string(), format!("{path}:{line}"))).or_default().insert(table);
        }
    }
    println!(
        "| rule | TP found | FP found | FN (labelled misses + TPs not found) | unlabelled findings | precision | recall |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let real = |l: &str| l == "TP" || l == "FN";
    for rule in ["non-idempotent-insert", "wildcard-listen-default", "direct-provisioner-call"] {
        let (mut tp, mut fp, mut unlabelled) = (0, 0, Vec::new());
        for (k, tables) in found.iter().filter(|(k, _)| k.1 == rule) {
            match verdict(labels.get(k).map_or(&[][..], Vec::as_slice), tables) {
                Some(true) => tp += 1,
                Some(false) => fp += 1,
                None => unlabelled.push(k),
            }
        }
        let fn_ = labels
            .iter()
            .filter(|(k, ls)| k.1 == rule && ls.iter().any(|(_, l)| real(l)) && !found.contains_key(*k))
            .count();
        let ratio = |a: usize, b: usize| {
            if b == 0 { "–".to_string() } else { format!("{:.0} %", 100.0 * a as f64 / b as f64) }
        };
        println!(
            "| {rule} | {tp} | {fp} | {fn_} | {} | {} | {} |",
            unlabelled.len(),
            ratio(tp, tp + fp),
            ratio(tp, tp + fn_)
        );
        for k in unlabelled {
            println!("  unlabelled: {} {}", k.0, k.2);
        }
    }
}

type Key = (String, String, String);

/// A location's verdict from its labels and the tables found there: true (a real
/// case) when a table found there is labelled TP or FN, false when every one is
/// labelled FP, `None` when one is not labelled. A label without a table speaks
/// for every table, and so does the only label of a location.
fn verdict(labels: &[(Option<String>, String)], tables: &BTreeSet<Option<String>>) -> Option<bool> {
    let label_of = |table: &Option<String>| {
        labels
            .iter()
            .find(|(t, _)| t.is_some() && t == table)
            .or_else(|| labels.iter().find(|(t, _)| t.is_none()))
            .or_else(|| if labels.len() == 1 { labels.first() } else { None })
            .map(|(_, l)| l.as_str())
    };
    let got: Vec<Option<&str>> = tables.iter().map(label_of).collect();
    if got.iter().any(|l| matches!(l, Some("TP" | "FN"))) {
        Some(true)
    } else if !got.is_empty() && got.iter().all(|l| *l == Some("FP")) {
        Some(false)
    } else {
        None
    }
}
