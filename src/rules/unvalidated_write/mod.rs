//! # unvalidated-write
//!
//! ## What it does
//! Learns from the code which validator guards a column, and flags a write of that
//! column that runs without it:
//! - the pairing: a function that inserts a column (the create path) and calls a
//!   validator — a function whose name is one of `validator-prefixes` alone or
//!   followed by `_` (`validate_registered_model_for_runtime`, `check_quota`,
//!   `ensure_slug`) — on the value it inserts: the argument bound to the column's
//!   placeholder (`.bind(&req.runtime)` for `$1`, the second `?`, a `query!`
//!   argument, a tokio-postgres parameter), the value of a diesel `col.eq(v)` or an
//!   insertable struct's field, a sea-orm `col: Set(v)`. A local bound to the value
//!   (`if let Some(rt) = &req.runtime`, `let Req { runtime, .. } = req`) is the value.
//!   A caller that validates what it passes for the value before calling the
//!   inserting function pairs the column too. `[[rules.unvalidated-write.fields]]`
//!   adds pairs by hand;
//! - the writes checked: every other write of a paired column — `UPDATE t SET col =
//!   …`, an upsert's `ON CONFLICT … DO UPDATE SET col = …` (`EXCLUDED.col` is the
//!   inserted value), MySQL's `ON DUPLICATE KEY UPDATE`, a `format!` template's
//!   assignments (a hole glued into the list, `SET slug = $1{touch} WHERE …`, is SQL
//!   spliced in, or nothing), a `SET` built from pieces (`QueryBuilder` pushes,
//!   `format!` templates: a start, `UPDATE t SET` or a whole assignment list such as
//!   `UPDATE t SET updated_at = now()`, and `col = ` / `, col = ` pieces in the same
//!   function), diesel's `update(t).set(t::col.eq(v))` and an insert's
//!   `.on_conflict(..).do_update().set(..)` (`excluded(t::col)` is the inserted value;
//!   a tuple, or a changeset struct written in the function), sea-orm's `col: Set(v)`
//!   on an `ActiveModel` then `.update(db)` / `.save(db)` / `Entity::update(am)`, and
//!   `Entity::update_many()` with `.col_expr(Column::Col, Expr::value(v))` or
//!   `.set(ActiveModel { .. })` (a literal of the code, `Expr::value(0)`, is a constant,
//!   as one of the SQL is). A sea-orm write's table is its entity's `#[sea_orm(table_name
//!   = "…")]`: the entity is the module its path names (`subscription::ActiveModel`, an
//!   `ActiveModel` imported by name, `Subscription` renamed by a `use`), else the
//!   current module;
//! - what covers a write: the validator called on the written value (or on what
//!   holds it: `validate(&patch)` covers `patch.runtime`) before the write, in a block
//!   that encloses the write (not inside an `if` the write is outside of, not after
//!   it), or in an earlier sibling that runs for the same values when its failure
//!   leaves the function (a `?`, an `if` testing it that returns): the body of an
//!   `if let`, a `match` arm or a `for` loop whose pattern and value are those of the
//!   one holding the write (`if let Some(p) = req.pct { v.ensure_pct(p)?; }` then
//!   `if let Some(p) = req.pct { UPDATE … }`, a loop validating each item then one
//!   writing each), decided by that pattern alone (no `&&`, no arm guard); a crate
//!   function called before the write with the value (or what holds it) that calls
//!   the validator, itself or in a crate function it calls; a local bound to what a
//!   crate function returns (`let pct = checked_pct(v, body.pct)?`) when that
//!   function returns one parameter (`Ok(p)`, `Some(p)`, `p`; or a field of it) on
//!   every return and validates it before each; or every caller of the writing
//!   function doing one of those before its call.
//!
//! The finding is at the column the write names, with the create path's validator
//! call as a secondary label, and any call of the validator in the writing function
//! that comes too late or checks another value. The create path's own writes are not
//! reported, and neither is a column no create path validates.
//!
//! ## Why is this bad?
//! A value the create path refuses can still get in through the other writes of the
//! column. A PATCH handler updated a workspace's `runtime` without calling the
//! (runtime, model) validator the create handler called: the API accepted moving a
//! workspace to a runtime that cannot serve its model, and the workspace wedged at its
//! first agent turn instead of the PATCH failing with a clear error.
//!
//! ## Example
//! ```rust
//! async fn create_workspace(State(db): State<PgPool>, Json(req): Json<CreateWorkspace>) -> Result<Json<Workspace>> {
//!     validate_registered_model_for_runtime(&req.runtime, &req.model)?;
//!     sqlx::query("INSERT INTO workspaces (name, runtime, model) VALUES ($1, $2, $3)")
//!         .bind(&req.name).bind(&req.runtime).bind(&req.model)
//!         .execute(&db).await?;
//!     // …
//! }
//!
//! async fn patch_workspace(State(db): State<PgPool>, Path(id): Path<Uuid>, Json(patch): Json<PatchWorkspace>) -> Result<()> {
//!     sqlx::query("UPDATE workspaces SET runtime = $1 WHERE id = $2") // `runtime` unvalidated
//!         .bind(&patch.runtime).bind(id)
//!         .execute(&db).await?;
//!     Ok(())
//! }
//! ```
//!
//! ## Use instead
//! ```rust
//! async fn patch_workspace(State(db): State<PgPool>, Path(id): Path<Uuid>, Json(patch): Json<PatchWorkspace>) -> Result<()> {
//!     let model: String = sqlx::query_scalar("SELECT model FROM workspaces WHERE id = $1").bind(id).fetch_one(&db).await?;
//!     validate_registered_model_for_runtime(&patch.runtime, &model)?;
//!     sqlx::query("UPDATE workspaces SET runtime = $1 WHERE id = $2")
//!         .bind(&patch.runtime).bind(id)
//!         .execute(&db).await?;
//!     Ok(())
//! }
//! ```
//! When something else guarantees the value (a constant, a value read back from a
//! validated row), say so on the write's line or the line above:
//! `// validated-by: the runtime is copied from the template workspace, validated on create`.
//! A marker with no reason does not count: the write is reported, and the finding
//! points at the marker.
//!
//! ## Configuration
//! ```toml
//! [rules.unvalidated-write]
//! validator-prefixes = ["validate", "check", "ensure"]
//!
//! # Pairs the inference cannot see (a validator that takes the whole request, an
//! # insert in another crate):
//! [[rules.unvalidated-write.fields]]
//! table = "workspaces"
//! column = "runtime"
//! validator = "validate_registered_model_for_runtime"
//! ```
//!
//! ## Known limitations
//! - syn sees syntax, not types: a validator is a function by its name, a value is
//!   the path written (`patch.runtime`) through the function's `let` and `if let`
//!   bindings. A value the create path validates under one name and inserts under
//!   another (a copy made by a method, `let rt = normalize(&req.runtime)`), a
//!   validator taking the whole request (`req.validate()`, the `validator` crate's
//!   derive) or called in an extractor or middleware pairs nothing: configure the pair
//!   with `fields`.
//! - "Before, on every path" is read from the source's order and its blocks: a
//!   validator call earlier in an enclosing block covers the write; one inside an
//!   `if`, a loop or a closure that the write is not in does not, unless it is the
//!   sibling described above. There, the value is assumed unchanged between the two
//!   blocks (an assignment to it in between is not seen). Elsewhere what the code does
//!   with the validator's answer is not read: a call whose result is ignored (`let _ =
//!   validate(..)`) counts, and an early `return` on one branch is not followed. A
//!   helper's value is followed only through a `let` of its result: one returning a
//!   value it computes (`Ok(pct.min(100))`) or a default does not validate it.
//! - Helpers are followed two levels down (a helper calling a helper that calls the
//!   validator), callers one level up; a method call is resolved by its name among the
//!   crate's methods, and one on another receiver than `self` (`repo.save(..)`, which
//!   may be a `HashMap`'s) pairs no column through its callers.
//! - A learned pairing holds in the crate of its create path and in the crates that
//!   depend on it or that it depends on; a file no crate root reaches (not declared
//!   with `mod`) pairs only its own writes. Configured pairs hold everywhere. Functions of other crates, trait objects and closures passed
//!   around are not followed.
//! - The SQL is read where the code writes it: a literal, a `let` of one, a constant
//!   of the same file, a `format!` template, a query builder's literal pieces. A
//!   statement passed to a helper that binds it has its values unknown, and any call
//!   of the validator before the write covers it. A `?` after a hole spliced into the
//!   list may have been renumbered by it: its value is unknown. Only `INSERT`s teach
//!   pairings, only updates are checked: a second create path inserting the column
//!   without the validator is not reported, nor is a changeset struct (`.set(&changes)`)
//!   whose type is defined elsewhere.
//! - A sea-orm entity's table is the `table_name` declared in a module of the entity's
//!   module's name: in the write's file, else in its crate or the crates related to it
//!   when they all name one table. An entity declared nowhere there is taken for a
//!   table named like its module or that name's plural (`workspace`, `workspaces`). One reached through a glob import (`use
//!   entities::user::*`) is taken for the current module's. An `ActiveModel` whose
//!   type the syntax does not show (`load(db).await?.into_active_model()`, not typed
//!   by its `let` or a parameter) has no known table: it pairs only with another such
//!   write of its file, never with a table.

