//! Replays the migrations' schema changes, statement by statement.

use super::Dialect;
use super::model::{Column, ColumnChange, DroppedTable, KeyKind, KeyPart, Schema, Table, UniqueKey, Unparsed};
use super::names::{self, ident_key, normalize_expr, table_key};
use super::split::{self, LineIndex, Piece};
use crate::input::source::{FileId, Loc};
use sqlparser::ast::{
    AlterIndexOperation, AlterTable, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, CreateTable,
    CreateTableLikeKind, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, IndexColumn, ObjectName,
    ObjectNamePart, ObjectType, RenameTableNameKind, Spanned, Statement, TableConstraint, Value,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan};
use std::collections::HashMap;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Postgres identifiers are at most this many bytes (NAMEDATALEN - 1).
const PG_MAX_NAME: usize = 63;

pub(super) struct Builder {
    dialect: Dialect,
    schema: Schema,
    /// Every table, index and key name by (schema, name), with the keys of the
    /// tables they belong to (a name may be taken more than once): Postgres and
    /// SQLite give tables and indexes one namespace per schema, and `DROP INDEX`
    /// does not say which table the index is on.
    relations: HashMap<(String, String), Vec<String>>,
}

/// The statement being applied: where it is, and its tokens (for the clause a
/// constraint is in, which sqlparser's spans do not cover whole).
struct Ctx<'a> {
    file: FileId,
    lines: &'a LineIndex<'a>,
    tokens: &'a [TokenWithSpan],
    /// The statement.
    at: Loc,
    /// A column definition was left out (see [`salvage_create_table`]).
    incomplete: bool,
}

impl Ctx<'_> {
    /// A node's location, or the statement's for a node without a span.
    fn loc(&self, span: Span) -> Loc {
        match (self.lines.offset(span.start), self.lines.offset(span.end)) {
            (Some(start), Some(end)) if start <= end => Loc::new(self.file, start, end),
            _ => self.at,
        }
    }

    fn tokens_loc(&self, tokens: &[TokenWithSpan]) -> Option<Loc> {
        let (first, last) = split::significant(tokens)?;
        Some(self.loc(first.span.union(&last.span)))
    }

    /// The comma-separated items inside the first parenthesis after `after`
    /// (`CREATE TABLE t (…)`), as token ranges.
    fn paren_items(&self, after: Location) -> Vec<Range<usize>> {
        let Some(open) = self.tokens.iter().position(|t| t.span.start >= after && t.token == Token::LParen) else {
            return Vec::new();
        };
        comma_items(self.tokens, open + 1, true)
    }

    /// The comma-separated items after `after` (`ALTER TABLE t ADD …, DROP …`).
    fn top_items(&self, after: Location) -> Vec<Range<usize>> {
        let from = self.tokens.iter().position(|t| t.span.start >= after).unwrap_or(self.tokens.len());
        comma_items(self.tokens, from, false)
    }

    /// The item of `items` that holds `at`, or the statement.
    fn clause(&self, items: &[Range<usize>], at: Span) -> Loc {
        if at.start.line == 0 {
            return self.at;
        }
        items
            .iter()
            .map(|r| &self.tokens[r.clone()])
            .find(|tokens| {
                split::significant(tokens)
                    .is_some_and(|(first, last)| first.span.start <= at.start && at.start < last.span.end)
            })
            .and_then(|tokens| self.tokens_loc(tokens))
            .unwrap_or(self.at)
    }
}

/// Token ranges separated by commas outside parentheses, from `from` to the end
/// (or, `in_paren`, to the parenthesis that closes the group).
fn comma_items(tokens: &[TokenWithSpan], from: usize, in_paren: bool) -> Vec<Range<usize>> {
    let mut items = Vec::new();
    let mut start = from;
    let mut depth = 0u32;
    for (i, t) in tokens.iter().enumerate().skip(from) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 0 && in_paren => {
                items.push(start..i);
                return items;
            }
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                items.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(start..tokens.len());
    items
}

/// Why a statement did not parse, and the token the parser stopped at.
struct Failure {
    message: String,
    at: Option<Location>,
}

