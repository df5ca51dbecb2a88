//! Many unrelated projects in one invocation: `cargo bench --bench projects` (add
//! `-- --quick` for fewer). Generates N cargo packages under `target/bench-projects/`
//! that reuse the same function names — in some packages `create_child` inserts, in
//! others a loop calls a `create_child` of its own that does not — then times one
//! `gatelint check` over all of them against the sum of N separate runs, and compares
//! their findings. One run must cost what the separate runs cost, and find exactly
//! their union: names are followed only into packages a package depends on.

mod release;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Package `k`: 30 handler files; even packages' `create_child` inserts (and their
/// loops are findings), odd packages' does not (and their loops are not).
fn generate(root: &Path, projects: usize) {
    let _ = std::fs::remove_dir_all(root);
    for k in 0..projects {
        let dir = root.join(format!("project_{k}"));
        std::fs::create_dir_all(dir.join("src/handlers")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), format!("[package]\nname = \"project_{k}\"\nversion = \"0.1.0\"\n"))
            .unwrap();
        let store = if k % 2 == 0 {
            "pub async fn create_child(pool: &PgPool, name: &str) -> sqlx::Result<()> {\n    sqlx::query(\"INSERT INTO items (name) VALUES ($1)\").bind(name).execute(pool).await?;\n    Ok(())\n}\n"
        } else {
            "pub async fn create_child(pool: &PgPool, name: &str) -> sqlx::Result<()> {\n    sqlx::query(\"UPDATE items SET seen = true WHERE name = $1\").bind(name).execute(pool).await?;\n    Ok(())\n}\n"
        };
        let mut lib = String::from("pub mod store;\npub mod handlers;\n");
        std::fs::write(dir.join("src/store.rs"), store).unwrap();
        let mut handlers = String::new();
        for f in 0..30 {
            handlers.push_str(&format!("pub mod h{f};\n"));
            let mut text = String::new();
            for i in 0..20 {
                text.push_str(&format!(
                    "pub async fn expand_{i}(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {{\n    for name in names {{\n        crate::store::create_child(pool, name).await?;\n    }}\n    Ok(())\n}}\n\n"
                ));
            }
            std::fs::write(dir.join(format!("src/handlers/h{f}.rs")), text).unwrap();
        }
        std::fs::write(dir.join("src/handlers/mod.rs"), handlers).unwrap();
        lib.push('\n');
        std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    }
}

/// One run over `dirs`: (seconds, finding lines as `path:line:col` relative to `root`).
fn check(bin: &Path, root: &Path, dirs: &[String]) -> (f64, Vec<String>) {
    let start = Instant::now();
    let out = Command::new(bin)
        .args(["check", "--no-cache", "--quiet", "--format", "concise", "-j", "2"])
        .args(["--config", "bench.toml"])
        .args(dirs)
        .current_dir(root)
        .output()
        .expect("gatelint runs");
    let secs = start.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    (secs, text.lines().map(|l| l.splitn(4, ':').take(3).collect::<Vec<_>>().join(":")).collect())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = release::gatelint_release();
    let projects = if quick { 8 } else { 40 };
    let corpus = root.join("target/bench-projects");
    generate(&corpus, projects);
    std::fs::write(corpus.join("bench.toml"), "[rules.non-idempotent-insert]\ntables = [\"*\"]\n").unwrap();
    let names: Vec<String> = (0..projects).map(|k| format!("project_{k}")).collect();

    // Alternating rounds; medians.
    let (mut together, mut apart) = (Vec::new(), Vec::new());
    let (mut one_findings, mut sum_findings) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let (secs, found) = check(&bin, &corpus, &names);
        together.push(secs);
        one_findings = found;
        let mut total = 0.0;
        sum_findings.clear();
        for name in &names {
            let (secs, found) = check(&bin, &corpus, std::slice::from_ref(name));
            total += secs;
            sum_findings.extend(found);
        }
        apart.push(total);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (one, sum) = (median(&mut together), median(&mut apart));
    one_findings.sort();
    sum_findings.sort();
    println!(
        "| projects | one run s | sum of separate runs s | one/sum | findings (one run) | findings (separate) | same findings |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    println!(
        "| {projects} | {one:.2} | {sum:.2} | {:.2} | {} | {} | {} |",
        one / sum,
        one_findings.len(),
        sum_findings.len(),
        if one_findings == sum_findings { "yes" } else { "NO" }
    );
}
