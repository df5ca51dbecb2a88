#![no_main]
//! Any bytes, as one file of a crate, through the whole pipeline and every renderer;
//! and the nesting bound (which the pipeline computes only for files over 16 KiB)
//! checked against the depth of the tree syn actually builds.
use gatelint::config::Config;
use gatelint::engine::run_in_memory;
use gatelint::report::render::{Format, Style, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = Config::defaults();
    let report = run_in_memory(vec![("src/fuzz.rs".to_string(), data.to_vec())], &config).expect("runs");
    for d in &report.diagnostics {
        assert!(!d.message.contains("internal error"), "{}", d.message);
    }
    for format in [Format::Human, Format::Json, Format::Sarif, Format::Github, Format::Concise] {
        let _ = render(format, &report, Style::default());
    }
    // The bound must grow with the real depth, or a large file could overflow a stack.
    if let Ok(text) = std::str::from_utf8(data) {
        let bound = gatelint::input::nesting::deepest(text, u32::MAX).expect("no limit") as usize;
        if let Ok(file) = syn::parse_file(text) {
            let depth = gatelint::input::nesting::syntax_depth(&file);
            assert!(depth <= 2 * bound + 8, "tree depth {depth} but nesting bound {bound}");
        }
    }
});