/// One statement parsed on its own; a parser panic is an error like any other.
fn parse(tokens: Vec<TokenWithSpan>, dialect: &dyn sqlparser::dialect::Dialect) -> Result<Statement, Failure> {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let mut parser = Parser::new(dialect).with_tokens_with_locations(tokens);
        let result = parser.parse_statement().and_then(|statement| {
            let next = parser.peek_token();
            if next.token == Token::EOF { Ok(statement) } else { parser.expected("end of statement", next) }
        });
        result.map_err(|error| {
            let current = parser.get_current_token().span.start;
            (error, (current.line != 0).then_some(current))
        })
    }));
    match parsed {
        Ok(Ok(statement)) => Ok(statement),
        Ok(Err((ParserError::ParserError(message) | ParserError::TokenizerError(message), current))) => {
            // The message ends with the offending token's location (file-relative,
            // as the tokens are); more precise than where the parser stopped.
            let at = error_location(&message).or(current);
            Err(Failure { message, at })
        }
        Ok(Err((ParserError::RecursionLimitExceeded, _))) => {
            Err(Failure { message: "nested too deeply to parse".to_string(), at: None })
        }
        Err(_) => Err(Failure { message: "the SQL parser failed on this statement".to_string(), at: None }),
    }
}

/// The ` at Line: 3, Column: 7` sqlparser ends its messages with.
fn error_location(message: &str) -> Option<Location> {
    let (_, at) = message.rsplit_once(" at Line: ")?;
    let (line, column) = at.split_once(", Column: ")?;
    Some(Location::new(line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// A `CREATE TABLE` whose parse failed inside its parenthesis or in the options
/// after it, parsed again without what it failed on, until it parses: a clause
/// sqlparser does not know (SQLite's `UNIQUE (…) ON CONFLICT REPLACE`, a storage
/// option) should not lose the table. An item (column or constraint) is first cut
/// short at the token the parser stopped at, then left out whole; the options
/// after the parenthesis are left out. Returns the statement and what was left
/// out: token ranges, each with its message and whether it was a whole item.
fn salvage_create_table(
    tokens: &[TokenWithSpan],
    dialect: &dyn sqlparser::dialect::Dialect,
    first: Failure,
) -> Option<(Statement, Vec<LeftOut>)> {
    let words: Vec<_> = tokens
        .iter()
        .filter_map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
            _ => None,
        })
        .take(4)
        .collect();
    if words.first() != Some(&Keyword::CREATE) || !words.contains(&Keyword::TABLE) {
        return None;
    }
    let open = tokens.iter().position(|t| t.token == Token::LParen)?;
    let items = comma_items(tokens, open + 1, true);
    let close = items.last()?.end;
    // Each item's end once cut short (`None`: left out).
    let mut ends: Vec<Option<usize>> = items.iter().map(|r| Some(r.end)).collect();
    let mut messages: Vec<Option<String>> = vec![None; items.len()];
    let mut tail: Option<String> = None;
    let mut failure = first;
    // Each round cuts or removes something, so this ends.
    for _ in 0..=2 * items.len() + 1 {
        let at = failure.at?;
        let index = tokens.iter().position(|t| t.span.start >= at).unwrap_or(tokens.len());
        if index > close && close < tokens.len() && tail.is_none() {
            tail = Some(failure.message);
        } else {
            let item = items.iter().position(|r| r.start <= index && index <= r.end)?;
            let first_token = items[item].start
                + tokens[items[item].clone()].iter().position(|t| !matches!(t.token, Token::Whitespace(_)))?;
            ends[item] = match ends[item] {
                Some(end) if index > first_token && index < end => Some(index),
                _ => None,
            };
            messages[item] = Some(failure.message);
        }
        let kept: Vec<_> =
            items.iter().zip(&ends).filter_map(|(r, end)| end.map(|end| (r.start..end, r.end))).collect();
        if kept.is_empty() {
            return None;
        }
        let mut retry = tokens[..=open].to_vec();
        for (k, (item, _)) in kept.iter().enumerate() {
            if k > 0 {
                // The comma after the previous kept item: an error there is placed.
                retry.push(tokens[kept[k - 1].1].clone());
            }
            retry.extend_from_slice(&tokens[item.clone()]);
        }
        let rest = if tail.is_some() { close..(close + 1).min(tokens.len()) } else { close..tokens.len() };
        retry.extend_from_slice(&tokens[rest]);
        match parse(retry, dialect) {
            Ok(statement) => {
                let mut left_out = Vec::new();
                for (k, message) in messages.into_iter().enumerate() {
                    if let Some(message) = message {
                        let range = ends[k].unwrap_or(items[k].start)..items[k].end;
                        left_out.push(LeftOut { range, message, whole: ends[k].is_none() });
                    }
                }
                if let Some(message) = tail {
                    left_out.push(LeftOut { range: close + 1..tokens.len(), message, whole: false });
                }
                return Some((statement, left_out));
            }
            Err(next) => failure = next,
        }
    }
    None
}

/// Part of a statement [`salvage_create_table`] left out.
struct LeftOut {
    range: Range<usize>,
    message: String,
    /// A whole item, not its end.
    whole: bool,
}

/// Whether a `CREATE TABLE` item may have been a column definition: anything
/// but a constraint.
fn is_column_item(tokens: &[TokenWithSpan]) -> bool {
    let Some((first, _)) = split::significant(tokens) else { return false };
    !matches!(&first.token, Token::Word(w) if w.quote_style.is_none() && matches!(
        w.keyword,
        Keyword::CONSTRAINT
            | Keyword::PRIMARY
            | Keyword::UNIQUE
            | Keyword::CHECK
            | Keyword::FOREIGN
            | Keyword::KEY
            | Keyword::INDEX
            | Keyword::EXCLUDE
            | Keyword::FULLTEXT
            | Keyword::SPATIAL
            | Keyword::LIKE
    ))
}

impl Builder {
    pub(super) fn new(dialect: Dialect) -> Self {
        Builder { dialect, schema: Schema { dialect, ..Schema::default() }, relations: HashMap::new() }
    }

    pub(super) fn finish(self) -> Schema {
        self.schema
    }

    pub(super) fn apply_file(&mut self, file: FileId, text: &str) {
        let dialect = self.dialect.parser();
        let Ok((tokens, pieces)) = catch_unwind(AssertUnwindSafe(|| split::split(text, &*dialect))) else {
            let at = Loc::new(file, 0, text.len());
            self.schema.unparsed.push(Unparsed { at, message: "the SQL tokenizer failed on this file".to_string() });
            return;
        };
        let lines = LineIndex::new(text);
        for piece in pieces {
            match piece {
                Piece::Broken(range, message) => {
                    self.schema.unparsed.push(Unparsed { at: Loc::new(file, range.start, range.end), message });
                }
                Piece::Statement(range) => {
                    let tokens = &tokens[range];
                    let Some((first, last)) = split::significant(tokens) else { continue };
                    let start = lines.offset(first.span.start).unwrap_or(0);
                    let end = lines.offset(last.span.end).unwrap_or(text.len()).max(start);
                    let at = Loc::new(file, start, end);
                    let mut cx = Ctx { file, lines: &lines, tokens, at, incomplete: false };
                    let failure = match parse(tokens.to_vec(), &*dialect) {
                        Ok(statement) => {
                            self.apply(&statement, &cx);
                            continue;
                        }
                        Err(failure) => failure,
                    };
                    // SQLite's `PRAGMA foreign_keys = OFF` (which sqlparser reads only in
                    // some spellings) sets the connection, never the schema: nothing is lost.
                    if matches!(&first.token, Token::Word(w) if w.value.eq_ignore_ascii_case("pragma")) {
                        continue;
                    }
                    let message = failure.message.clone();
                    match salvage_create_table(tokens, &*dialect, failure) {
                        Some((statement, left_out)) => {
                            for LeftOut { range, message, whole } in left_out {
                                cx.incomplete |= whole && is_column_item(&tokens[range.clone()]);
                                let at = cx.tokens_loc(&tokens[range]).unwrap_or(at);
                                self.schema.unparsed.push(Unparsed { at, message });
                            }
                            self.apply(&statement, &cx);
                        }
                        None => self.schema.unparsed.push(Unparsed { at, message }),
                    }
                }
            }
        }
    }

    fn apply(&mut self, statement: &Statement, cx: &Ctx) {
        match statement {
            Statement::CreateTable(create) => self.create_table(create, cx),
            Statement::AlterTable(alter) => self.alter_table(alter, cx),
            Statement::CreateIndex(create) => self.create_index(create, cx),
            Statement::Drop { object_type: ObjectType::Table, names, .. } => {
                for name in names {
                    self.drop_table(name, cx);
                }
            }
            Statement::CreateView(view) => self.create_view(view, cx),
            Statement::Drop { object_type: ObjectType::View | ObjectType::MaterializedView, names, .. } => {
                for name in names {
                    self.drop_table(name, cx);
                }
            }
            Statement::Drop { object_type: ObjectType::Index, names, table, .. } => {
                for name in names {
                    self.drop_index(name, table.as_ref());
                }
            }
            Statement::AlterIndex { name, operation: AlterIndexOperation::RenameIndex { index_name } } => {
                self.rename_index(name, index_name);
            }
            Statement::RenameTable(renames) => {
                for rename in renames {
                    let old = table_key(&rename.old_name, self.dialect);
                    if let Some(mut table) = self.take(&old) {
                        let new = self.renamed_key(&old, &rename.new_name);
                        table.name = rename.new_name.to_string();
                        self.record_rename(old, &new, &table.name, cx.loc(rename.new_name.span()));
                        self.insert(new, table);
                    }
                }
            }
            _ => {}
        }
    }

    /// Takes a table out of the schema, to change it.
    fn take(&mut self, key: &str) -> Option<Table> {
        let table = self.schema.tables.remove(key)?;
        self.register(key, &table, false);
        Some(table)
    }

    /// Puts a table in place (a table re-created or renamed to a dropped table's
    /// name is no longer dropped).
    fn insert(&mut self, key: String, table: Table) {
        self.schema.dropped.remove(&key);
        self.schema.renamed.remove(&key);
        self.take(&key);
        self.register(&key, &table, true);
        self.schema.tables.insert(key, table);
    }

    /// Records that the table of key `old` is now `new` (written `written`), renamed at `at`.
    fn record_rename(&mut self, old: String, new: &str, written: &str, at: Loc) {
        if old != new {
            let renamed = super::model::RenamedTable { to: new.to_string(), to_written: written.to_string(), at };
            self.schema.renamed.insert(old, renamed);
        }
    }

    /// Adds (or removes) the table's names to (from) [`Builder::relations`].
    fn register(&mut self, key: &str, table: &Table, add: bool) {
        let (schema, bare) = split_key(key);
        let names = std::iter::once(bare)
            .chain(table.keys.iter().filter_map(|k| k.name.as_deref()))
            .chain(table.indexes.iter().map(String::as_str));
        for name in names {
            let entry = (schema.to_string(), name.to_string());
            if add {
                self.relations.entry(entry).or_default().push(key.to_string());
            } else if let Some(tables) = self.relations.get_mut(&entry) {
                if let Some(i) = tables.iter().position(|t| t == key) {
                    tables.swap_remove(i);
                }
                if tables.is_empty() {
                    self.relations.remove(&entry);
                }
            }
        }
    }

    fn create_table(&mut self, create: &CreateTable, cx: &Ctx) {
        // A temporary table is gone when the migration's session ends.
        if create.temporary {
            return;
        }
        let key = table_key(&create.name, self.dialect);
        if create.if_not_exists && self.schema.tables.contains_key(&key) {
            return;
        }
        let name_span = create.name.span();
        let mut table = Table {
            name: create.name.to_string(),
            created: cx.loc(name_span),
            columns: Vec::new(),
            keys: Vec::new(),
            indexes: Vec::new(),
            changed_columns: Vec::new(),
            complete: create.query.is_none() && create.clone.is_none() && !cx.incomplete,
            view: false,
            dialect: self.dialect,
        };
        // Columns that come from another table: `LIKE` (MySQL's copies its indexes
        // too; Postgres's only when told to, `INCLUDING INDEXES`, not read here), a
        // partition's parent, the parents a table inherits from.
        let mut sources = Vec::new();
        if let Some(CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) = &create.like {
            sources.push((&like.name, self.dialect == Dialect::Mysql));
        }
        sources.extend(create.partition_of.iter().map(|parent| (parent, false)));
        sources.extend(create.inherits.iter().flatten().map(|parent| (parent, false)));
        for (source, with_keys) in sources {
            match self.schema.tables.get(&table_key(source, self.dialect)) {
                Some(source) => {
                    table.columns.extend(
                        source.columns.iter().filter(|c| !has_column(&table, &c.name)).cloned().collect::<Vec<_>>(),
                    );
                    table.complete &= source.complete;
                    if with_keys {
                        table.keys.extend(source.keys.iter().cloned());
                        table.indexes.extend(source.indexes.iter().cloned());
                    }
                }
                None => table.complete = false,
            }
        }
        // A table re-created without dropping the old one (a drop the migrations
        // hide, in a function or a DO block) is as the last definition says.
        self.take(&key);
        let items = cx.paren_items(name_span.end);
        for column in &create.columns {
            let at = cx.clause(&items, column.name.span);
            self.add_column(&key, &mut table, column, at, cx);
        }
        for constraint in &create.constraints {
            let at = cx.clause(&items, constraint.span());
            self.add_constraint(&key, &mut table, constraint, at);
        }
        self.insert(key, table);
    }

    /// A view: a name queries may read, of columns not known here.
    fn create_view(&mut self, view: &sqlparser::ast::CreateView, cx: &Ctx) {
        let key = table_key(&view.name, self.dialect);
        if view.if_not_exists && self.schema.tables.contains_key(&key) {
            return;
        }
        let table = Table {
            name: view.name.to_string(),
            created: cx.loc(view.name.span()),
            columns: Vec::new(),
            keys: Vec::new(),
            indexes: Vec::new(),
            changed_columns: Vec::new(),
            complete: false,
            view: true,
            dialect: self.dialect,
        };
        self.insert(key, table);
    }

    fn alter_table(&mut self, alter: &AlterTable, cx: &Ctx) {
        let mut key = table_key(&alter.name, self.dialect);
        let old_key = key.clone();
        let mut renamed_at = None;
        let Some(mut table) = self.take(&key) else { return };
        let items = cx.top_items(alter.name.span().end);
        for operation in &alter.operations {
            let at = cx.clause(&items, operation_span(operation));
            match operation {
                // With or without IF NOT EXISTS, an existing column stays as it is.
                AlterTableOperation::AddColumn { column_def, .. }
                    if !has_column(&table, &ident_key(&column_def.name, self.dialect)) =>
                {
                    self.add_column(&key, &mut table, column_def, at, cx);
                }
                AlterTableOperation::DropColumn { column_names, .. } => {
                    for column in column_names {
                        self.drop_column(&mut table, &ident_key(column, self.dialect), cx.loc(column.span));
                    }
                }
                AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
                    self.rename_column(&mut table, old_column_name, new_column_name, cx);
                }
                AlterTableOperation::ChangeColumn { old_name, new_name, options, .. } => {
                    self.rename_column(&mut table, old_name, new_name, cx);
                    let column = ident_key(new_name, self.dialect);
                    for option in options {
                        self.add_column_option(&key, &mut table, &column, None, option, at);
                    }
                }
                AlterTableOperation::ModifyColumn { col_name, options, .. } => {
                    let column = ident_key(col_name, self.dialect);
                    for option in options {
                        self.add_column_option(&key, &mut table, &column, None, option, at);
                    }
                }
                AlterTableOperation::RenameTable { table_name } => {
                    let (RenameTableNameKind::As(new) | RenameTableNameKind::To(new)) = table_name;
                    key = self.renamed_key(&key, new);
                    table.name = new.to_string();
                    renamed_at = Some(cx.loc(new.span()));
                }
                AlterTableOperation::AddConstraint { constraint, .. } => {
                    self.add_constraint(&key, &mut table, constraint, at);
                }
                AlterTableOperation::DropConstraint { name, .. } => {
                    let name = ident_key(name, self.dialect);
                    table.keys.retain(|k| k.name.as_deref() != Some(name.as_str()));
                }
                AlterTableOperation::DropPrimaryKey { .. } => table.keys.retain(|k| k.kind != KeyKind::PrimaryKey),
                AlterTableOperation::DropIndex { name } => {
                    remove_index(&mut table, &ident_key(name, self.dialect));
                }
                AlterTableOperation::RenameConstraint { old_name, new_name } => {
                    let old = ident_key(old_name, self.dialect);
                    let new = ident_key(new_name, self.dialect);
                    for k in table.keys.iter_mut().filter(|k| k.name.as_deref() == Some(old.as_str())) {
                        k.name = Some(new.clone());
                    }
                }
                _ => {}
            }
        }
        if let Some(at) = renamed_at {
            self.record_rename(old_key, &key, &table.name, at);
        }
        self.insert(key, table);
    }

    fn add_column(&self, table_key: &str, table: &mut Table, column: &ColumnDef, at: Loc, cx: &Ctx) {
        let name = ident_key(&column.name, self.dialect);
        if !has_column(table, &name) {
            table.columns.push(Column { name: name.clone(), at: cx.loc(column.name.span) });
            table.changed_columns.retain(|c| c.name != name);
        }
        for option in &column.options {
            self.add_column_option(table_key, table, &name, option.name.as_ref(), &option.option, at);
        }
    }

    /// A column's `PRIMARY KEY` or `UNIQUE`; other options make no key.
    fn add_column_option(
        &self,
        table_key: &str,
        table: &mut Table,
        column: &str,
        constraint: Option<&Ident>,
        option: &ColumnOption,
        at: Loc,
    ) {
        let (kind, name) = match option {
            ColumnOption::PrimaryKey(pk) => (KeyKind::PrimaryKey, constraint.or(pk.name.as_ref())),
            ColumnOption::Unique(unique) => (KeyKind::Unique, constraint.or(unique.name.as_ref())),
            _ => return,
        };
        let name = name.map(|n| ident_key(n, self.dialect));
        let parts = vec![KeyPart::Column(column.to_string())];
        self.add_key(table_key, table, UniqueKey { name, kind, parts, predicate: None, at });
    }

    fn add_constraint(&self, table_key: &str, table: &mut Table, constraint: &TableConstraint, at: Loc) {
        // MySQL names the index (`UNIQUE KEY idx (…)`, `CONSTRAINT c UNIQUE KEY idx`
        // is index `idx`); Postgres the constraint.
        let pick = |constraint: &Option<Ident>, index: &Option<Ident>| {
            let (first, second) =
                if self.dialect == Dialect::Mysql { (index, constraint) } else { (constraint, index) };
            first.as_ref().or(second.as_ref()).map(|n| ident_key(n, self.dialect))
        };
        let (kind, name, columns) = match constraint {
            TableConstraint::PrimaryKey(pk) => (KeyKind::PrimaryKey, pick(&pk.name, &pk.index_name), &pk.columns),
            TableConstraint::Unique(unique) => {
                (KeyKind::Unique, pick(&unique.name, &unique.index_name), &unique.columns)
            }
            TableConstraint::Index(index) => {
                let parts = self.key_parts(table, &index.columns);
                let name = index.name.as_ref().map(|n| ident_key(n, self.dialect));
                if let Some(name) = name.or_else(|| self.implied_name(table_key, table, &parts, "idx")) {
                    table.indexes.push(name);
                }
                return;
            }
            TableConstraint::FulltextOrSpatial(index) => {
                if let Some(name) = &index.opt_index_name {
                    table.indexes.push(ident_key(name, self.dialect));
                }
                return;
            }
            // `ADD CONSTRAINT c UNIQUE USING INDEX idx`: the unique index becomes the
            // constraint, and takes its name.
            TableConstraint::UniqueUsingIndex(using) | TableConstraint::PrimaryKeyUsingIndex(using) => {
                let index = ident_key(&using.index_name, self.dialect);
                let primary = matches!(constraint, TableConstraint::PrimaryKeyUsingIndex(_));
                if let Some(key) = table.keys.iter_mut().find(|k| k.name.as_deref() == Some(index.as_str())) {
                    key.kind = if primary { KeyKind::PrimaryKey } else { KeyKind::Unique };
                    if let Some(name) = &using.name {
                        key.name = Some(ident_key(name, self.dialect));
                    }
                    key.at = at;
                }
                return;
            }
            _ => return,
        };
        let parts = self.key_parts(table, columns);
        self.add_key(table_key, table, UniqueKey { name, kind, parts, predicate: None, at });
    }

    /// Adds a key, naming an unnamed one as the dialect would.
    fn add_key(&self, table_key: &str, table: &mut Table, mut key: UniqueKey) {
        // MySQL's primary key is always the index `PRIMARY`, whatever its constraint
        // is called.
        if self.dialect == Dialect::Mysql && key.kind == KeyKind::PrimaryKey {
            key.name = None;
        }
        if key.name.is_none() {
            let label = match key.kind {
                KeyKind::PrimaryKey => "pkey",
                KeyKind::Unique => "key",
                KeyKind::UniqueIndex => "idx",
            };
            key.name = self.implied_name(table_key, table, &key.parts, label);
        }
        table.keys.push(key);
    }

    fn key_parts(&self, table: &Table, columns: &[IndexColumn]) -> Vec<KeyPart> {
        columns.iter().map(|c| self.key_part(table, &c.column.expr)).collect()
    }

    fn key_part(&self, table: &Table, expr: &Expr) -> KeyPart {
        let mut expr = expr;
        while let Expr::Nested(inner) = expr {
            expr = inner;
        }
        match expr {
            Expr::Identifier(ident) => KeyPart::Column(ident_key(ident, self.dialect)),
            // MySQL's prefix index `email(191)`: unique on the column's first 191
            // characters, so at least as strict as unique on the column.
            Expr::Function(f) if self.dialect == Dialect::Mysql && prefix_length(f) => {
                let column = f.name.0.last().and_then(ObjectNamePart::as_ident).map(|i| ident_key(i, self.dialect));
                match column {
                    Some(column) if has_column(table, &column) => KeyPart::Column(column),
                    _ => KeyPart::Expression(normalize_expr(expr, self.dialect)),
                }
            }
            _ => KeyPart::Expression(normalize_expr(expr, self.dialect)),
        }
    }

    /// The name the dialect gives an unnamed index or constraint (`label`: `pkey`,
    /// `key` or `idx`), as far as its rules are simple; `None` for SQLite, whose
    /// automatic index names no statement can use.
    fn implied_name(&self, table_key: &str, table: &Table, parts: &[KeyPart], label: &str) -> Option<String> {
        let column_names = || {
            parts.iter().map(|p| match p {
                KeyPart::Column(c) => c.clone(),
                // Postgres names an expression after its function (`lower`), if any.
                KeyPart::Expression(e) => match e.split_once('(') {
                    Some((f, _)) if !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                        f.to_lowercase()
                    }
                    _ => "expr".to_string(),
                },
            })
        };
        match self.dialect {
            Dialect::Sqlite => None,
            Dialect::Mysql => {
                if label == "pkey" {
                    return Some("primary".to_string());
                }
                let base = match parts.first() {
                    Some(KeyPart::Column(c)) => c.clone(),
                    _ => "functional_index".to_string(),
                };
                let taken = |name: &str| index_name_taken(table, name);
                if !taken(&base) {
                    return Some(base);
                }
                (2..).map(|n| format!("{base}_{n}")).find(|name| !taken(name))
            }
            Dialect::Postgres => {
                let (schema, bare) = split_key(table_key);
                let addition = (label != "pkey").then(|| {
                    let mut joined = String::new();
                    for name in column_names() {
                        if !joined.is_empty() {
                            joined.push('_');
                        }
                        joined.push_str(&name);
                        if joined.len() >= PG_MAX_NAME {
                            break;
                        }
                    }
                    joined
                });
                (0..)
                    .map(|pass| {
                        let label = if pass == 0 { label.to_string() } else { format!("{label}{pass}") };
                        pg_object_name(bare, addition.as_deref(), &label)
                    })
                    .find(|name| !self.relation_taken(schema, table_key, table, name))
            }
        }
    }

    /// Whether `name` is taken in `schema` (Postgres and SQLite: tables and
    /// indexes share one namespace per schema); `table` is the one being changed,
    /// out of the map meanwhile.
    fn relation_taken(&self, schema: &str, table_key: &str, table: &Table, name: &str) -> bool {
        index_name_taken(table, name)
            || split_key(table_key).1 == name
            || self.relations.contains_key(&(schema.to_string(), name.to_string()))
    }

    /// Drops a column (named at `at`), and what uses it.
    fn drop_column(&self, table: &mut Table, column: &str, at: Loc) {
        if has_column(table, column) {
            table.changed_columns.retain(|c| c.name != column);
            table.changed_columns.push(ColumnChange { name: column.to_string(), renamed_to: None, at });
        }
        table.columns.retain(|c| c.name != column);
        let dialect = self.dialect;
        let mentions = |text: &str| names::mentions(text, column, dialect);
        if dialect == Dialect::Mysql {
            // MySQL takes the column out of its indexes, and drops an index with no
            // column left.
            for key in &mut table.keys {
                key.parts.retain(|p| !matches!(p, KeyPart::Column(c) if c == column));
            }
            table.keys.retain(|k| !k.parts.is_empty());
        }
        // Postgres drops the indexes and constraints that use the column.
        table.keys.retain(|k| {
            !k.parts.iter().any(|p| match p {
                KeyPart::Column(c) => c == column,
                KeyPart::Expression(e) => mentions(e),
            }) && !k.predicate.as_deref().is_some_and(mentions)
        });
    }

    fn rename_column(&self, table: &mut Table, old_ident: &Ident, new: &Ident, cx: &Ctx) {
        let old = ident_key(old_ident, self.dialect);
        let new_key = ident_key(new, self.dialect);
        // MySQL's `CHANGE a a BIGINT` redefines a column without renaming it.
        if old == new_key {
            return;
        }
        if let Some(column) = table.columns.iter_mut().find(|c| c.name == old) {
            column.name = new_key.clone();
            column.at = cx.loc(new.span);
            table.changed_columns.retain(|c| c.name != old && c.name != new_key);
            let at = cx.loc(old_ident.span.union(&new.span));
            table.changed_columns.push(ColumnChange { name: old.clone(), renamed_to: Some(new_key.clone()), at });
        }
        for key in &mut table.keys {
            for part in &mut key.parts {
                match part {
                    KeyPart::Column(c) if *c == old => *c = new_key.clone(),
                    KeyPart::Column(_) => {}
                    KeyPart::Expression(e) => *e = names::rename_in(e, &old, &new_key, self.dialect),
                }
            }
            if let Some(predicate) = &mut key.predicate {
                *predicate = names::rename_in(predicate, &old, &new_key, self.dialect);
            }
        }
    }

    /// A new name for the table `old` (a key): an unqualified name stays in the
    /// table's schema, as Postgres's `RENAME TO` does.
    fn renamed_key(&self, old: &str, new: &ObjectName) -> String {
        let new_key = table_key(new, self.dialect);
        match split_key(old) {
            (schema, _) if !schema.is_empty() && new.0.len() == 1 => format!("{schema}.{new_key}"),
            _ => new_key,
        }
    }

    fn create_index(&mut self, create: &CreateIndex, cx: &Ctx) {
        let key = table_key(&create.table_name, self.dialect);
        let Some(mut table) = self.take(&key) else { return };
        let name = create.name.as_ref().and_then(last_ident).map(|n| ident_key(n, self.dialect));
        let exists = name.as_deref().is_some_and(|n| match self.dialect {
            // MySQL index names are per table.
            Dialect::Mysql => index_name_taken(&table, n),
            Dialect::Postgres | Dialect::Sqlite => self.relation_taken(split_key(&key).0, &key, &table, n),
        });
        if !(create.if_not_exists && exists) {
            let parts = self.key_parts(&table, &create.columns);
            if create.unique {
                let predicate = create.predicate.as_ref().map(|p| normalize_expr(p, self.dialect));
                let unique = UniqueKey { name, kind: KeyKind::UniqueIndex, parts, predicate, at: cx.at };
                self.add_key(&key, &mut table, unique);
            } else if let Some(name) = name.or_else(|| self.implied_name(&key, &table, &parts, "idx")) {
                table.indexes.push(name);
            }
        }
        self.insert(key, table);
    }

    fn drop_table(&mut self, name: &ObjectName, cx: &Ctx) {
        let key = table_key(name, self.dialect);
        if let Some(table) = self.take(&key) {
            let dropped = DroppedTable { name: table.name, created: table.created, dropped: cx.loc(name.span()) };
            self.schema.dropped.insert(key, dropped);
        }
    }

    /// The table holding index `name` (`schema.index`; MySQL says which table),
    /// and the index's own name.
    fn index_table(&self, name: &ObjectName, table: Option<&ObjectName>) -> Option<(String, String)> {
        let index = ident_key(last_ident(name)?, self.dialect);
        if let Some(table) = table {
            return Some((table_key(table, self.dialect), index));
        }
        let qualified = table_key(name, self.dialect);
        let schema = split_key(&qualified).0;
        let tables = self.relations.get(&(schema.to_string(), index.clone()))?;
        let key =
            tables.iter().find(|key| self.schema.tables.get(*key).is_some_and(|t| index_name_taken(t, &index)))?;
        Some((key.clone(), index))
    }

    fn drop_index(&mut self, name: &ObjectName, table: Option<&ObjectName>) {
        if let Some((key, index)) = self.index_table(name, table)
            && let Some(mut table) = self.take(&key)
        {
            remove_index(&mut table, &index);
            self.insert(key, table);
        }
    }

    fn rename_index(&mut self, old: &ObjectName, new: &ObjectName) {
        let Some(new) = last_ident(new).map(|n| ident_key(n, self.dialect)) else { return };
        if let Some((key, index)) = self.index_table(old, None)
            && let Some(mut table) = self.take(&key)
        {
            for name in table.keys.iter_mut().filter_map(|k| k.name.as_mut()).chain(table.indexes.iter_mut()) {
                if *name == index {
                    *name = new.clone();
                }
            }
            self.insert(key, table);
        }
    }
}

