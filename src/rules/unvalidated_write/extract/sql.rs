//! One statement written in the code, read for the columns it writes and where each
//! value comes from: the bound argument a placeholder stands for (`$2`, the second
//! `?`), a constant of the SQL itself, or an `EXCLUDED.col` of an upsert (the value
//! the `INSERT` gives `col`). Also the pieces of a `SET` built at run time: an
//! `UPDATE t SET` prefix and `col = ` fragments.

use sqlparser::ast::{
    AssignmentTarget, Expr, JsonPathElem, ObjectName, ObjectNamePart, OnConflictAction, OnInsert, SetExpr, Statement, TableFactor,
    TableObject, Value, Visit, Visitor,
};
use sqlparser::parser::Parser;
use std::ops::{ControlFlow, Range};

/// How a statement writes a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// `INSERT INTO t (col) VALUES (…)`, an ORM's insert.
    Insert,
    /// `UPDATE t SET col = …`, an ORM's update.
    Update,
    /// `INSERT … ON CONFLICT … DO UPDATE SET col = …` (`ON DUPLICATE KEY UPDATE`).
    Upsert,
}

/// Where the value a column gets comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The bound arguments of these placeholders (1-based).
    Binds(Vec<usize>),
    /// A value of the SQL itself (a literal, `now()`, the column itself).
    Constant,
    /// A placeholder whose argument is not known (`:name`, a `format!` hole).
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlWrite {
    pub table: String,
    pub column: String,
    pub kind: Kind,
    pub source: Source,
    /// The column's byte range in the text.
    pub range: Option<Range<usize>>,
}

/// What a statement's text writes.
#[derive(Debug, Default)]
pub struct Read {
    pub writes: Vec<SqlWrite>,
    /// The table of an `UPDATE t SET …` that ends with its assignments (no `WHERE`,
    /// `FROM`, `RETURNING` after them): a start that pieces pushed after it may
    /// continue (a query builder's first piece that always sets `updated_at`).
    pub open_update: Option<String>,
}

/// The columns a statement writes; `None` when it does not parse in any dialect.
/// The `{…}` holes of a `format!` template stand for a value of unknown origin or,
/// when the text does not parse so, for nothing: SQL spliced into a list
/// (`SET slug = $1{touch} WHERE …`, with `touch` `, updated_at = now()` or empty).
pub fn writes(text: &str) -> Option<Read> {
    let fills: &[&str] = if text.contains('{') { &[":hole", ""] } else { &[":hole"] };
    let dialects: [Box<dyn sqlparser::dialect::Dialect>; 3] = [
        Box::new(sqlparser::dialect::PostgreSqlDialect {}),
        Box::new(sqlparser::dialect::MySqlDialect {}),
        Box::new(sqlparser::dialect::GenericDialect {}),
    ];
    // (Each dialect with either fill before the next dialect: MySQL reads `$1` as a
    // name, and `$1:hole` as a JSON path of it.)
    for dialect in &dialects {
        for hole in fills {
            let filled = crate::facts::sql::fill_format_holes_at(text, hole);
            let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Parser::parse_sql(dialect.as_ref(), &filled.text)
            }));
            let Ok(Ok(statements)) = parsed else { continue };
            // (`$1:hole` read as a JSON path of `$1`: the hole is glued to what comes
            // before it, SQL spliced in rather than a value.)
            if !hole.is_empty() && statements.visit(&mut GluedHole).is_break() {
                continue;
            }
            // A `?` after SQL spliced in (which may hold `?`s) has no known number.
            let spliced = if hole.is_empty() { filled.holes().next() } else { None };
            let mut out = read(&statements, &filled.text, spliced);
            for w in &mut out.writes {
                w.range = w.range.take().map(|r| filled.template_offset(r.start)..filled.template_offset(r.end));
            }
            return Some(out);
        }
    }
    None
}

/// The columns statements parsed from `text` write.
fn read(statements: &[Statement], text: &str, spliced: Option<usize>) -> Read {
    let lines = Lines::new(text);
    let mut out = Read::default();
    for statement in statements {
        let mut holes = Holes::default();
        let _ = statement.visit(&mut holes);
        let reader = Reader { lines: &lines, ordinals: holes.ordinals(&lines, spliced) };
        reader.statement(statement, &mut out.writes);
    }
    if let [Statement::Update(update)] = statements
        && let TableFactor::Table { name, .. } = &update.table.relation
        && update.selection.is_none()
        && update.from.is_none()
        && update.returning.is_none()
        && update.limit.is_none()
        && update.order_by.is_empty()
        && !text.trim_end().ends_with(';')
    {
        out.open_update = Some(last_name(name));
    }
    out
}

