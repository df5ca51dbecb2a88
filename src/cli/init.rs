//! `gatelint init` (a commented `gatelint.toml` with every rule's defaults) and
//! `gatelint install-hook` (a plain git pre-commit hook running `check --staged`).

use crate::rules::all_meta;
use std::path::Path;
use std::process::ExitCode;

/// The text `gatelint init` writes: every configurable rule with its defaults.
pub fn default_config_text() -> String {
    let mut out = String::from(
        "# gatelint configuration. Every value is the built-in default: change what your\n\
         # project needs and delete the rest. `gatelint explain RULE` documents each rule.\n\n\
         # Check test code too (#[cfg(test)] items, #[test] functions, tests/, benches/, examples/).\n\
         include-tests = false\n\
         # Gitignore-style globs (relative to this file) of paths never to check.\n\
         exclude = []\n",
    );
    for meta in all_meta().into_iter().filter(|m| m.configurable) {
        out.push_str(&format!("\n# {}\n[rules.{}]\n", meta.summary, meta.id));
        out.push_str(&format!("severity = \"{}\"\n", meta.default_severity.map_or("off", |s| s.as_str())));
        let mut tables = Vec::new();
        for (key, value) in &meta.parameters {
            match value {
                toml::Value::Table(t) => tables.push((key, t)),
                v => out.push_str(&format!("{key} = {v}\n")),
            }
        }
        for (key, table) in tables {
            out.push_str(&format!("[rules.{}.{key}]\n", meta.id));
            for (k, v) in table {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        if meta.id == crate::rules::insert_allowlist::ID {
            out.push_str(
                "# Every function that inserts into a guarded table, with what makes it idempotent:\n\
                 # [[rules.insert-allowlist.functions]]\n\
                 # name = \"OrgHandler::import_node\"   # function, Type::method or module::function\n\
                 # mechanism = \"preflight\"            # preflight | on-conflict | single-create\n\
                 # reason = \"lookup_existing_child runs for every node before its INSERT\"\n",
            );
        }
    }
    out
}

pub fn write(path: &Path, force: bool) -> ExitCode {
    if path.exists() && !force {
        eprintln!("gatelint: {} exists; use --force to overwrite it", path.display());
        return ExitCode::from(2);
    }
    match std::fs::write(path, default_config_text()) {
        Ok(()) => {
            eprintln!("gatelint: wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gatelint: cannot write {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}

const HOOK_MARK: &str = "# Installed by `gatelint install-hook`";

pub fn install_hook(force: bool) -> ExitCode {
    let hooks = match std::process::Command::new("git").args(["rev-parse", "--git-path", "hooks"]).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => {
            eprintln!("gatelint: not in a git repository (git rev-parse failed)");
            return ExitCode::from(2);
        }
    };
    let hook = Path::new(&hooks).join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&hook)
        && !existing.contains(HOOK_MARK)
        && !force
    {
        eprintln!("gatelint: {} exists and is not gatelint's; use --force to replace it", hook.display());
        return ExitCode::from(2);
    }
    let script = hook_script(
        std::env::var("CARGO_PKG_NAME").ok().as_deref(),
        &std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "gatelint".into()),
    );
    let written = std::fs::create_dir_all(&hooks).and_then(|_| std::fs::write(&hook, script));
    if let Err(e) = written {
        eprintln!("gatelint: cannot write {}: {e}", hook.display());
        return ExitCode::from(2);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755));
    }
    eprintln!("gatelint: installed {}", hook.display());
    ExitCode::SUCCESS
}

/// The hook's script. Run through `cargo run` from a tool crate of the workspace
/// (`package`, set by cargo), the hook runs the tool crate the same way, so it always
/// uses the workspace's pinned gatelint; otherwise it runs this binary, or `gatelint`
/// on PATH when this binary is gone.
fn hook_script(package: Option<&str>, exe: &str) -> String {
    match package {
        Some(package) if package != env!("CARGO_PKG_NAME") => format!(
            "#!/bin/sh\n{HOOK_MARK}: checks the staged Rust code with the workspace's tool crate.\n\
             exec cargo run --quiet --package {package} -- check --staged\n"
        ),
        _ => format!(
            "#!/bin/sh\n{HOOK_MARK}: checks the staged Rust code.\n\
             if [ -x '{exe}' ]; then exec '{exe}' check --staged; fi\n\
             exec gatelint check --staged\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_output_loads_back_as_the_defaults() {
        let text = default_config_text();
        let loaded = crate::config::Config::from_toml(&text, "gatelint.toml").expect("init output is valid");
        let defaults = crate::config::Config::defaults();
        for (id, settings) in &defaults.rules {
            let got = loaded.settings(id).unwrap();
            assert_eq!(got.severity, settings.severity, "{id}");
            assert_eq!(got.params, settings.params, "{id}");
        }
    }
}