fn has_column(table: &Table, name: &str) -> bool {
    table.columns.iter().any(|c| c.name == name)
}

/// Whether a key or index of `table` is called `name`.
fn index_name_taken(table: &Table, name: &str) -> bool {
    table.keys.iter().any(|k| k.name.as_deref() == Some(name)) || table.indexes.iter().any(|i| i == name)
}

/// Drops the unique key or index called `name`.
fn remove_index(table: &mut Table, name: &str) {
    table.keys.retain(|k| k.name.as_deref() != Some(name));
    table.indexes.retain(|i| i != name);
}

/// A table key's schema (empty for the default one) and bare name.
fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('.').unwrap_or(("", key))
}

fn last_ident(name: &ObjectName) -> Option<&Ident> {
    name.0.last().and_then(ObjectNamePart::as_ident)
}

/// Whether a call is a MySQL index prefix length: `column(number)`.
fn prefix_length(f: &sqlparser::ast::Function) -> bool {
    let FunctionArguments::List(list) = &f.args else { return false };
    matches!(
        list.args.as_slice(),
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] if matches!(v.value, Value::Number(..))
    )
}

/// Postgres's name for an implicit index or constraint: `table_columns_label`,
/// each part shortened (the longer one first) until the whole fits in 63 bytes.
fn pg_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = usize::from(name2.is_some()) + label.len() + 1;
    let available = PG_MAX_NAME.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.map_or(0, str::len));
    while n1 + n2 > available {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    let mut out = clip(name1, n1);
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(&clip(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// Where an `ALTER TABLE` operation is: its first name or column, which falls in
/// its clause.
fn operation_span(operation: &AlterTableOperation) -> Span {
    match operation {
        AlterTableOperation::AddColumn { column_def, .. } => column_def.name.span,
        AlterTableOperation::AddConstraint { constraint, .. } => constraint.span(),
        AlterTableOperation::ChangeColumn { old_name, .. } => old_name.span,
        AlterTableOperation::ModifyColumn { col_name, .. } => col_name.span,
        _ => Span::empty(),
    }
}