mod analysis;
mod diagnostics;
pub mod extract;

pub use extract::{FnWrites, Write, WriteFacts};

use crate::rules::diagnostic::{Diagnostic, Severity};
use crate::rules::{CheckCx, ConfigSource, FileInput, ParamsError, Rule};
use serde::{Deserialize, Serialize};

pub const ID: &str = "unvalidated-write";

pub struct UnvalidatedWrite;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Params {
    pub validator_prefixes: Vec<String>,
    /// `[[rules.unvalidated-write.fields]]`, read from the configuration's text.
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// A pair configured by hand: every write of `table.column` must call `validator`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub table: String,
    pub column: String,
    pub validator: String,
    /// The byte range of its `validator = …` line in the configuration file.
    #[serde(skip)]
    pub at: Option<(usize, usize)>,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    rules: DocRules,
}

#[derive(Default, Deserialize)]
struct DocRules {
    #[serde(rename = "unvalidated-write")]
    rule: Option<DocRule>,
}

#[derive(Deserialize)]
struct DocRule {
    #[serde(default)]
    fields: Vec<toml::Spanned<Field>>,
}

/// The configured pairs, from the configuration file's text.
fn configured_fields(text: &str) -> Result<Vec<Field>, ParamsError> {
    let doc: Doc = toml::from_str(text).map_err(|e| ParamsError {
        offset: e.span().map(|s| s.start),
        message: format!("[[rules.{ID}.fields]]: {}", crate::messages::tidy_message(e.message())),
    })?;
    let fields = doc.rules.rule.map(|r| r.fields).unwrap_or_default();
    let mut out = Vec::new();
    for field in fields {
        let span = field.span();
        let offset = Some(span.start);
        let mut field = field.into_inner();
        // The `validator = …` line, where a finding's label points.
        field.at = validator_line(text, span.start);
        for (key, value) in [("table", &field.table), ("column", &field.column), ("validator", &field.validator)] {
            if value.trim().is_empty() {
                return Err(ParamsError { offset, message: format!("[[rules.{ID}.fields]]: `{key}` is empty") });
            }
        }
        out.push(field);
    }
    Ok(out)
}

