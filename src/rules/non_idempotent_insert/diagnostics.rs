//! The findings' text: what repeats the INSERT (the loop, the adapter's closure, the
//! recursion), the call chain that reaches it, a preflight that comes too late, the
//! incident note, the escape hatches and the help.

use super::analysis::{Analysis, CallFinding, Finding, InsertOcc};
use super::{FnInsertFacts, ID, InsertParams};
use crate::rules::diagnostic::{Diagnostic, Label, Severity};

const INCIDENT: &str = "re-running it inserts duplicate rows: the org-template import did this and leaked 72 \
                        workspaces and ~14 EC2 instances in 4 days";

/// The diagnostic of a finding.
pub(super) fn diagnostic(finding: &Finding, params: &InsertParams, severity: Severity) -> Diagnostic {
    match finding {
        Finding::Direct { f, occ } => direct_finding(f, occ, params, severity),
        Finding::Call(call) => call_finding(call, params, severity),
    }
}

/// What repeats the code at `innermost`: the loop's header, and for a project's own
/// retry function also the loop in it that calls the closure again.
fn loop_label(f: &FnInsertFacts, innermost: Option<u32>) -> Vec<Label> {
    let Some(l) = innermost.and_then(|l| f.loops.get(l as usize)) else { return Vec::new() };
    let what = if l.kind.starts_with('.') {
        format!("the closure passed to `{}` runs once per item", l.kind)
    } else if let Some(wrapper) = l.kind.strip_prefix("retry ") {
        format!("`{wrapper}` runs its closure again until it succeeds")
    } else if l.kind == "loop" {
        "this `loop` repeats it".to_string()
    } else {
        format!("this `{}` loop repeats it", l.kind)
    };
    let mut labels = vec![Label { loc: l.header, message: what }];
    if let (Some(at), Some(wrapper)) = (l.repeated_at, l.kind.strip_prefix("retry ")) {
        labels.push(Label { loc: at, message: format!("`{wrapper}` calls the closure again in this loop") });
    }
    labels
}

/// The notes of a finding repeated by `innermost`: the escape hatches, and for a
/// retried closure how a retry duplicates rows.
fn notes(f: &FnInsertFacts, innermost: Option<u32>, params: &InsertParams) -> Vec<std::borrow::Cow<'static, str>> {
    let mut notes = vec![params.escape_hatches().into()];
    if innermost.and_then(|l| f.loops.get(l as usize)).is_some_and(|l| l.kind.starts_with("retry ")) {
        notes.push(
            "a retry runs the closure again when an attempt fails after its INSERT committed (a timeout, a dropped \
             connection): the row is inserted twice"
                .into(),
        );
    }
    notes
}

/// What one repetition of the code at `innermost` is: an attempt of a retried
/// closure, else an iteration.
fn each_run(f: &FnInsertFacts, innermost: Option<u32>) -> &'static str {
    match innermost.and_then(|l| f.loops.get(l as usize)) {
        Some(l) if l.kind.starts_with("retry ") => "on every attempt",
        _ => "on every iteration",
    }
}

fn repeated_by(f: &FnInsertFacts, innermost: Option<u32>) -> String {
    match innermost.and_then(|l| f.loops.get(l as usize)) {
        Some(l) if l.kind.starts_with('.') => format!("in a closure passed to `{}`", l.kind),
        Some(l) if l.kind.starts_with("retry ") => format!("in a closure retried by `{}`", &l.kind[6..]),
        Some(l) if l.kind == "loop" => "in a `loop`".to_string(),
        Some(l) => format!("in a `{}` loop", l.kind),
        None => "repeatedly".to_string(),
    }
}

fn direct_finding(f: &FnInsertFacts, occ: &InsertOcc, params: &InsertParams, severity: Severity) -> Diagnostic {
    let mut secondary: Vec<Label> = loop_label(f, occ.innermost);
    if let Some((loc, message)) = &occ.via {
        secondary.push(Label { loc: *loc, message: message.clone() });
    }
    let late = Analysis::preflight_after(f, occ.innermost, occ.order, &occ.sql.table);
    if let Some(loc) = late {
        secondary.push(Label { loc, message: "this guard runs after the INSERT: it protects nothing".to_string() });
    }
    let mut message = format!(
        "INSERT INTO `{}` runs {} in `{}` without an idempotency guard",
        occ.sql.table,
        repeated_by(f, occ.innermost),
        f.name
    );
    if late.is_some() {
        message.push_str(" (its preflight comes after the INSERT)");
    }
    Diagnostic {
        rule: ID,
        severity,
        loc: occ.loc,
        message,
        label: format!("inserts a new row {}", each_run(f, occ.innermost)),
        secondary,
        why: Some(INCIDENT.into()),
        notes: notes(f, occ.innermost, params),
        help: Some(help(params)),
    }
}

