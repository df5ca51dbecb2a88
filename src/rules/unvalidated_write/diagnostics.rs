//! The findings' text: the write, the validator its create path calls, where that
//! call is, the validator's calls here that come too late or check another value,
//! and the incident note.

use super::analysis::{Miss, Model, Origin, Unvalidated};
use super::extract::{Kind, Marker};
use super::{ID, Params};
use crate::rules::CheckCx;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};

const INCIDENT: &str = "a PATCH handler updated a workspace's `runtime` without calling the validator the create \
                        handler called on it: a workspace moved to a runtime that cannot serve its model wedged at its \
                        first turn";

pub(super) fn diagnostics(cx: &CheckCx, params: &Params, severity: Severity) -> Vec<Diagnostic> {
    let model = Model::new(cx, params);
    let pairings = model.pairings();
    let found = model.unvalidated(&pairings);
    found.iter().map(|u| diagnostic(cx, u, severity)).collect()
}

fn diagnostic(cx: &CheckCx, u: &Unvalidated, severity: Severity) -> Diagnostic {
    let w = u.write;
    let p = u.pairing;
    let validator = &p.validator;
    // (A sea-orm entity whose table is not known: the column alone.)
    let column = if p.table.is_empty() { format!("`{}`", w.column) } else { format!("`{}.{}`", p.table, w.column) };
    let (what, statement) = match (w.kind, w.orm) {
        (Kind::Upsert, _) => ("an upsert's `DO UPDATE SET`", "the upsert"),
        (_, true) => ("an ORM update", "the update"),
        _ => ("an `UPDATE`", "the UPDATE"),
    };
    let required = match p.origin {
        Origin::Create { .. } => "which the column's create path calls on it",
        Origin::Configured(_) => "which the configuration requires for it",
    };
    let message = format!("{what} writes {column} in `{}` without `{validator}`, {required}", u.function.name);
    let mut secondary = Vec::new();
    for (loc, miss) in &u.misses {
        let message = match miss {
            Miss::After => format!("`{validator}` is called here, after the write: it runs too late"),
            Miss::OtherValue => format!("`{validator}` is called here on another value than the one written"),
            Miss::SomePaths => {
                format!("`{validator}` is called here only on some paths (in a block the write is not in)")
            }
        };
        secondary.push(Label { loc: *loc, message });
    }
    let mut notes = Vec::new();
    match &p.origin {
        Origin::Create { function, call, .. } => {
            secondary.push(Label {
                loc: *call,
                message: format!("the create path (`{function}`) calls `{validator}` on the `{}` it inserts", w.column),
            });
        }
        Origin::Configured(Some((start, end))) if cx.config_file.is_some() => secondary.push(Label {
            loc: crate::input::source::Loc::new(cx.config_file.expect("checked above"), *start, *end),
            message: format!("every write of {column} must call `{validator}`, says the configuration"),
        }),
        Origin::Configured(_) => notes.push(
            format!(
                "`{validator}` must check every write of {column}: `[[rules.{ID}.fields]]` in the configuration"
            )
            .into(),
        ),
    }
    if let Marker::Empty(loc) = &w.marker {
        secondary.push(Label {
            loc: *loc,
            message: "this `validated-by:` marker gives no reason, so it does not count".to_string(),
        });
    }
    let label = match &w.value {
        super::extract::Written::Value(v) => format!("`{}` is written here, unvalidated", v.join(".")),
        super::extract::Written::Unknown => "written here without the validator".to_string(),
    };
    Diagnostic {
        rule: ID,
        severity,
        loc: w.loc,
        message,
        label,
        secondary,
        why: Some(INCIDENT.into()),
        notes,
        help: Some(format!(
            "call `{validator}` on the new value before {statement} (here, or in every caller before it calls \
             `{}`), or mark the write `// validated-by: <reason>`",
            u.function.name
        )),
    }
}