/// A filled hole read as the JSON path of what comes before it (`$1:hole`).
struct GluedHole;

impl Visitor for GluedHole {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::JsonAccess { path, .. }
                if path.path.iter().any(|p| matches!(p, JsonPathElem::Dot { key, quoted: false } if key == "hole")) =>
            {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Every placeholder of a statement, by position, for numbering the `?`s.
#[derive(Default)]
struct Holes {
    found: Vec<((u64, u64), String)>,
}

impl Holes {
    /// (position, number) of each placeholder with a known argument: not a `?` after
    /// `spliced`, an offset of the text.
    fn ordinals(mut self, lines: &Lines, spliced: Option<usize>) -> Vec<((u64, u64), Option<usize>)> {
        self.found.sort();
        let mut question = 0;
        self.found
            .into_iter()
            .map(|(at, text)| {
                let n = if text == "?" {
                    question += 1;
                    let after_splice = spliced.is_some_and(|s| {
                        let location = sqlparser::tokenizer::Location { line: at.0, column: at.1 };
                        lines.offset(location).is_none_or(|o| o >= s)
                    });
                    (!after_splice).then_some(question)
                } else {
                    text.strip_prefix('$').or_else(|| text.strip_prefix('?')).and_then(|n| n.parse().ok())
                };
                (at, n.filter(|&n| n > 0))
            })
            .collect()
    }
}

impl Visitor for Holes {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Value(v) = expr
            && let Value::Placeholder(text) = &v.value
        {
            self.found.push(((v.span.start.line, v.span.start.column), text.clone()));
        }
        ControlFlow::Continue(())
    }
}

struct Reader<'a> {
    lines: &'a Lines<'a>,
    ordinals: Vec<((u64, u64), Option<usize>)>,
}

impl Reader<'_> {
    fn statement(&self, statement: &Statement, out: &mut Vec<SqlWrite>) {
        match statement {
            Statement::Insert(insert) => {
                let TableObject::TableName(name) = &insert.table else { return };
                let table = last_name(name);
                let row = match insert.source.as_deref().map(|q| &*q.body) {
                    Some(SetExpr::Values(values)) => values.rows.first().map(|r| &r.content[..]),
                    _ => None,
                };
                let mut inserted = Vec::new();
                for (i, column) in insert.columns.iter().enumerate() {
                    let Some(ObjectNamePart::Identifier(ident)) = column.0.last() else { continue };
                    let source = match row.and_then(|r| r.get(i)) {
                        Some(expr) => self.source(expr, &[]),
                        // `INSERT … SELECT`: from the select, not known.
                        None => Source::Unknown,
                    };
                    let column = ident_name(ident);
                    inserted.push((column.clone(), source.clone()));
                    let range = self.lines.range(ident.span);
                    out.push(SqlWrite { table: table.clone(), column, kind: Kind::Insert, source, range });
                }
                let assignments = match &insert.on {
                    Some(OnInsert::OnConflict(on)) => match &on.action {
                        OnConflictAction::DoUpdate(update) => &update.assignments[..],
                        OnConflictAction::DoNothing => &[],
                    },
                    Some(OnInsert::DuplicateKeyUpdate(assignments)) => &assignments[..],
                    _ => &[],
                };
                for a in assignments {
                    for (column, range) in self.targets(&a.target) {
                        let source = self.source(&a.value, &inserted);
                        out.push(SqlWrite { table: table.clone(), column, kind: Kind::Upsert, source, range });
                    }
                }
            }
            Statement::Update(update) => {
                let TableFactor::Table { name, .. } = &update.table.relation else { return };
                let table = last_name(name);
                for a in &update.assignments {
                    for (column, range) in self.targets(&a.target) {
                        let source = self.source(&a.value, &[]);
                        out.push(SqlWrite { table: table.clone(), column, kind: Kind::Update, source, range });
                    }
                }
            }
            _ => {}
        }
    }

    fn targets(&self, target: &AssignmentTarget) -> Vec<(String, Option<Range<usize>>)> {
        let names = match target {
            AssignmentTarget::ColumnName(n) => std::slice::from_ref(n),
            // `SET (a, b) = ($1, $2)`: which value is whose is not read.
            AssignmentTarget::Tuple(_) => return Vec::new(),
        };
        names
            .iter()
            .filter_map(|n| match n.0.last() {
                Some(ObjectNamePart::Identifier(ident)) => Some((ident_name(ident), self.lines.range(ident.span))),
                _ => None,
            })
            .collect()
    }

    /// Where an assigned expression's value comes from: its placeholders, else the
    /// values an upsert's `EXCLUDED.col` names, else the SQL itself.
    fn source(&self, expr: &Expr, inserted: &[(String, Source)]) -> Source {
        let mut holes = Holes::default();
        let _ = expr.visit(&mut holes);
        if !holes.found.is_empty() {
            let mut binds = Vec::new();
            for (at, _) in &holes.found {
                match self.ordinals.iter().find(|(p, _)| p == at).and_then(|(_, n)| *n) {
                    Some(n) => binds.push(n),
                    None => return Source::Unknown,
                }
            }
            return Source::Binds(binds);
        }
        let mut excluded = Excluded::default();
        let _ = expr.visit(&mut excluded);
        let mut binds = Vec::new();
        for column in excluded.columns {
            match inserted.iter().find(|(c, _)| *c == column).map(|(_, s)| s) {
                Some(Source::Binds(b)) => binds.extend(b),
                Some(Source::Unknown) => return Source::Unknown,
                Some(Source::Constant) | None => {}
            }
        }
        if binds.is_empty() { Source::Constant } else { Source::Binds(binds) }
    }
}

