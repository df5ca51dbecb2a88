//! The INSERT gate's call graph at growing sizes: `cargo bench --bench callgraph` (add
//! `-- --quick` for fewer). Generates one cargo package per size under
//! `target/bench-callgraph/` whose calls form long chains — free functions calling the
//! next by path, and methods named alike (`save` on every type) calling the next
//! type's through a field of declared type — each call inside a loop, the last link
//! inserting. Prints the time of the crate-wide stages (`GATELINT_TIMINGS`: the crate
//! index and name model, the rules) per call edge: near-constant means near-linear.

mod release;

use std::path::Path;
use std::process::Command;

/// A package with `links` free functions and `links` types, in files of 100 each.
fn generate(dir: &Path, links: usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src/chain")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"callgraph\"\nversion = \"0.1.0\"\n").unwrap();
    let files = links.div_ceil(100);
    let mut chain_mod = String::new();
    for file in 0..files {
        chain_mod.push_str(&format!("pub mod c{file};\n"));
        let mut text = String::from("use crate::chain::*;\n");
        for i in file * 100..((file + 1) * 100).min(links) {
            let next = i + 1;
            let (call, method_call) = if next < links {
                (
                    format!("for n in names {{ crate::chain::c{}::step_{next}(pool, names).await?; }}", next / 100),
                    "for n in names { self.next.save(pool, names).await?; }".to_string(),
                )
            } else {
                let insert = "sqlx::query(\"INSERT INTO items (name) VALUES ($1)\").execute(pool).await?;";
                (insert.to_string(), insert.to_string())
            };
            let next_type =
                if next < links { format!("crate::chain::c{}::Link{next}", next / 100) } else { "()".into() };
            text.push_str(&format!(
                "pub async fn step_{i}(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {{\n    {call}\n    Ok(())\n}}\n\n\
                 pub struct Link{i} {{ next: {next_type} }}\n\n\
                 impl Link{i} {{\n    pub async fn save(&self, pool: &PgPool, names: &[String]) -> sqlx::Result<()> {{\n        {method_call}\n        Ok(())\n    }}\n}}\n\n"
            ));
        }
        std::fs::write(dir.join(format!("src/chain/c{file}.rs")), text).unwrap();
    }
    std::fs::write(dir.join("src/chain/mod.rs"), chain_mod).unwrap();
    std::fs::write(dir.join("src/lib.rs"), "pub mod chain;\n").unwrap();
    std::fs::write(dir.join("bench.toml"), "[rules.non-idempotent-insert]\ntables = [\"*\"]\n").unwrap();
}

/// (seconds of the crate-wide stages, findings) of one run over `dir`.
fn run(bin: &Path, dir: &Path) -> (f64, usize) {
    let out = Command::new(bin)
        .args(["check", "--no-cache", "--quiet", "--format", "concise", "-j", "2", "--config", "bench.toml", "."])
        .env("GATELINT_TIMINGS", "1")
        .current_dir(dir)
        .output()
        .expect("gatelint runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ms: f64 = stderr
        .lines()
        .filter(|l| l.contains("crate index") || l.contains(": rules"))
        .filter_map(|l| l.split_whitespace().rev().nth(1)?.parse::<f64>().ok())
        .sum();
    (ms / 1000.0, String::from_utf8_lossy(&out.stdout).lines().count())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = release::gatelint_release();
    let sizes: &[usize] = if quick { &[1_000, 2_000, 4_000] } else { &[2_000, 4_000, 8_000, 16_000, 32_000] };
    println!("| links | call edges | findings | crate-wide stages s | µs per edge |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for &links in sizes {
        let dir = root.join(format!("target/bench-callgraph/n{links}"));
        generate(&dir, links);
        let mut times: Vec<f64> = Vec::new();
        let mut findings = 0;
        for _ in 0..3 {
            let (secs, found) = run(&bin, &dir);
            times.push(secs);
            findings = found;
        }
        times.sort_by(f64::total_cmp);
        let edges = 2 * (links - 1);
        // Every call in a loop reaches the INSERT at the end of its chain.
        assert_eq!(findings, edges, "n = {links}: every call reaches the INSERT");
        println!("| {links} | {edges} | {findings} | {:.3} | {:.2} |", times[1], times[1] * 1e6 / edges as f64);
    }
}
