//! The release binary the benchmarks run: built first, as `cargo build --release`
//! would, so a benchmark always measures the code it sits next to.

use std::path::PathBuf;
use std::process::Command;

/// Builds gatelint's release binary and returns its path.
pub fn gatelint_release() -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "gatelint"])
        .current_dir(root)
        .status();
    assert!(status.is_ok_and(|s| s.success()), "cargo build --release failed");
    root.join("target/release/gatelint")
}