/// The columns `EXCLUDED.col` (or MySQL's `VALUES(col)`) names in an expression.
#[derive(Default)]
struct Excluded {
    columns: Vec<String>,
}

impl Visitor for Excluded {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::CompoundIdentifier(parts) if parts.len() == 2 && parts[0].value.eq_ignore_ascii_case("excluded") => {
                self.columns.push(ident_name(&parts[1]));
            }
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("values") => {
                if let sqlparser::ast::FunctionArguments::List(list) = &f.args
                    && let Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                        Expr::Identifier(ident),
                    ))) = list.args.first()
                {
                    self.columns.push(ident_name(ident));
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn ident_name(ident: &sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() { ident.value.clone() } else { ident.value.to_lowercase() }
}

fn last_name(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => ident_name(ident),
        _ => name.to_string().to_lowercase(),
    }
}

/// Byte offsets of sqlparser's 1-based line and column (in characters).
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { text, starts }
    }

    fn offset(&self, at: sqlparser::tokenizer::Location) -> Option<usize> {
        let start = *self.starts.get((at.line as usize).checked_sub(1)?)?;
        let line = &self.text[start..];
        let col = (at.column as usize).checked_sub(1)?;
        Some(start + line.char_indices().nth(col).map_or(line.len(), |(b, _)| b))
    }

    fn range(&self, span: sqlparser::tokenizer::Span) -> Option<Range<usize>> {
        let (start, end) = (self.offset(span.start)?, self.offset(span.end)?);
        (start < end).then_some(start..end)
    }
}

/// `UPDATE [schema.]t SET …` that is only the start of a statement (a query
/// builder's first piece, a `format!` template with the assignments as a hole): the
/// table, and the text after `SET`.
pub fn update_prefix(text: &str) -> Option<(String, String)> {
    let trimmed = text.trim_start();
    let mut words = trimmed.splitn(4, char::is_whitespace).filter(|w| !w.is_empty());
    let (update, table) = (words.next()?, words.next()?);
    if !update.eq_ignore_ascii_case("update") {
        return None;
    }
    let table_end = trimmed.find(table)? + table.len();
    let rest = trimmed[table_end..].trim_start();
    let set = rest.get(..3).filter(|s| s.eq_ignore_ascii_case("set"))?;
    let after = &rest[set.len()..];
    if !after.is_empty() && !after.starts_with(char::is_whitespace) {
        return None;
    }
    let table = table.trim_matches('"').rsplit('.').next()?.trim_matches('"').to_lowercase();
    is_identifier(&table).then(|| (table, after.to_string()))
}

