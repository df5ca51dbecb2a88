//! Throughput benchmark: `cargo bench --bench throughput` (add `-- --quick` for a
//! smaller generated corpus). For each corpus it prints lines, the parse floor
//! (read + `syn::parse_file` + one visitor pass, 2 threads) and `gatelint check`
//! with every rule on: cold (empty cache), warm (unchanged), and warm with one file
//! changed, with wall time, lines/s, CPU time (user + system, as a ratio to the
//! floor's) and peak RSS of the gatelint process. Floor and cold runs alternate for
//! three rounds and the medians are reported.
//!
//! The floor is measured twice: with the system allocator (the floor the performance
//! targets in `docs/performance.md` are stated against) and with jemalloc, the
//! allocator gatelint's binaries use (`benches/floor_jemalloc.rs`), so what the
//! allocator buys shows separately.
//!
//! `-- --floor DIR` runs the floor alone, once, over DIR (for `valgrind --tool=callgrind`).
//!
//! Corpora: (1) the cargo registry sources of gatelint's dependency tree (after
//! `cargo fetch`), (2) a generated, deterministic handler-style corpus of 1.5 M lines
//! (50 k with `--quick`) under `target/bench-corpus/`.

mod release;

mod common;

use common::{floor, rs_files};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The jemalloc floor over `dir`, in a process of its own: (wall, CPU) seconds.
fn floor_jemalloc(dir: &Path) -> Option<(f64, f64)> {
    let out = Command::new(env!("CARGO"))
        .args(["bench", "--quiet", "--features", "jemalloc", "--bench", "floor_jemalloc", "--"])
        .arg(dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    // "floor: N lines in W s (C s CPU)"
    let text = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = text.split_whitespace().collect();
    let wall = words.get(4)?.parse().ok()?;
    let cpu = words.get(6)?.trim_start_matches('(').parse().ok()?;
    Some((wall, cpu))
}

/// Runs the release binary, returning (seconds, peak RSS in MB and CPU seconds when
/// measurable).
fn gatelint(bin: &Path, root: &Path, cache: &Path) -> (f64, Option<f64>, Option<f64>) {
    let time = Path::new("/usr/bin/time");
    let start = Instant::now();
    let out = if time.exists() {
        Command::new(time)
            .args(["-f", "%M %U %S"])
            .arg(bin)
            .args(["check", "--no-config", "--quiet", "--format", "concise", "-j", "2"])
            .arg(root)
            .env("GATELINT_CACHE_DIR", cache)
            .output()
            .expect("runs")
    } else {
        Command::new(bin)
            .args(["check", "--no-config", "--quiet", "--format", "concise", "-j", "2"])
            .arg(root)
            .env("GATELINT_CACHE_DIR", cache)
            .output()
            .expect("runs")
    };
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let measured: Vec<f64> =
        stderr.lines().last().unwrap_or("").split_whitespace().filter_map(|x| x.parse().ok()).collect();
    match measured.as_slice() {
        [kb, user, sys] => (secs, Some(kb / 1024.0), Some(user + sys)),
        _ => (secs, None, None),
    }
}

/// A deterministic handler-style corpus: axum/sqlx handlers, loops, constants,
/// config structs, some of them buggy. `files` files of ~`lines_per_file` lines.
fn generate(dir: &Path, files: usize) {
    let marker = dir.join(format!(".generated-{files}"));
    if marker.exists() {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..files {
        let module = dir.join(format!("src/handlers/h{:03}", i / 50));
        std::fs::create_dir_all(&module).unwrap();
        let mut text = String::from("use sqlx::PgPool;\nuse uuid::Uuid;\nuse std::net::SocketAddr;\n\n");
        text.push_str(&format!("pub const TABLE_{i}: &str = \"workspace_audit_{i}\";\n\n"));
        for f in 0..40 {
            let shape = next() % 8;
            let body = match shape {
                0 => "    for child in children {\n        if lookup_existing_child(pool, parent, &child.name).await?.is_some() {\n            continue;\n        }\n        sqlx::query(\"INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3)\")\n            .bind(Uuid::new_v4())\n            .bind(parent)\n            .bind(&child.name)\n            .execute(pool)\n            .await?;\n    }\n".to_string(),
                1 => "    let rows = sqlx::query(\"SELECT id, name FROM workspaces WHERE parent_id = $1\")\n        .bind(parent)\n        .fetch_all(pool)\n        .await?;\n    for row in rows {\n        tracing::info!(\"workspace {:?}\", row);\n    }\n".to_string(),
                2 => "    let listen = std::env::var(\"METRICS_LISTEN_ADDR\").unwrap_or_else(|_| \"127.0.0.1:9100\".to_string());\n    let addr: SocketAddr = listen.parse().expect(\"address\");\n    tracing::debug!(%addr, \"metrics\");\n".to_string(),
                3 => "    self.stop_workspace_auto(parent).await?;\n    self.mark_paused(parent).await?;\n".to_string(),
                4 => format!("    let total: i64 = children.iter().map(|c| c.name.len() as i64).sum();\n    if total > {} {{\n        return Err(anyhow::anyhow!(\"too many\"));\n    }}\n", next() % 1000),
                5 => "    sqlx::query(\"UPDATE workspaces SET status = 'paused' WHERE id = $1\").bind(parent).execute(pool).await?;\n".to_string(),
                6 => "    let mut names = std::collections::HashMap::new();\n    for (i, c) in children.iter().enumerate() {\n        names.insert(c.name.clone(), i);\n    }\n    drop(names);\n".to_string(),
                _ => "    if let Some(cp) = &self.cp_prov {\n        tracing::info!(\"saas: {}\", cp.region());\n    }\n".to_string(),
            };
            text.push_str(&format!(
                "/// Handler {i}.{f}.\npub async fn handler_{i}_{f}(&self, pool: &PgPool, parent: Uuid, children: &[Node]) -> anyhow::Result<()> {{\n{body}    Ok(())\n}}\n\n"
            ));
        }
        std::fs::write(module.join(format!("handler_{i}.rs")), text).unwrap();
    }
    std::fs::write(marker, "").unwrap();
}

fn main() {
    // `--floor DIR`: the floor alone, once (for instruction counts under
    // `valgrind --tool=callgrind`, which are repeatable where wall times are not).
    let args: Vec<String> = std::env::args().collect();
    if let Some(dir) = args.iter().position(|a| a == "--floor").and_then(|i| args.get(i + 1)) {
        let (secs, lines, cpu) = floor(&rs_files(Path::new(dir)));
        println!("floor: {lines} lines in {secs:.2} s ({cpu:.2} s CPU)");
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = release::gatelint_release();
    let generated = root.join("target/bench-corpus");
    // 3 900 files ≈ 1.5 M lines: the size the memory target is stated for.
    generate(&generated, if quick { 130 } else { 3900 });
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    let mut corpora = vec![("generated handlers".to_string(), generated.clone())];
    if let Ok(entries) = std::fs::read_dir(cargo_home.join("registry/src")) {
        for e in entries.flatten() {
            corpora.push(("cargo registry (dependency sources)".to_string(), e.path()));
        }
    }
    println!(
        "| corpus | lines | floor s | floor lines/s | cold s | cold/floor | cold CPU/floor CPU | cold/jemalloc floor | cold CPU/jemalloc floor CPU | cold lines/s | warm s | cold/warm | one change s | peak RSS MB |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, dir) in corpora {
        let files = rs_files(&dir);
        if files.is_empty() {
            continue;
        }
        // Floor and cold runs alternate, three rounds; the medians are reported.
        let cache = std::env::temp_dir().join(format!("gatelint-bench-cache-{}", std::process::id()));
        let mut floors = Vec::new();
        let mut je_floors = Vec::new();
        let mut colds = Vec::new();
        let mut cpu_ratios = Vec::new();
        let mut je_cpu_ratios = Vec::new();
        let mut rss = None;
        let mut lines = 0;
        for _ in 0..3 {
            let (f, l, floor_cpu) = floor(&files);
            floors.push(f);
            lines = l;
            let je = floor_jemalloc(&dir);
            let _ = std::fs::remove_dir_all(&cache);
            let (c, r, cpu) = gatelint(&bin, &dir, &cache);
            colds.push(c);
            if let Some(cpu) = cpu.filter(|_| floor_cpu > 0.0) {
                cpu_ratios.push(cpu / floor_cpu);
            }
            if let Some((je_wall, je_cpu)) = je {
                je_floors.push(je_wall);
                if let Some(cpu) = cpu.filter(|_| je_cpu > 0.0) {
                    je_cpu_ratios.push(cpu / je_cpu);
                }
            }
            rss = rss.max(r.map(|x| x as u64)).or(rss);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (floor_s, cold) = (median(&mut floors), median(&mut colds));
        let ratio = |v: &mut Vec<f64>| if v.is_empty() { "n/a".to_string() } else { format!("{:.2}", median(v)) };
        let cpu_ratio = ratio(&mut cpu_ratios);
        let je_cpu_ratio = ratio(&mut je_cpu_ratios);
        let je_ratio =
            if je_floors.is_empty() { "n/a".to_string() } else { format!("{:.2}", cold / median(&mut je_floors)) };
        let rss = rss.map(|r| r as f64);
        let (warm, _, _) = gatelint(&bin, &dir, &cache);
        // One changed file: append a comment, re-run, restore.
        let victim = &files[files.len() / 2];
        let original = std::fs::read(victim).unwrap();
        let mut changed = original.clone();
        changed.extend_from_slice(b"\n// bench: changed\n");
        let writable = std::fs::write(victim, &changed).is_ok();
        let (one, _, _) = if writable { gatelint(&bin, &dir, &cache) } else { (f64::NAN, None, None) };
        if writable {
            std::fs::write(victim, original).unwrap();
        }
        let _ = std::fs::remove_dir_all(&cache);
        println!(
            "| {name} | {lines} | {floor_s:.2} | {:.0} | {cold:.2} | {:.2} | {cpu_ratio} | {je_ratio} | {je_cpu_ratio} | {:.0} | {warm:.2} | {:.1}x | {one:.2} | {} |",
            lines as f64 / floor_s,
            cold / floor_s,
            lines as f64 / cold,
            cold / warm,
            rss.map_or("n/a".to_string(), |r| format!("{r:.0}"))
        );
    }
}
