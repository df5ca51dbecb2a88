//! # migration-version-collision
//!
//! ## What it does
//! Flags a migration file whose version (the number its name starts with:
//! `0003_add_email.sql`, `20240101120000_x.sql`, diesel's `2024-01-01-120000_x/up.sql`,
//! refinery's `V3__x.sql`) is also the version of another migration of the same
//! directory. `0003` and `3` are the same version.
//!
//! ## Why is this bad?
//! Two branches each add "the next" migration and both merge: sqlx refuses to run
//! (or, with the first already applied, silently skips the second because its
//! version is recorded), diesel and refinery apply them in an order nobody chose.
//! Databases that applied one branch first end up with another schema than fresh
//! ones. The team ran a CI job of its own just to catch this.
//!
//! ## Example
//! ```text
//! migrations/0003_add_email.sql
//! migrations/0003_add_workspace_index.sql   <- same version
//! ```
//!
//! ## Use instead
//! ```text
//! migrations/0003_add_email.sql
//! migrations/0004_add_workspace_index.sql
//! ```
//!
//! ## Configuration
//! Migrations are found in the `migrations/` folders of the checked tree and of
//! the checked files' packages; `migrations = ["db/migrations"]` at the top of
//! `gatelint.toml` names the directories instead. The rule has no parameters.
//!
//! ## Known limitations
//! - A version is the leading number of a file or folder name; files without one
//!   (`schema.sql`) and down migrations are not part of the order.
//! - Directories are compared one by one: two migration directories that one
//!   runner merges are not seen as one.

use crate::input::source::Loc;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::sql_in_code::migration_name;
use crate::rules::{CheckCx, NoParams, Rule};

pub const ID: &str = "migration-version-collision";

pub struct MigrationVersionCollision;

impl Rule for MigrationVersionCollision {
    crate::rules::migration_rule_items!();

    fn check(cx: &CheckCx, _: &NoParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let mut out = Vec::new();
        for set in &cx.migrations.sets {
            for (i, m) in set.files.iter().enumerate() {
                // Each later file of a version is a finding, pointing at the first.
                let Some(first) = set.files[..i].iter().find(|f| f.number == m.number) else { continue };
                let shown = |file: usize| migration_name(cx, file);
                out.push(Diagnostic {
                    rule: ID,
                    severity,
                    loc: first_line(cx, m.file),
                    message: format!(
                        "migration version `{}` is used twice: `{}` and `{}`",
                        m.version,
                        shown(m.file),
                        shown(first.file)
                    ),
                    label: format!("version `{}` again", m.version),
                    secondary: vec![Label { loc: first_line(cx, first.file), message: format!("version `{}` first used here", first.version) }],
                    why: Some(
                        "two migrations with one version are applied in an order nobody chose, or one of them \
                         not at all (the runner records the version as applied): databases end up with \
                         different schemas"
                            .into(),
                    ),
                    notes: vec![format!("migration directory `{}`", set.shown).into()],
                    help: Some(format!(
                        "give `{}` the next free version (after the last migration of `{}`), or merge the two \
                         migrations into one",
                        shown(m.file),
                        set.shown
                    )),
                });
            }
        }
        Ok(out)
    }

    /// The fixtures' escape hatch (`--~ hatch: migration-version-collision`) is a
    /// distinct version; a mutant copy cannot rename a file, so nothing is mutated.
    fn remove_escape_hatch(line: &str) -> String {
        line.to_string()
    }
}

/// The first line of a file, as the place a finding about the whole file points at.
fn first_line(cx: &CheckCx, file: usize) -> Loc {
    let text = cx.db.get(file).text();
    let end = text.find('\n').unwrap_or(text.len());
    Loc::new(file, 0, text[..end].trim_end_matches('\r').len())
}
