//! Hostile input, deterministically: every fixture is mutated many ways (seeded
//! byte flips, truncations, splices, deep nesting, invalid UTF-8) and run through
//! the whole pipeline — decode, lex, parse, facts, rules, every renderer. No input
//! may panic (a caught panic becomes an "internal error" diagnostic, which fails
//! here), and the output must not depend on the thread count. The same pipeline is
//! the cargo-fuzz target in `fuzz/` for open-ended runs.

use gatelint::config::Config;
use gatelint::engine::run_in_memory;
use gatelint::report::render::{Format, Style, render};
use std::path::Path;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fixtures() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        out.extend(
            files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "rs")).map(|f| std::fs::read(f).unwrap()),
        );
    }
    out
}

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = bytes.len().max(1);
        match rng.below(7) {
            0 => {
                let at = rng.below(len);
                if at < bytes.len() {
                    bytes[at] = rng.next() as u8;
                }
            }
            1 => bytes.truncate(rng.below(len)),
            2 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(400)).min(other.len());
                let at = rng.below(len).min(bytes.len());
                bytes.splice(at..at, other[from..to].iter().copied());
            }
            3 => {
                let at = rng.below(len).min(bytes.len());
                let depth = 200 + rng.below(400);
                let nest: Vec<u8> = std::iter::repeat_n(b'(', depth).chain(std::iter::repeat_n(b')', depth)).collect();
                bytes.splice(at..at, nest);
            }
            4 => {
                let at = rng.below(len).min(bytes.len());
                bytes.splice(at..at, [0xff, 0xfe, 0x80]);
            }
            5 => {
                let from = rng.below(len).min(bytes.len());
                let to = (from + rng.below(200)).min(bytes.len());
                bytes.drain(from..to);
            }
            _ => {
                let at = rng.below(len).min(bytes.len());
                let piece: &[u8] = [
                    &b"\"0.0.0.0:9100\""[..],
                    b"INSERT INTO workspaces (id) VALUES ($1)",
                    b"for x in y {",
                    b"}",
                    b"// gatelint: allow(",
                    b"r#\"",
                    b"'",
                    b"/*",
                ][rng.below(8)];
                bytes.splice(at..at, piece.iter().copied());
            }
        }
    }
    bytes
}

#[test]
fn mutated_fixtures_never_crash_the_pipeline() {
    let corpus = fixtures();
    assert!(!corpus.is_empty());
    let config = Config::defaults();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut crashes = Vec::new();
    for round in 0..120 {
        // A small crate of three mutated files, so crate-wide facts meet broken code too.
        let files: Vec<(String, Vec<u8>)> = (0..3)
            .map(|i| {
                let base = &corpus[rng.below(corpus.len())];
                (format!("src/m{round}_{i}.rs"), mutate(&mut rng, base, &corpus))
            })
            .collect();
        let report = run_in_memory(files.clone(), &config).expect("runs");
        for d in &report.diagnostics {
            if d.message.contains("internal error") {
                crashes.push(format!("round {round}: {}", d.message));
            }
        }
        for format in [Format::Human, Format::Json, Format::Sarif, Format::Github, Format::Concise] {
            let _ = render(format, &report, Style::default());
        }
    }
    assert!(crashes.is_empty(), "panics caught in the pipeline:\n{}", crashes.join("\n"));
}

#[test]
fn huge_and_empty_inputs_are_fine() {
    let config = Config::defaults();
    let big: String = (0..40_000).map(|i| format!("pub const C{i}: &str = \"value {i}\";\n")).collect();
    assert!(big.len() > 1_000_000, "a multi-megabyte file");
    let report =
        run_in_memory(vec![("src/big.rs".into(), big.into_bytes()), ("src/empty.rs".into(), Vec::new())], &config)
            .unwrap();
    assert_eq!(report.files_checked, 2);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics.first());
}

