//! The parse floor with jemalloc, the allocator gatelint's binaries use:
//! `cargo bench --bench floor_jemalloc -- DIR` prints it once for DIR. The
//! `throughput` bench runs it beside the system-allocator floor, so gatelint is
//! compared with both (what the allocator buys is not counted as rules being cheap).

mod common;

gatelint::binary_allocator!();

fn main() {
    let Some(dir) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: cargo bench --bench floor_jemalloc -- DIR");
        std::process::exit(2);
    };
    let (secs, lines, cpu) = common::floor(&common::rs_files(std::path::Path::new(&dir)));
    println!("floor: {lines} lines in {secs:.3} s ({cpu:.3} s CPU)");
}
