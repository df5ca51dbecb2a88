#![no_main]
//! Any bytes, as one file of a crate, through the whole pipeline and every renderer.
use gatelint::config::Config;
use gatelint::engine::run_in_memory;
use gatelint::render::{Format, Style, render};
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
});
