#![no_main]
//! Any bytes, as one file of a crate, through the whole pipeline and every renderer;
//! and the nesting bound (which the pipeline computes only for files over 16 KiB)
//! checked against the depth of the tree syn actually builds.
use gatelint::config::Config;
use gatelint::engine::run_in_memory;
use gatelint::render::{Format, Style, render};
use libfuzzer_sys::fuzz_target;
use syn::visit::Visit;

/// The deepest nesting of expressions, types, patterns, items, blocks and statements.
#[derive(Default)]
struct Depth {
    now: usize,
    max: usize,
}

macro_rules! nest {
    ($($visit:ident($ty:ty) => $walk:path;)*) => {
        impl<'ast> Visit<'ast> for Depth {
            $(fn $visit(&mut self, node: &'ast $ty) {
                self.now += 1;
                self.max = self.max.max(self.now);
                $walk(self, node);
                self.now -= 1;
            })*
        }
    };
}

nest! {
    visit_expr(syn::Expr) => syn::visit::visit_expr;
    visit_type(syn::Type) => syn::visit::visit_type;
    visit_pat(syn::Pat) => syn::visit::visit_pat;
    visit_item(syn::Item) => syn::visit::visit_item;
    visit_block(syn::Block) => syn::visit::visit_block;
    visit_stmt(syn::Stmt) => syn::visit::visit_stmt;
}

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
        let bound = gatelint::nesting::deepest(text, u32::MAX).expect("no limit") as usize;
        if let Ok(file) = syn::parse_file(text) {
            let mut depth = Depth::default();
            depth.visit_file(&file);
            assert!(depth.max <= 2 * bound + 8, "tree depth {} but nesting bound {bound}", depth.max);
        }
    }
});
