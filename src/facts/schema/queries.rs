//! The SQL in the code, read for the schema rules: which tables a statement names,
//! which columns of which table, and its upsert's conflict target. Read with
//! sqlparser's full parser in the project's dialect; a text that does not parse (a
//! template, a dialect extension, prose that starts like a statement) yields nothing.
//!
//! Columns are only read where the table they belong to is certain: an `INSERT`'s
//! column list, `ON CONFLICT` target and `RETURNING`, an `UPDATE`'s `SET` targets,
//! and the select list and `WHERE` of a statement with no subquery in them — a
//! qualified column (`u.email`) by its table or alias, an unqualified one when one
//! table is in scope (or it names a column of none of them). `ORDER BY`, `GROUP BY`
//! and `HAVING` may name the select list's aliases, and are not read.

use super::split::LineIndex;
use super::{Dialect, ident_key, normalize_expr, table_key};
use sqlparser::ast::{
    AssignmentTarget, ConflictTarget, Expr, FromTable, Ident, ObjectName, OnInsert, Query, SelectItem, SetExpr,
    Spanned, Statement, TableFactor, TableObject, TableWithJoins, Visit, Visitor,
};
use sqlparser::parser::Parser;
use std::ops::{ControlFlow, Range};

/// A table a statement names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableUse {
    /// As [`super::Schema::tables`] keys it.
    pub key: String,
    pub written: String,
    /// Its byte range in the text, when known.
    pub range: Option<Range<usize>>,
    /// The statement writes rows into it (`INSERT`, `UPDATE`, `MERGE`).
    pub write: bool,
}

/// A column a statement names, of a table it is certain of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnUse {
    pub table: String,
    pub column: String,
    pub written: String,
    pub range: Option<Range<usize>>,
    /// Where it is named (`INSERT column list`, `SET`, `WHERE`, …).
    pub clause: &'static str,
    /// For an unqualified column in a nested query (a subquery, a `WITH` body): the
    /// other tables of the statement, whose column it may be (a correlated reference).
    pub or_outer: Vec<String>,
    /// Written in double quotes (`"now"`): SQLite reads such a word as a string when
    /// no column has that name.
    pub double_quoted: bool,
}

/// What an `INSERT … ON CONFLICT` names as its conflict target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `ON CONFLICT (a, b) [WHERE …]`: the columns, and the predicate normalized.
    Columns { columns: Vec<String>, predicate: Option<String> },
    /// `ON CONFLICT ON CONSTRAINT name`.
    Constraint(String),
    /// `ON CONFLICT DO NOTHING`: any unique key.
    Any,
}

/// An upsert: `INSERT … ON CONFLICT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upsert {
    pub table: String,
    pub target: Target,
    /// The columns the `INSERT` writes (empty: not listed).
    pub columns: Vec<String>,
    /// The conflict target's byte range (the table's, when it has none).
    pub range: Option<Range<usize>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryRefs {
    /// Tables the statement creates or drops (`CREATE TEMPORARY TABLE`, `DROP TABLE`
    /// of a legacy table): the code manages them itself.
    pub created: Vec<String>,
    /// The statement changes rows (`INSERT`, `UPDATE`, `DELETE`), not only reads them.
    pub modifies: bool,
    pub tables: Vec<TableUse>,
    pub columns: Vec<ColumnUse>,
    pub upserts: Vec<Upsert>,
}

/// Reads a statement (or several) written in the code; `None` when it does not parse.
pub fn read_query(text: &str, dialect: Dialect) -> Option<QueryRefs> {
    let parser = dialect.parser();
    let statements =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Parser::parse_sql(parser.as_ref(), text)))
            .ok()?
            .ok()?;
    let mut reader =
        Reader { dialect, lines: LineIndex::new(text), out: QueryRefs::default(), ctes: Vec::new(), outer: Vec::new() };
    for statement in &statements {
        reader.statement(statement);
    }
    Some(reader.out)
}