/// Files small enough to skip the nesting pre-check, nesting from end to end in the
/// deepest shapes measured, go through the whole pipeline (parse, every extractor,
/// every rule) on the worker threads without exhausting their stacks — in the debug
/// build `.ci/run` tests too, where frames are largest.
#[test]
fn small_files_nesting_end_to_end_fit_the_worker_stacks() {
    let n = gatelint::input::parse::UNCHECKED_NESTING_MAX_BYTES;
    let shapes = [
        format!("fn f() {{ {}1{} }}", "{".repeat(n / 2 - 8), "}".repeat(n / 2 - 8)),
        format!("fn f() {{ let x = {}1{}; }}", "(".repeat(n / 2 - 12), ")".repeat(n / 2 - 12)),
        format!("fn f() {{ let x = {}1{}; }}", "[".repeat(n / 2 - 12), "]".repeat(n / 2 - 12)),
        format!("type T = {}u8{};", "Vec<".repeat(n / 6), ">".repeat(n / 6)),
        format!("fn f() {{ let x = {}1; }}", "!".repeat(n - 24)),
        format!("fn f() {{ let x = {}1; }}", "&".repeat(n - 24)),
        format!("fn f() {{ {}1{} }}", "if a { ".repeat(n / 10), " }".repeat(n / 10)),
        format!("fn f() {{ let x = {}1; }}", "|| ".repeat(n / 3 - 8)),
        format!("fn f() {{ {}q.execute(){} }}", "for x in y { ".repeat(n / 16), " }".repeat(n / 16)),
        format!("{}{}", "mod m { ".repeat(n / 9), "}".repeat(n / 9)),
    ];
    let config = Config::defaults();
    for (i, src) in shapes.into_iter().enumerate() {
        assert!(src.len() <= n, "shape {i} is {} bytes", src.len());
        let report = run_in_memory(vec![(format!("src/deep{i}.rs"), src.into_bytes())], &config).unwrap();
        assert_eq!(report.files_checked, 1);
    }
}

/// Files larger than that are checked against [`gatelint::input::nesting::MAX_DEPTH`]: each
/// shape, nested as deep as the bound lets it, goes through the whole pipeline on a
/// worker thread (debug build in `.ci/run`: largest frames); one level more is
/// reported as a parse error. Each shape is a way syn recurses: brackets, prefix
/// operators, closures, generic and reference types, postfix chains, keywords.
#[test]
fn files_at_the_nesting_bound_fit_the_worker_stacks() {
    let shapes = nesting_shapes();
    let max = gatelint::input::nesting::MAX_DEPTH;
    let pad = |src: String| format!("{src}\n//{}\n", "x".repeat(gatelint::input::parse::UNCHECKED_NESTING_MAX_BYTES));
    let config = Config::defaults();
    for (name, shape) in &shapes {
        let depth = |k| gatelint::input::nesting::deepest(&shape(k), u32::MAX).unwrap();
        // The most levels within the bound (the bound grows with k).
        let (mut lo, mut hi) = (1, max as usize + 1);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if depth(mid) <= max { lo = mid } else { hi = mid - 1 }
        }
        assert!(depth(lo + 1) > max, "{name}: the bound does not grow");
        let within = run_in_memory(vec![("src/deep.rs".into(), pad(shape(lo)).into_bytes())], &config).unwrap();
        assert_eq!(within.files_checked, 1);
        let rules: Vec<&str> = within.diagnostics.iter().map(|d| d.rule).collect();
        assert!(!rules.contains(&"parse-error"), "{name} at {lo} levels: {:?}", within.diagnostics[0].message);
        let beyond = run_in_memory(vec![("src/deep.rs".into(), pad(shape(lo + 1)).into_bytes())], &config).unwrap();
        let first = &beyond.diagnostics[0];
        assert!(
            first.rule == "parse-error" && first.message.contains("nested too deeply"),
            "{name}: {}",
            first.message
        );
    }
}

type Shape = fn(usize) -> String;

