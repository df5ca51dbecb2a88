//! Precision and recall on real code: `GATELINT_CORPUS=<dir> cargo bench --bench
//! labelled`. `<dir>` holds clones of the repositories in
//! `benches/data/<set>-repos.tsv` (one folder per `name`, at the listed commit;
//! their code is never part of this repository), `benches/data/<set>-labels.tsv`
//! the hand labels: each finding judged TP or FP by reading the code, and each real
//! case gatelint misses as FN. The bench checks every repository with every table
//! guarded and prints, per rule, the findings at labelled locations, unlabelled
//! findings (to label), precision and recall by location. `GATELINT_LABELS=<set>`
//! picks the set: `real-code` (the default, the set the rules were tuned on) or
//! `held-out-2` (labelled once, before the rules saw it). Without `GATELINT_CORPUS`
//! it says how to run and stops.

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
    std::fs::write(&config, "[rules.non-idempotent-insert]\ntables = [\"*\"]\n").expect("temporary config");
    // (repo, rule, file:line) → label
    let mut labels: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let set = std::env::var("GATELINT_LABELS").unwrap_or_else(|_| "real-code".to_string());
    for line in std::fs::read_to_string(data.join(format!("{set}-labels.tsv"))).expect("labels").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [repo, rule, location, label, ..] = cols[..] {
            labels.insert((repo.into(), rule.into(), location.into()), label.into());
        }
    }
    let mut found: BTreeSet<(String, String, String)> = BTreeSet::new();
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
            let Some(rule) = rest.split_once('[').and_then(|(_, r)| r.split_once(']')).map(|(r, _)| r) else {
                continue;
            };
            found.insert((name.to_string(), rule.to_string(), format!("{path}:{line}")));
        }
    }
    println!(
        "| rule | TP found | FP found | FN (labelled misses + TPs not found) | unlabelled findings | precision | recall |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for rule in ["non-idempotent-insert", "wildcard-listen-default", "direct-provisioner-call"] {
        let of_rule = |k: &(String, String, String)| k.1 == rule;
        let label_of = |k: &(String, String, String)| labels.get(k).map(String::as_str);
        let tp = found.iter().filter(|k| of_rule(k) && label_of(k) == Some("TP")).count();
        let fp = found.iter().filter(|k| of_rule(k) && label_of(k) == Some("FP")).count();
        let unlabelled: Vec<_> = found.iter().filter(|k| of_rule(k) && label_of(k).is_none()).collect();
        let fn_ =
            labels.iter().filter(|(k, l)| of_rule(k) && (*l == "FN" || *l == "TP") && !found.contains(*k)).count();
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