/// A recursive walk that runs its own INSERT once per node: reported at the INSERT,
/// the recursive call and its loop as the reasons.
fn walk_finding(c: &CallFinding, params: &InsertParams, severity: Severity) -> Diagnostic {
    let CallFinding { f, event: e, witness, .. } = *c;
    let mut secondary = loop_label(f, e.innermost);
    secondary.push(Label { loc: e.loc, message: format!("this recursive call runs `{}` again", f.name) });
    Diagnostic {
        rule: ID,
        severity,
        loc: witness.insert,
        message: format!(
            "INSERT INTO `{}` runs once per node of the recursive walk `{}` without an idempotency guard",
            witness.table, f.name
        ),
        label: "inserts a new row for every node it walks".to_string(),
        secondary,
        why: Some(INCIDENT.into()),
        notes: notes(f, e.innermost, params),
        help: Some(help(params)),
    }
}

fn call_finding(c: &CallFinding, params: &InsertParams, severity: Severity) -> Diagnostic {
    if c.walks_own_insert() {
        return walk_finding(c, params, severity);
    }
    let CallFinding { f, event: e, order, callee, witness, ref through, omitted, .. } = *c;
    let mut secondary = Vec::new();
    secondary.extend(loop_label(f, e.innermost));
    secondary
        .push(Label { loc: callee.name_loc, message: format!("`{}` does not guard the INSERT it runs", callee.name) });
    let mut chain: Vec<String> = through.iter().map(|(n, _)| format!("`{n}`")).collect();
    if omitted > 0 {
        chain.insert(chain.len() - 1, format!("… {omitted} more"));
    }
    // The function whose body holds the INSERT: the end of the chain, or the callee itself.
    let holder = through.last().map_or(&callee.name, |(n, _)| n);
    let through = if chain.is_empty() { String::new() } else { format!(" (through {})", chain.join(" → ")) };
    let reached = if chain.is_empty() {
        String::new()
    } else {
        format!(" (reached through `{}` → {})", callee.name, chain.join(" → "))
    };
    secondary.push(Label {
        loc: witness.insert,
        message: format!("the INSERT INTO `{}` it reaches{through}", witness.table),
    });
    if let Some(loc) = Analysis::preflight_after(f, e.innermost, order, &witness.table) {
        secondary.push(Label { loc, message: "this guard runs after the call: it protects nothing".to_string() });
    }
    let (message, label) = call_message(c);
    Diagnostic {
        rule: ID,
        severity,
        loc: e.loc,
        message,
        label,
        secondary,
        why: Some(INCIDENT.into()),
        notes: notes(f, e.innermost, params),
        help: Some(format!(
            "{}; or guard the INSERT inside `{holder}`{reached} so it is safe to call repeatedly",
            help(params)
        )),
    }
}

/// The message and primary label of a call finding: a recursive call, or a call in a loop.
fn call_message(c: &CallFinding) -> (String, String) {
    let CallFinding { f, event: e, callee, witness, recursive, .. } = *c;
    if recursive {
        (
            format!(
                "recursive call to `{}` repeats an unguarded INSERT INTO `{}`{}",
                callee.name,
                witness.table,
                if e.innermost.is_none() { String::new() } else { format!(" {}", repeated_by(f, e.innermost)) }
            ),
            "recursion runs the INSERT once per node".to_string(),
        )
    } else {
        (
            format!(
                "call to `{}` {} in `{}` reaches an unguarded INSERT INTO `{}`",
                callee.name,
                repeated_by(f, e.innermost),
                f.name,
                witness.table
            ),
            format!("runs `{}` {}", callee.name, each_run(f, e.innermost)),
        )
    }
}

fn help(params: &InsertParams) -> String {
    format!(
        "call a preflight helper ({}) before the INSERT and skip rows that exist, or make it an upsert \
         (`ON CONFLICT … DO NOTHING` / `DO UPDATE`; diesel and sea-orm: `.on_conflict(..)`)",
        params.helpers()
    )
}