struct Reader<'a> {
    dialect: Dialect,
    lines: LineIndex<'a>,
    out: QueryRefs,
    /// The names `WITH` gives in the statement (not tables).
    ctes: Vec<String>,
    /// While a nested query is read: the statement's tables outside its own scope.
    outer: Vec<String>,
}

/// The tables in scope for columns: (alias or name, table key), the key `None` for
/// a `FROM` item whose columns are not known (a derived table, a function, `VALUES`,
/// a `WITH` name).
type Scope = Vec<(String, Option<String>)>;

impl Reader<'_> {
    fn range(&self, node: &impl Spanned) -> Option<Range<usize>> {
        self.span_range(node.span())
    }

    fn span_range(&self, span: sqlparser::tokenizer::Span) -> Option<Range<usize>> {
        let start = self.lines.offset(span.start)?;
        let end = self.lines.offset(span.end)?;
        (start < end).then_some(start..end)
    }

    fn statement(&mut self, statement: &Statement) {
        // Every table named anywhere in it (subqueries included), but `WITH` names.
        let mut ctes = CteNames { dialect: self.dialect, names: Vec::new() };
        let _ = statement.visit(&mut ctes);
        self.ctes = ctes.names;
        let mut tables = TableNames { names: Vec::new() };
        let _ = statement.visit(&mut tables);
        for name in tables.names {
            self.table_use(&name, false);
        }
        // Writes anywhere in it: `WITH inserted AS (INSERT INTO t …) SELECT …`.
        let mut writes = Writes { names: Vec::new(), nested: Vec::new(), depth: 0 };
        let _ = statement.visit(&mut writes);
        for name in writes.names {
            self.out.modifies = true;
            self.table_use(&name, true);
        }
        self.dml(statement);
        // Inserts and updates inside `WITH`: their columns and conflict targets.
        for nested in &writes.nested {
            self.dml(nested);
        }
        // Queries nested in it (subqueries, `WITH` bodies), each in its own scope; an
        // unqualified column there may be an outer table's (correlated).
        let mut queries = Queries { found: Vec::new(), depth: 0 };
        let _ = statement.visit(&mut queries);
        self.outer = self.out.tables.iter().map(|t| t.key.clone()).collect();
        for q in &queries.found {
            self.query(q);
        }
        self.outer.clear();
    }

    fn dml(&mut self, statement: &Statement) {
        self.out.modifies |= matches!(statement, Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_));
        match statement {
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => {
                let from = match &delete.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
                };
                let scope = self.scope(from);
                if let Some(selection) = &delete.selection {
                    self.expr_columns(selection, &scope, "WHERE");
                }
            }
            Statement::Query(query) => self.query(query),
            Statement::CreateTable(create) => {
                let key = table_key(&create.name, self.dialect);
                self.out.tables.retain(|t| t.key != key);
                self.out.created.push(key);
            }
            // `COPY t FROM STDIN`: a bulk load writes the table.
            Statement::Copy { source: sqlparser::ast::CopySource::Table { table_name, .. }, to: false, .. } => {
                self.out.modifies = true;
                self.table_use(table_name, true);
            }
            Statement::Drop { object_type: sqlparser::ast::ObjectType::Table, names, .. } => {
                for name in names {
                    self.out.created.push(table_key(name, self.dialect));
                }
            }
            _ => {}
        }
    }

    fn table_use(&mut self, name: &ObjectName, write: bool) -> Option<String> {
        let key = table_key(name, self.dialect);
        if self.ctes.contains(&key) {
            return None;
        }
        let range = self.range(name);
        match self.out.tables.iter_mut().find(|t| t.key == key && t.range == range) {
            Some(t) => t.write |= write,
            None => self.out.tables.push(TableUse { key: key.clone(), written: name.to_string(), range, write }),
        }
        Some(key)
    }

    /// Records a column of `table`. A qualified one (`versions.num`) names its table
    /// in the query's own scope, so no outer table may own it instead.
    fn column(&mut self, table: &str, ident: &Ident, clause: &'static str) {
        self.column_of(table, ident, clause, false);
    }

    fn column_of(&mut self, table: &str, ident: &Ident, clause: &'static str, qualified: bool) {
        let range = self.span_range(ident.span);
        let column = ident_key(ident, self.dialect);
        // (A nested query read twice, as a subquery and as an INSERT's source, names
        // a column once.)
        if self.out.columns.iter().any(|c| c.table == table && c.column == column && c.range == range) {
            return;
        }
        let or_outer =
            if qualified { Vec::new() } else { self.outer.iter().filter(|t| *t != table).cloned().collect() };
        self.out.columns.push(ColumnUse {
            table: table.to_string(),
            column,
            written: ident.value.clone(),
            range,
            clause,
            or_outer,
            double_quoted: ident.quote_style == Some('"'),
        });
    }

    fn insert(&mut self, insert: &sqlparser::ast::Insert) {
        let TableObject::TableName(name) = &insert.table else { return };
        let Some(table) = self.table_use(name, true) else { return };
        let mut written = Vec::new();
        for column in &insert.columns {
            if let [sqlparser::ast::ObjectNamePart::Identifier(ident)] = &column.0[..] {
                self.column(&table, ident, "INSERT column list");
                written.push(ident_key(ident, self.dialect));
            }
        }
        if let Some(source) = &insert.source {
            self.query(source);
        }
        let mut scope: Scope = vec![(table.clone(), Some(table.clone())), ("excluded".into(), Some(table.clone()))];
        if let Some(alias) = &insert.table_alias {
            scope.push((ident_key(&alias.alias, self.dialect), Some(table.clone())));
        }
        if let Some(OnInsert::OnConflict(on)) = &insert.on {
            let (target, range) = match &on.conflict_target {
                Some(ConflictTarget::Columns { columns, predicate }) => {
                    for c in columns {
                        self.column(&table, c, "ON CONFLICT target");
                    }
                    let range = columns.first().and_then(|c| self.span_range(c.span));
                    let columns = columns.iter().map(|c| ident_key(c, self.dialect)).collect();
                    let predicate = predicate.as_ref().map(|p| normalize_expr(p, self.dialect));
                    (Target::Columns { columns, predicate }, range)
                }
                Some(ConflictTarget::OnConstraint(name)) => {
                    (Target::Constraint(table_key(name, self.dialect)), self.range(name))
                }
                None => (Target::Any, self.range(name)),
            };
            self.out.upserts.push(Upsert { table: table.clone(), target, columns: written, range });
            if let sqlparser::ast::OnConflictAction::DoUpdate(update) = &on.action {
                for a in &update.assignments {
                    self.assignment_target(&a.target, &table);
                    self.expr_columns(&a.value, &scope, "DO UPDATE SET");
                }
            }
        }
        if let Some(returning) = &insert.returning {
            self.select_items(returning, &scope, "RETURNING");
        }
    }

    fn assignment_target(&mut self, target: &AssignmentTarget, table: &str) {
        let names = match target {
            AssignmentTarget::ColumnName(n) => std::slice::from_ref(n),
            AssignmentTarget::Tuple(ns) => &ns[..],
        };
        for n in names {
            if let Some(sqlparser::ast::ObjectNamePart::Identifier(ident)) = n.0.last() {
                self.column(table, ident, "SET");
            }
        }
    }

    fn update(&mut self, update: &sqlparser::ast::Update) {
        // `UPDATE t SET … FROM u WHERE …`: both tables are in scope.
        let mut from = vec![update.table.clone()];
        if let Some(
            sqlparser::ast::UpdateTableFromKind::BeforeSet(t) | sqlparser::ast::UpdateTableFromKind::AfterSet(t),
        ) = &update.from
        {
            from.extend(t.iter().cloned());
        }
        let scope = self.scope(&from);
        let TableFactor::Table { name, .. } = &update.table.relation else { return };
        let Some(table) = self.table_use(name, true) else { return };
        for a in &update.assignments {
            self.assignment_target(&a.target, &table);
            self.expr_columns(&a.value, &scope, "SET");
        }
        if let Some(selection) = &update.selection {
            self.expr_columns(selection, &scope, "WHERE");
        }
        if let Some(returning) = &update.returning {
            self.select_items(returning, &scope, "RETURNING");
        }
    }

    fn query(&mut self, query: &Query) {
        self.set_expr(&query.body);
    }

    fn set_expr(&mut self, body: &SetExpr) {
        let select = match body {
            SetExpr::Select(select) => select,
            // `WITH n AS (…) INSERT INTO t …` (the top statement's, read by `dml`).
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) => return,
            SetExpr::Query(q) => return self.query(q),
            // Each branch of a `UNION` is a select of its own.
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
                return;
            }
            _ => return,
        };
        let scope = self.scope(&select.from);
        if scope.is_empty() {
            return;
        }
        self.select_items(&select.projection, &scope, "select list");
        if let Some(selection) = &select.selection {
            self.expr_columns(selection, &scope, "WHERE");
        }
        // `JOIN … ON a.x = b.y`: qualified columns only (an unqualified one could be
        // either table's).
        for join in select.from.iter().flat_map(|t| &t.joins) {
            use sqlparser::ast::{JoinConstraint, JoinOperator as J};
            let (J::Join(JoinConstraint::On(on))
            | J::Inner(JoinConstraint::On(on))
            | J::Left(JoinConstraint::On(on))
            | J::LeftOuter(JoinConstraint::On(on))
            | J::Right(JoinConstraint::On(on))
            | J::RightOuter(JoinConstraint::On(on))) = &join.join_operator
            else {
                continue;
            };
            self.expr_columns(on, &scope, "JOIN ON");
        }
    }

    /// The tables of a `FROM` (with their joins) by alias and name; an item that is
    /// not a plain table is in scope with columns not known.
    fn scope(&self, from: &[TableWithJoins]) -> Scope {
        let mut scope = Scope::new();
        let factors = from.iter().flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
        for factor in factors {
            let alias = |alias: &Option<sqlparser::ast::TableAlias>| {
                alias.as_ref().map(|a| ident_key(&a.name, self.dialect)).unwrap_or_default()
            };
            let (name, alias) = match factor {
                TableFactor::Table { name, alias: a, args: None, .. } => (name, alias(a)),
                TableFactor::Table { alias: a, .. }
                | TableFactor::Derived { alias: a, .. }
                | TableFactor::TableFunction { alias: a, .. }
                | TableFactor::Function { alias: a, .. }
                | TableFactor::UNNEST { alias: a, .. } => {
                    scope.push((alias(a), None));
                    continue;
                }
                _ => {
                    scope.push((String::new(), None));
                    continue;
                }
            };
            let key = table_key(name, self.dialect);
            // `"Users".id` names the table as its key does.
            let last = match name.0.last() {
                Some(sqlparser::ast::ObjectNamePart::Identifier(ident)) => ident_key(ident, self.dialect),
                Some(part) => part.to_string().to_lowercase(),
                None => String::new(),
            };
            let key = (!self.ctes.contains(&key)).then_some(key);
            scope.push((last, key.clone()));
            if !alias.is_empty() {
                scope.push((alias, key));
            }
        }
        scope
    }

    fn select_items(&mut self, items: &[SelectItem], scope: &Scope, clause: &'static str) {
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    self.expr_columns(e, scope, clause)
                }
                _ => {}
            }
        }
    }

    /// The columns an expression names, when it holds no subquery.
    fn expr_columns(&mut self, expr: &Expr, scope: &Scope, clause: &'static str) {
        let mut idents = Idents { found: Vec::new(), subquery: false, argument_names: Vec::new() };
        let _ = expr.visit(&mut idents);
        if idents.subquery || scope.is_empty() {
            return;
        }
        let mut tables: Vec<&String> =
            scope.iter().filter_map(|(_, k)| k.as_ref()).filter(|k| *k != "excluded").collect();
        tables.dedup();
        // An unqualified column may be a column of an item whose columns are not known.
        let all_known = scope.iter().all(|(_, k)| k.is_some());
        for parts in idents.found {
            match &parts[..] {
                [column] => {
                    // One table in scope: the column is its. Several: it must be one's.
                    if let ([table], true) = (&tables[..], all_known) {
                        let table = (*table).clone();
                        self.column(&table, column, clause);
                    }
                }
                [qualifier, column] => {
                    let q = ident_key(qualifier, self.dialect);
                    // (A derived table's alias hides a table of that name.)
                    let mut named = scope.iter().filter(|(name, _)| *name == q);
                    if let Some((_, Some(table))) = named.next()
                        && named.all(|(_, k)| k.is_some())
                    {
                        let table = table.clone();
                        self.column_of(&table, column, clause, true);
                    }
                }
                _ => {}
            }
        }
    }
}