/// Each a way syn recurses: brackets, prefix operators, closures, generic and
/// reference types, postfix chains, keywords.
fn nesting_shapes() -> Vec<(&'static str, Shape)> {
    vec![
        ("braces", |k| format!("fn f() {{ {}1{} }}", "{".repeat(k), "}".repeat(k))),
        ("parens", |k| format!("fn f() {{ let x = {}1{}; }}", "(".repeat(k), ")".repeat(k))),
        ("brackets", |k| format!("fn f() {{ let x = {}1{}; }}", "[".repeat(k), "]".repeat(k))),
        ("generics", |k| format!("type T = {}u8{};", "Vec<".repeat(k), ">".repeat(k))),
        ("generic pairs", |k| format!("type T = {}u8{};", "HashMap<u8, ".repeat(k), ">".repeat(k))),
        ("ref types", |k| format!("type T = {}u8;", "&".repeat(k))),
        ("pointer types", |k| format!("type T = {}u8;", "*const ".repeat(k))),
        ("fn types", |k| format!("type T = {}u8;", "fn() -> ".repeat(k))),
        ("not", |k| format!("fn f() {{ let x = {}1; }}", "!".repeat(k))),
        ("refs", |k| format!("fn f() {{ let x = {}1; }}", "&".repeat(k))),
        ("neg", |k| format!("fn f() {{ let x = {}1; }}", "- ".repeat(k))),
        ("closures", |k| format!("fn f() {{ let x = {}1; }}", "|| ".repeat(k))),
        ("closures with params", |k| format!("fn f() {{ let x = {}1; }}", "|a, b| ".repeat(k))),
        ("returns", |k| format!("fn f() {{ {}1; }}", "return ".repeat(k))),
        ("ifs", |k| format!("fn f() {{ {}1{} }}", "if a { ".repeat(k), " }".repeat(k))),
        ("else ifs", |k| format!("fn f() {{ if a {{}}{} }}", " else if a {}".repeat(k))),
        ("loops", |k| format!("fn f() {{ {}q.execute(){} }}", "for x in y { ".repeat(k), " }".repeat(k))),
        ("unsafe blocks", |k| format!("fn f() {{ {}1{} }}", "unsafe { ".repeat(k), " }".repeat(k))),
        ("modules", |k| format!("{}{}", "mod m { ".repeat(k), "}".repeat(k))),
        ("method chain", |k| format!("fn f() {{ let x = a{}; }}", ".b()".repeat(k))),
        ("binary chain", |k| format!("fn f() {{ let x = 1{}; }}", " + 1".repeat(k))),
        ("calls", |k| format!("fn f() {{ let x = a{}; }}", "()".repeat(k))),
        ("tuple patterns", |k| format!("fn f() {{ let {}a{} = 1; }}", "(".repeat(k), ",)".repeat(k))),
        ("ref patterns", |k| format!("fn f() {{ let {}a = 1; }}", "&".repeat(k))),
        ("sql argument", |k| format!("fn f() {{ sqlx::query({}1{}).execute(p); }}", "a.b(".repeat(k), ")".repeat(k))),
        ("listen argument", |k| format!("fn f() {{ TcpListener::bind({}1{}); }}", "f(".repeat(k), ")".repeat(k))),
        // Shapes a simpler scan gets wrong: closures a binary-`|` reading would miss,
        // non-ASCII whitespace between tokens, a shebang line with a quote.
        ("closures after &mut", |k| format!("fn f() {{ let x = {}1; }}", "&mut |a, b| ".repeat(k))),
        ("closures after const", |k| format!("fn f() {{ let x = {}1; }}", "const |a, b| ".repeat(k))),
        ("closures after turbofish", |k| format!("fn f() {{ let x = {}1; }}", "|a, b| S::<u8> | ".repeat(k))),
        ("unicode whitespace", |k| format!("fn f() {{ {}1; }}", "return\u{200E}".repeat(k))),
        ("shebang", |k| format!("#!x\"\nfn f() {{ let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k))),
        ("shebang after a BOM", |k| {
            format!("\u{feff}#!x\"\nfn f() {{ let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k))
        }),
        ("inner attribute after #! and a Unicode space", |k| {
            format!("#!\u{a0}[allow(unused)] fn f() {{ let x = {}1{}; }}\n", "(".repeat(k), ")".repeat(k))
        }),
        ("label named like a raw-string prefix", |k| {
            format!("fn f() {{ m!('r\"\\\"); let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k))
        }),
        ("string suffix like a raw-string prefix", |k| {
            format!("#[a(\"a\"r\"\\\" \")]\nfn f() {{ let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k))
        }),
    ]
}

/// The nesting bound grows with the depth of the tree syn builds (at least half as
/// fast): over every fixture and every nesting shape. (The fuzz target checks the same
/// over arbitrary inputs.)
#[test]
fn the_nesting_bound_keeps_up_with_the_real_tree_depth() {
    let mut sources: Vec<String> = fixtures().into_iter().filter_map(|bytes| String::from_utf8(bytes).ok()).collect();
    sources.extend(nesting_shapes().iter().map(|(_, shape)| shape(300)));
    let worker = std::thread::Builder::new().stack_size(gatelint::engine::WORKER_STACK);
    let checked = worker
        .spawn(move || {
            let mut checked = 0;
            for src in &sources {
                let bound = gatelint::input::nesting::deepest(src, u32::MAX).unwrap() as usize;
                let Ok(file) = syn::parse_file(src) else { continue };
                let depth = gatelint::input::nesting::syntax_depth(&file);
                assert!(depth <= 2 * bound + 8, "tree depth {depth} over bound {bound} in:\n{src:.300}");
                checked += 1;
            }
            checked
        })
        .unwrap()
        .join()
        .unwrap();
    // Every shape parses, and the fixtures that are valid Rust.
    assert!(checked > nesting_shapes().len(), "only {checked} sources parsed");
}
