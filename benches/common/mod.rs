//! The parse floor, shared by the `throughput` bench (system allocator: the floor the
//! performance targets are stated against) and `floor_jemalloc` (the allocator
//! gatelint's binaries use).

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;
use syn::visit::Visit;

struct Counter(usize);
impl<'ast> Visit<'ast> for Counter {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.0 += 1;
        syn::visit::visit_expr(self, e);
    }
}

pub fn rs_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !name.starts_with('.')
                    && name != "target"
                    && !matches!(name.as_str(), "tests" | "benches" | "examples")
                {
                    stack.push(p);
                }
            } else if name.ends_with(".rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// This process's user + system CPU seconds so far (Linux `/proc/self/stat`; 0 elsewhere).
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// read + parse + one visit of every file, on a 2-thread pool, largest first.
/// Returns wall seconds, lines and CPU seconds.
pub fn floor(files: &[PathBuf]) -> (f64, usize, f64) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).stack_size(256 << 20).build().unwrap();
    let mut sized: Vec<(u64, &PathBuf)> =
        files.iter().map(|f| (std::fs::metadata(f).map_or(0, |m| m.len()), f)).collect();
    sized.sort_by_key(|b| std::cmp::Reverse(b.0));
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let lines: usize = pool.install(|| {
        sized
            .par_iter()
            .with_max_len(1)
            .map(|(_, f)| {
                let Ok(text) = std::fs::read_to_string(f) else { return 0 };
                let lines = text.lines().count();
                if let Ok(file) = syn::parse_file(&text) {
                    let mut c = Counter(0);
                    c.visit_file(&file);
                    std::hint::black_box(c.0);
                }
                proc_macro2::extra::invalidate_current_thread_spans();
                lines
            })
            .sum()
    });
    (start.elapsed().as_secs_f64(), lines, cpu_seconds() - cpu_start)
}