/// The identifiers of an expression (`a`, `t.a`), and whether it holds a subquery.
/// A named argument's name (`make_interval(secs => $1)`) is no column.
struct Idents {
    found: Vec<Vec<Ident>>,
    subquery: bool,
    argument_names: Vec<sqlparser::tokenizer::Span>,
}

impl Visitor for Idents {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(f) => {
                if let sqlparser::ast::FunctionArguments::List(list) = &f.args {
                    for arg in &list.args {
                        match arg {
                            sqlparser::ast::FunctionArg::Named { name, .. } => self.argument_names.push(name.span),
                            sqlparser::ast::FunctionArg::ExprNamed { name: Expr::Identifier(i), .. } => {
                                self.argument_names.push(i.span)
                            }
                            _ => {}
                        }
                    }
                }
            }
            Expr::Identifier(i) if self.argument_names.contains(&i.span) => {}
            // `$1` (read as a name by some dialects), `""` (SQLite's string): no column.
            Expr::Identifier(i) if i.value.is_empty() || i.value.starts_with(['$', '?', ':', '@']) => {}
            Expr::Identifier(i) => self.found.push(vec![i.clone()]),
            Expr::CompoundIdentifier(parts) => self.found.push(parts.clone()),
            Expr::Subquery(_) | Expr::Exists { .. } => self.subquery = true,
            _ => {}
        }
        ControlFlow::Continue(())
    }
    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.subquery = true;
        ControlFlow::Continue(())
    }
}