/// The column of a piece of a `SET` list written alone: `runtime = `, `, runtime =
/// $2`, `runtime = ?`, `runtime = ${}` (the number filled in by `format!`).
pub fn set_piece(text: &str) -> Option<String> {
    let t = text.trim().trim_start_matches(',').trim();
    let (column, value) = t.split_once('=')?;
    let column = column.trim().trim_matches('"');
    let value = value.trim().trim_end_matches(',').trim();
    let value_ok = value.is_empty()
        || value == "?"
        || value == "$"
        || value.strip_prefix('$').is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        || (value.starts_with("${") || value.starts_with('{')) && value.ends_with('}');
    (is_identifier(column) && value_ok && !value.starts_with('=')).then(|| column.to_lowercase())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(String, String, Kind, Source)> {
        writes(text).unwrap().writes.into_iter().map(|w| (w.table, w.column, w.kind, w.source)).collect()
    }

    #[test]
    fn columns_and_their_binds() {
        let got = read("INSERT INTO workspaces (id, runtime, status) VALUES ($1, $2, 'new')");
        assert_eq!(got[1], ("workspaces".into(), "runtime".into(), Kind::Insert, Source::Binds(vec![2])));
        assert_eq!(got[2].3, Source::Constant);
        let got = read("UPDATE public.workspaces SET runtime = COALESCE(?, runtime), name = ? WHERE id = ?");
        assert_eq!(got[0], ("workspaces".into(), "runtime".into(), Kind::Update, Source::Binds(vec![1])));
        assert_eq!(got[1].3, Source::Binds(vec![2]));
        let got = read(
            "INSERT INTO workspaces (id, runtime) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET runtime = \
             EXCLUDED.runtime, updated_at = now()",
        );
        assert_eq!(got[2], ("workspaces".into(), "runtime".into(), Kind::Upsert, Source::Binds(vec![2])));
        assert_eq!(got[3].3, Source::Constant);
        let got = read("UPDATE workspaces SET runtime = {} WHERE id = $1");
        assert_eq!(got[0].3, Source::Unknown);
    }

    #[test]
    fn holes_spliced_into_a_list() {
        // A hole glued to a placeholder is SQL spliced in (or nothing), not a value.
        for text in [
            "UPDATE workspaces SET slug = $1{touch} WHERE id = $2",
            "UPDATE workspaces SET slug = $1 {} WHERE id = $2",
            "UPDATE workspaces SET name = $2, slug = $1{0} WHERE id = $3",
        ] {
            let got = writes(text).unwrap().writes;
            let slug = got.iter().find(|w| w.column == "slug").expect(text);
            assert_eq!(slug.source, Source::Binds(vec![1]), "{text}");
            assert_eq!(&text[slug.range.clone().unwrap()], "slug", "{text}");
        }
        // A `?` after the splice may be numbered otherwise: its argument is not known.
        let got = read("UPDATE workspaces SET slug = ?{more}, runtime = ? WHERE id = ?");
        assert_eq!((got[0].3.clone(), got[1].3.clone()), (Source::Binds(vec![1]), Source::Unknown));
        // Columns after a hole are placed in the template.
        let text = "UPDATE workspaces SET a = {}, runtime = $1";
        let runtime = &writes(text).unwrap().writes[1];
        assert_eq!(&text[runtime.range.clone().unwrap()], "runtime");
    }

    #[test]
    fn a_whole_assignment_list_may_be_continued() {
        let open = |text: &str| writes(text).unwrap().open_update;
        assert_eq!(open("UPDATE api_keys SET updated_at = now()").as_deref(), Some("api_keys"));
        assert_eq!(open("UPDATE api_keys SET updated_at = now(), label = label").as_deref(), Some("api_keys"));
        assert_eq!(open("UPDATE api_keys SET updated_at = now(){rest}").as_deref(), Some("api_keys"));
        assert_eq!(open("UPDATE api_keys SET updated_at = now() WHERE id = $1"), None);
        assert_eq!(open("UPDATE api_keys SET updated_at = now() RETURNING id"), None);
        assert_eq!(open("UPDATE api_keys SET updated_at = now();"), None);
        assert_eq!(open("INSERT INTO api_keys (label) VALUES ($1)"), None);
    }

    #[test]
    fn pieces_of_a_set_built_at_run_time() {
        assert_eq!(update_prefix("UPDATE workspaces SET "), Some(("workspaces".into(), " ".into())));
        assert_eq!(update_prefix("update ws.workspaces set runtime = "), Some(("workspaces".into(), " runtime = ".into())));
        assert_eq!(update_prefix("UPDATE workspaces SETTINGS"), None);
        assert_eq!(set_piece(", runtime = "), Some("runtime".into()));
        assert_eq!(set_piece("runtime = $2"), Some("runtime".into()));
        assert_eq!(set_piece("runtime = ${}"), Some("runtime".into()));
        assert_eq!(set_piece("a = b"), None);
        assert_eq!(set_piece("x == "), None);
    }
}