/// The `validator = …` line of the entry starting at `header` (its `[[…]]` line or
/// an inline table).
fn validator_line(text: &str, header: usize) -> Option<(usize, usize)> {
    let mut offset = header;
    for (i, line) in text.get(header..)?.split_inclusive('\n').enumerate() {
        if i > 0 && line.trim_start().starts_with('[') {
            return None;
        }
        if let Some(at) = line.find("validator") {
            return Some((offset + at, offset + line.trim_end().len()));
        }
        offset += line.len();
    }
    None
}

impl Rule for UnvalidatedWrite {
    const ID: &'static str = ID;
    const SOURCE_KEYS: &'static [&'static str] = &["fields"];
    type Params = Params;
    type Facts = WriteFacts;

    fn params(table: &toml::Table, source: Option<&ConfigSource>) -> Result<Params, ParamsError> {
        let mut params: Params = crate::rules::params_from_table(table)?;
        if params.validator_prefixes.iter().any(|p| p.trim().is_empty()) {
            return Err("validator-prefixes: a prefix is empty (it would make every call a validator)".to_string().into());
        }
        if let Some(source) = source {
            params.fields = configured_fields(source.text)?;
        }
        Ok(params)
    }

    fn extract(input: &FileInput, _: &Params) -> Option<WriteFacts> {
        let facts = extract::extract(input.file, input.path, input.source, input.syntax, input.comments);
        (!facts.fns.is_empty() || !facts.entities.is_empty()).then_some(facts)
    }

    fn comment_needles(_: &Params) -> Vec<String> {
        vec![extract::MARKER.to_string()]
    }

    fn check(cx: &CheckCx, params: &Params, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        Ok(diagnostics::diagnostics(cx, params, severity))
    }

    /// The fixtures' escape hatch (`//~ hatch: unvalidated-write`): the validator's
    /// call (or a helper's that calls it) renamed to a function that checks nothing,
    /// the marker comment made another comment.
    fn remove_escape_hatch(line: &str) -> String {
        let line = line.replace(extract::MARKER, "reviewed-by:");
        ["validate_", "check_", "ensure_"].iter().fold(line, |line, prefix| line.replace(prefix, "inspect_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_fields_are_read_and_checked() {
        let text = "[rules.unvalidated-write]\nseverity = \"error\"\n\n[[rules.unvalidated-write.fields]]\ntable = \
                    \"workspaces\"\ncolumn = \"runtime\"\nvalidator = \"validate_runtime\"\n";
        let fields = configured_fields(text).unwrap();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].validator, "validate_runtime");
        let (start, end) = fields[0].at.unwrap();
        assert_eq!(&text[start..end], "validator = \"validate_runtime\"");
        let empty = text.replace("\"validate_runtime\"", "\" \"");
        assert!(configured_fields(&empty).unwrap_err().message.contains("`validator` is empty"));
        let unknown = text.replace("validator =", "checker =");
        assert!(configured_fields(&unknown).is_err());
        assert!(configured_fields("[rules.other]\nx = 1\n").unwrap().is_empty());
    }
}