/// The names `WITH` clauses give, anywhere in a statement.
struct CteNames {
    dialect: Dialect,
    names: Vec<String>,
}

impl Visitor for CteNames {
    type Break = ();
    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            self.names.extend(with.cte_tables.iter().map(|c| ident_key(&c.alias.name, self.dialect)));
        }
        ControlFlow::Continue(())
    }
}

/// The queries nested in a statement (below its own top-level query).
struct Queries {
    found: Vec<Query>,
    depth: usize,
}

impl Visitor for Queries {
    type Break = ();
    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.depth += 1;
        if self.depth > 1 {
            self.found.push(query.clone());
        }
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        // An INSERT's or UPDATE's own query counts as nested.
        if matches!(statement, Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)) {
            self.depth += 1;
        }
        ControlFlow::Continue(())
    }
    fn post_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        if matches!(statement, Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)) {
            self.depth -= 1;
        }
        ControlFlow::Continue(())
    }
}

/// The tables the statements nested anywhere in a statement insert into or update,
/// and those statements below the top one (`WITH inserted AS (INSERT …) SELECT …`).
struct Writes {
    names: Vec<ObjectName>,
    nested: Vec<Statement>,
    depth: usize,
}

impl Visitor for Writes {
    type Break = ();
    fn post_visit_statement(&mut self, _: &Statement) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        self.depth += 1;
        if self.depth > 1 && matches!(statement, Statement::Insert(_) | Statement::Update(_)) {
            self.nested.push(statement.clone());
        }
        match statement {
            Statement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    self.names.push(name.clone());
                }
            }
            Statement::Update(update) => {
                if let TableFactor::Table { name, .. } = &update.table.relation {
                    self.names.push(name.clone());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// The plain tables a statement reads from or joins (not table functions).
struct TableNames {
    names: Vec<ObjectName>,
}

impl Visitor for TableNames {
    type Break = ();
    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, args: None, .. } = factor {
            self.names.push(name.clone());
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> QueryRefs {
        read_query(sql, Dialect::Postgres).expect("parses")
    }

    fn columns(q: &QueryRefs) -> Vec<(String, String, &'static str)> {
        q.columns.iter().map(|c| (c.table.clone(), c.column.clone(), c.clause)).collect()
    }

    #[test]
    fn insert_columns_conflict_target_and_returning() {
        let sql = "INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3) \
                   ON CONFLICT (parent_id, name) DO UPDATE SET name = excluded.name RETURNING id";
        let q = read(sql);
        assert_eq!(q.tables.len(), 1);
        assert!(q.tables[0].write);
        assert_eq!(&sql[q.tables[0].range.clone().unwrap()], "workspaces");
        let c = columns(&q);
        assert!(c.contains(&("workspaces".into(), "parent_id".into(), "INSERT column list")));
        assert!(c.contains(&("workspaces".into(), "name".into(), "ON CONFLICT target")));
        assert!(c.contains(&("workspaces".into(), "name".into(), "DO UPDATE SET")));
        assert!(c.contains(&("workspaces".into(), "id".into(), "RETURNING")));
        assert_eq!(
            q.upserts[0].target,
            Target::Columns { columns: vec!["parent_id".into(), "name".into()], predicate: None }
        );
        let name = q.columns.iter().find(|c| c.clause == "INSERT column list" && c.column == "name").unwrap();
        assert_eq!(&sql[name.range.clone().unwrap()], "name");
    }

    #[test]
    fn selects_update_and_scopes() {
        let q = read("SELECT w.id, name FROM workspaces w WHERE w.owner = $1");
        let c = columns(&q);
        assert!(c.contains(&("workspaces".into(), "id".into(), "select list")));
        assert!(c.contains(&("workspaces".into(), "name".into(), "select list")));
        assert!(c.contains(&("workspaces".into(), "owner".into(), "WHERE")));
        // Two tables: an unqualified column is not attributed.
        let q = read("SELECT name FROM a JOIN b ON a.id = b.a_id WHERE b.x = 1");
        assert_eq!(
            columns(&q),
            [
                ("b".into(), "x".into(), "WHERE"),
                ("a".into(), "id".into(), "JOIN ON"),
                ("b".into(), "a_id".into(), "JOIN ON")
            ]
        );
        // A subquery in WHERE: nothing there is certain; its tables are still named.
        let q = read("SELECT id FROM a WHERE id IN (SELECT a_id FROM b)");
        assert_eq!(q.tables.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let q = read("UPDATE workspaces SET updated_at = now() WHERE id = $1");
        assert!(q.tables[0].write);
        assert_eq!(columns(&q).len(), 2);
        // `WITH` names are not tables.
        let q = read("WITH n AS (SELECT 1 AS x) INSERT INTO t (x) SELECT x FROM n");
        assert_eq!(q.tables.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["t"]);
    }

    #[test]
    fn update_from_named_arguments_and_created_tables() {
        let q = read("UPDATE releases SET yanked = $3 FROM crates WHERE crates.id = releases.crate_id AND name = $1");
        assert!(!columns(&q).iter().any(|c| c.1 == "name"), "{:?}", columns(&q));
        let q = read("SELECT id FROM queue WHERE last < NOW() - make_interval(secs => $1)");
        assert!(!columns(&q).iter().any(|c| c.1 == "secs"), "{:?}", columns(&q));
        let q = read("CREATE TEMPORARY TABLE temp_downloads (id int)");
        assert_eq!(q.created, ["temp_downloads"]);
        assert_eq!(read("DROP TABLE IF EXISTS database_versions").created, ["database_versions"]);
        let q = read("WITH inserted AS (INSERT INTO article (slug) VALUES ($1) RETURNING id) SELECT id FROM inserted");
        assert!(q.modifies && q.tables.iter().any(|t| t.key == "article" && t.write), "{q:?}");
        let q = read("COPY downloads (version_id, date) FROM STDIN");
        assert!(q.modifies && q.tables.iter().any(|t| t.key == "downloads" && t.write));
    }

    #[test]
    fn cte_writes_unions_joins_and_placeholders() {
        let q =
            read("WITH ins AS (INSERT INTO article (slug, summary) VALUES ($1, $2) RETURNING id) SELECT id FROM ins");
        assert!(columns(&q).contains(&("article".into(), "summary".into(), "INSERT column list")), "{:?}", columns(&q));
        let q = read("SELECT id, nam FROM a UNION SELECT id, name FROM b");
        assert!(columns(&q).contains(&("a".into(), "nam".into(), "select list")));
        let q = read("SELECT a.id FROM a JOIN b ON b.a_idd = a.id");
        assert!(columns(&q).contains(&("b".into(), "a_idd".into(), "JOIN ON")));
        let q = read_query("SELECT id FROM a WHERE x = $1", Dialect::Mysql).unwrap();
        assert!(!columns(&q).iter().any(|c| c.1.starts_with('$')), "{:?}", columns(&q));
    }

    #[test]
    fn nested_queries_in_their_own_scope() {
        let q = read("UPDATE message SET body = NULL WHERE id IN (SELECT id FROM message WHERE expires_att <= now())");
        let c = q.columns.iter().find(|c| c.column == "expires_att").expect("the subquery's column");
        assert_eq!(c.table, "message");
        let q =
            read("WITH j AS (SELECT v.num FROM versions v LEFT JOIN crates c ON c.id = v.crate_idd) SELECT num FROM j");
        assert!(columns(&q).contains(&("versions".into(), "crate_idd".into(), "JOIN ON")), "{:?}", columns(&q));
        // A qualified column beside a `FROM` item that is not a table; an unqualified
        // one may be that item's.
        let q = read("WITH x AS (SELECT v.id FROM (VALUES (1)) v (id) JOIN crates c ON c.nme = v.id) SELECT id FROM x");
        assert!(columns(&q).contains(&("crates".into(), "nme".into(), "JOIN ON")), "{:?}", columns(&q));
        let q = read("SELECT name FROM (SELECT 1 AS n) d JOIN crates c ON c.id = d.n");
        assert_eq!(columns(&q), [("crates".into(), "id".into(), "JOIN ON")]);
        // A derived table's alias hides a table of that name.
        let q = read("SELECT crates.x FROM (SELECT 1 AS x) crates JOIN versions v ON v.id = crates.x");
        assert_eq!(columns(&q), [("versions".into(), "id".into(), "JOIN ON")]);
        // Correlated: an unqualified name may be the outer table's.
        let q = read("SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.x = 1 AND flag)");
        let flag = q.columns.iter().find(|c| c.column == "flag").unwrap();
        assert_eq!((flag.table.as_str(), flag.or_outer.clone()), ("b", vec!["a".to_string()]));
        // A qualified one names its table: no outer table may own it.
        let x = q.columns.iter().find(|c| c.column == "x").unwrap();
        assert_eq!((x.table.as_str(), x.or_outer.len()), ("b", 0));
        let q = read(
            "WITH j AS (SELECT d.n FROM temp_downloads d LEFT JOIN versions ON versions.num = d.version) SELECT n FROM j",
        );
        let num = q.columns.iter().find(|c| c.column == "num").unwrap();
        assert!(num.or_outer.is_empty(), "{:?}", num.or_outer);
    }

    #[test]
    fn text_that_is_not_sql_yields_nothing() {
        assert!(read_query("Select a workspace to continue", Dialect::Postgres).is_none());
        assert!(read_query("SELECT * FROM {}", Dialect::Postgres).is_none());
    }
}
