//! SQL-aware matching of `INSERT` statements, with a real SQL tokenizer
//! (sqlparser's, PostgreSQL dialect) instead of a regex over raw text: any letter
//! case and whitespace, an optional schema or quoting, `WITH … INSERT`, an INSERT in
//! a data-modifying CTE, `MERGE … WHEN NOT MATCHED THEN INSERT`, and a table name
//! that ends where the identifier ends (`workspaces_audit` is another table).
//! SQL comments are not SQL: an `ON CONFLICT` inside `-- …` or `/* … */` does not
//! count. Input may be a fragment (a query-builder prefix, a `format!` template).

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

/// One `INSERT INTO <table>` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insert {
    /// The table name as written, unquoted; compare with [`Insert::targets`].
    pub table: String,
    pub schema: Option<String>,
    /// The statement itself is idempotent (not in a comment, not in a neighbouring
    /// statement): `ON CONFLICT …`, or a dialect's equivalent — SQLite `INSERT OR
    /// IGNORE` / `INSERT OR REPLACE`, MySQL `INSERT IGNORE` / `ON DUPLICATE KEY
    /// UPDATE`, or `INSERT … SELECT … WHERE NOT EXISTS (SELECT … FROM <the same table>
    /// …)`; or it is a `MERGE INTO t … WHEN NOT MATCHED THEN INSERT`, which inserts
    /// only the rows its `ON` condition does not match.
    pub on_conflict: bool,
    /// `INSERT … SELECT`: one statement that may write many rows.
    pub from_select: bool,
    /// The table an `INSERT … SELECT` reads its rows from (its first `FROM`): when
    /// the same code deletes them there, the rows move, and a repeat finds none.
    pub selects_from: Option<String>,
}

impl Insert {
    /// Whether this inserts into `table` (case-insensitive for unquoted names; `*`
    /// matches every table).
    pub fn targets(&self, table: &str) -> bool {
        table == "*" || self.table.eq_ignore_ascii_case(table)
    }
}

/// The words of each statement of `sql` (comments and whitespace dropped).
fn statements(sql: &str) -> Vec<Vec<Token>> {
    let sql = replace_placeholders(sql);
    let tokens = tokenize_lenient(&sql);
    tokens
        .split(|t| matches!(t, Token::SemiColon))
        .map(|s| s.iter().filter(|t| !matches!(t, Token::Whitespace(_))).cloned().collect())
        .collect()
}

/// Whether token `k` of `words` is the word `w`.
fn word_at(words: &[Token], k: usize, w: &str) -> bool {
    words.get(k).is_some_and(|t| is_word(t, w))
}

/// The last part of the dotted name starting at token `k` (`public.workspaces` is
/// `workspaces`).
fn name_at(words: &[Token], mut k: usize) -> Option<String> {
    let mut name = None;
    while let Some(Token::Word(part)) = words.get(k) {
        name = Some(part.value.clone());
        if !matches!(words.get(k + 1), Some(Token::Period)) {
            break;
        }
        k += 2;
    }
    name
}

/// Whether a column name marks a row deleted (`deleted_at`, `is_deleted`, `removed`):
/// a soft delete sets it, and code that reads only live rows sees the row gone.
pub fn soft_delete_column(name: &str) -> bool {
    let flat: String = name.chars().filter(|c| *c != '_').collect::<String>().to_ascii_lowercase();
    matches!(flat.as_str(), "deleted" | "deletedat" | "isdeleted" | "removed" | "removedat" | "isremoved" | "deletedon")
}

/// The tables whose rows an `UPDATE` marks deleted (`UPDATE t SET deleted_at = now()
/// WHERE …`): a soft delete, which for code that reads only live rows replaces
/// them like a `DELETE`.
pub fn soft_deleted_tables(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    for words in statements(sql) {
        for k in 0..words.len() {
            if !word_at(&words, k, "update") {
                continue;
            }
            let Some(name) = name_at(&words, k + 1) else { continue };
            let Some(set) = (k + 1..words.len()).find(|&j| word_at(&words, j, "set")) else { continue };
            let end = (set..words.len())
                .find(|&j| word_at(&words, j, "where") || word_at(&words, j, "from") || word_at(&words, j, "returning"))
                .unwrap_or(words.len());
            let marks = (set + 1..end).any(|j| {
                // (`SET deleted_at = NULL` restores the row.)
                matches!(&words[j], Token::Word(w) if soft_delete_column(&w.value))
                    && matches!(words.get(j + 1), Some(Token::Eq))
                    && !word_at(&words, j + 2, "null")
                    && !word_at(&words, j + 2, "false")
            });
            if marks {
                out.push(name);
            }
        }
    }
    out
}

/// The tables the statements of `sql` empty of rows: `DELETE FROM t` (statements that
/// start with `DELETE`, or `WITH … DELETE`, so prose that says "delete from" is
/// none), `TRUNCATE [TABLE] t, u`, `DROP TABLE [IF EXISTS] t`.
pub fn deleted_tables(sql: &str) -> Vec<String> {
    emptied_tables(sql).into_iter().map(|(name, _)| name).collect()
}

/// The tables the statements of `sql` empty whole: `TRUNCATE`, `DROP TABLE`, a
/// `DELETE` with no `WHERE`.
pub fn wiped_tables(sql: &str) -> Vec<String> {
    emptied_tables(sql).into_iter().filter(|(_, whole)| *whole).map(|(name, _)| name).collect()
}

/// [`deleted_tables`], each with whether every row of it goes.
fn emptied_tables(sql: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for words in statements(sql) {
        if word_at(&words, 0, "truncate") || (word_at(&words, 0, "drop") && word_at(&words, 1, "table")) {
            let mut k = if word_at(&words, 1, "table") { 2 } else { 1 };
            if word_at(&words, k, "if") && word_at(&words, k + 1, "exists") {
                k += 2;
            }
            if placeholder_wipe(&words, k) {
                out.push((ANY_TABLE.to_string(), true));
            }
            while let Some(name) = name_at(&words, k) {
                out.push((name, true));
                // Past the dotted name, to a `,` and the next one.
                while matches!(words.get(k), Some(Token::Word(_)) | Some(Token::Period)) {
                    k += 1;
                }
                if !matches!(words.get(k), Some(Token::Comma)) {
                    break;
                }
                k += 1;
            }
            continue;
        }
        if !(word_at(&words, 0, "delete") || word_at(&words, 0, "with")) {
            continue;
        }
        let whole = !words.iter().any(|t| is_word(t, "where"));
        for k in 0..words.len() {
            if word_at(&words, k, "delete") && word_at(&words, k + 1, "from") {
                match name_at(&words, k + 2) {
                    Some(name) => out.push((name, whole)),
                    // `format!("DELETE FROM {table}")`: every row of a table named at run time.
                    None if placeholder_wipe(&words, k + 2) => out.push((ANY_TABLE.to_string(), true)),
                    None => {}
                }
            }
        }
    }
    out
}

/// The table a statement empties when its name is filled in at run time.
pub const ANY_TABLE: &str = "*";

/// Whether token `k` is a placeholder for a table name, in a statement with no
/// `WHERE` (every row of whatever table it names goes).
fn placeholder_wipe(words: &[Token], k: usize) -> bool {
    matches!(words.get(k), Some(Token::Placeholder(_))) && !words.iter().any(|t| is_word(t, "where"))
}

/// The tables whose missing rows a `SELECT` reads (an anti-join): `… WHERE x NOT IN
/// (SELECT … FROM t)`, `… WHERE NOT EXISTS (SELECT … FROM t …)`, `… LEFT JOIN t [AS]
/// a ON … WHERE a.col IS NULL`. An INSERT into `t` of each row read so adds what `t`
/// lacks. Statements that insert are not read (their `NOT EXISTS` is their own guard).
pub fn anti_joined_tables(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    for words in statements(sql) {
        if !(word_at(&words, 0, "select") || word_at(&words, 0, "with")) || words.iter().any(|t| is_word(t, "insert")) {
            continue;
        }
        for k in 0..words.len() {
            let negated =
                word_at(&words, k, "not") && (word_at(&words, k + 1, "in") || word_at(&words, k + 1, "exists"));
            if negated && matches!(words.get(k + 2), Some(Token::LParen)) && word_at(&words, k + 3, "select") {
                out.extend(subquery_from(&words, k + 2));
            }
            if word_at(&words, k, "left") {
                let join = if word_at(&words, k + 1, "outer") { k + 2 } else { k + 1 };
                if word_at(&words, join, "join")
                    && let Some((table, alias)) = joined_name(&words, join + 1)
                    && tests_null_column(&words[join..], &[&table, alias.as_deref().unwrap_or(&table)])
                {
                    out.push(table);
                }
            }
        }
    }
    out
}

/// The first table of the subquery whose `(` is token `open`: its `FROM` at depth one.
fn subquery_from(words: &[Token], open: usize) -> Option<String> {
    let mut depth = 0usize;
    for j in open..words.len() {
        match &words[j] {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            _ if depth == 1 && word_at(words, j, "from") => return name_at(words, j + 1),
            _ => {}
        }
    }
    None
}

/// The (dotted) table name at token `k` and the alias after it (`t AS a`, `t a`).
fn joined_name(words: &[Token], mut k: usize) -> Option<(String, Option<String>)> {
    let table = name_at(words, k)?;
    while matches!(words.get(k), Some(Token::Word(_))) && matches!(words.get(k + 1), Some(Token::Period)) {
        k += 2;
    }
    k += 1;
    if word_at(words, k, "as") {
        k += 1;
    }
    let alias = match words.get(k) {
        Some(Token::Word(w)) if w.keyword == Keyword::NoKeyword => Some(w.value.clone()),
        _ => None,
    };
    Some((table, alias))
}

/// Whether `words` test a column of one of `names` for NULL (`a.id IS NULL`).
fn tests_null_column(words: &[Token], names: &[&str]) -> bool {
    words.windows(5).any(|w| {
        matches!(&w[0], Token::Word(n) if names.iter().any(|x| n.value.eq_ignore_ascii_case(x)))
            && matches!(w[1], Token::Period)
            && matches!(w[2], Token::Word(_))
            && is_word(&w[3], "is")
            && is_word(&w[4], "null")
    })
}

/// A table a `CREATE TABLE` statement makes.
#[derive(Debug, PartialEq, Eq)]
pub struct CreatedTable {
    pub table: String,
    /// `CREATE TEMP[ORARY] TABLE`: it lives for a session or a transaction.
    pub temporary: bool,
    /// `IF NOT EXISTS`: running the statement again does not fail.
    pub if_not_exists: bool,
    /// A key declared with SQLite's conflict clause (`PRIMARY KEY (a, b) ON CONFLICT
    /// REPLACE`, `UNIQUE ON CONFLICT IGNORE`): every plain INSERT into the table is an
    /// upsert.
    pub key_resolves_conflicts: bool,
}

/// Whether a statement's tokens declare a key whose conflicts resolve themselves:
/// `ON CONFLICT REPLACE|IGNORE` right after `PRIMARY KEY [(cols)] [ASC|DESC]` or
/// `UNIQUE [(cols)]` (a `NOT NULL ON CONFLICT …` is no key).
fn key_resolves_conflicts(words: &[Token]) -> bool {
    (1..words.len()).any(|i| {
        if !(word_at(words, i, "on")
            && word_at(words, i + 1, "conflict")
            && (word_at(words, i + 2, "replace") || word_at(words, i + 2, "ignore")))
        {
            return false;
        }
        let mut j = i - 1;
        if matches!(words[j], Token::RParen) {
            let mut depth = 0usize;
            loop {
                match words[j] {
                    Token::RParen => depth += 1,
                    Token::LParen => depth -= 1,
                    _ => {}
                }
                if depth == 0 || j == 0 {
                    break;
                }
                j -= 1;
            }
            let Some(before) = j.checked_sub(1) else { return false };
            j = before;
        }
        if (word_at(words, j, "asc") || word_at(words, j, "desc")) && j > 0 {
            j -= 1;
        }
        word_at(words, j, "key") || word_at(words, j, "unique")
    })
}

/// The tables the statements of `sql` that start with `CREATE [TEMP|TEMPORARY]
/// TABLE [IF NOT EXISTS] t` make.
pub fn created_tables(sql: &str) -> Vec<CreatedTable> {
    let mut out = Vec::new();
    for words in statements(sql) {
        if !word_at(&words, 0, "create") {
            continue;
        }
        let mut k = 1;
        let temporary = word_at(&words, k, "temp") || word_at(&words, k, "temporary");
        if temporary {
            k += 1;
        }
        if !word_at(&words, k, "table") {
            continue;
        }
        k += 1;
        let if_not_exists =
            word_at(&words, k, "if") && word_at(&words, k + 1, "not") && word_at(&words, k + 2, "exists");
        if if_not_exists {
            k += 3;
        }
        let key_resolves_conflicts = key_resolves_conflicts(&words);
        out.extend(name_at(&words, k).map(|table| CreatedTable {
            table,
            temporary,
            if_not_exists,
            key_resolves_conflicts,
        }));
    }
    out
}

/// Every `INSERT INTO` statement in `sql`, in order: at the start of a statement,
/// after a `WITH … AS (…)` clause, or inside one (`WITH ins AS (INSERT INTO t …
/// RETURNING id) SELECT …`: a data-modifying CTE, with its own clauses); and every
/// `MERGE INTO t … WHEN NOT MATCHED THEN INSERT`, an insert that is its own guard.
pub fn inserts(sql: &str) -> Vec<Insert> {
    // `format!` templates: a `{placeholder}` stands for a value, like `$1`.
    let sql = replace_placeholders(sql);
    let tokens = tokenize_lenient(&sql);
    let mut out = Vec::new();
    // Statements end at `;`; comments and whitespace are dropped first.
    for statement in tokens.split(|t| matches!(t, Token::SemiColon)) {
        let mut i = 0;
        while i < statement.len() {
            // INSERT starts the statement, follows a `WITH … AS (…)` clause, or opens one.
            let after_cte = i > 0 && matches!(statement[i - 1], Token::RParen);
            let opens_cte = i > 1
                && matches!(statement[i - 1], Token::LParen)
                && (is_keyword(&statement[i - 2], Keyword::AS) || is_word(&statement[i - 2], "MATERIALIZED"));
            let starts_statement = i == 0 || after_cte || opens_cte;
            if starts_statement && let Some(merge) = merge_at(statement, i) {
                out.push(merge);
                break;
            }
            // `INSERT OR IGNORE INTO` (SQLite, Spanner), `INSERT IGNORE INTO` (MySQL),
            // `INSERT OR UPDATE INTO` (Spanner's upsert): the words between INSERT and
            // INTO, and whether they make it idempotent.
            let (into_at, ignores) = match (statement.get(i + 1), statement.get(i + 2)) {
                (Some(t), _) if is_keyword(t, Keyword::INTO) => (i + 1, false),
                (Some(t), Some(u)) if is_word(t, "IGNORE") && is_keyword(u, Keyword::INTO) => (i + 2, true),
                (Some(t), Some(u))
                    if is_keyword(t, Keyword::OR)
                        && statement.get(i + 3).is_some_and(|v| is_keyword(v, Keyword::INTO)) =>
                {
                    (i + 3, is_word(u, "IGNORE") || is_word(u, "REPLACE") || is_keyword(u, Keyword::UPDATE))
                }
                _ => (usize::MAX, false),
            };
            if starts_statement
                && is_keyword(&statement[i], Keyword::INSERT)
                && into_at != usize::MAX
                && let Some((schema, table, next)) = table_name(statement, into_at + 1)
                && continues_statement(statement.get(next))
            {
                // Inside a CTE the statement ends at the parenthesis that closes it.
                let end = if opens_cte { closing_paren(statement, i - 1) } else { statement.len() };
                let rest = &statement[next..end.max(next)];
                let on_conflict = ignores
                    || rest.windows(2).any(|w| is_keyword(&w[0], Keyword::ON) && is_keyword(&w[1], Keyword::CONFLICT))
                    || rest.windows(4).any(|w| {
                        is_keyword(&w[0], Keyword::ON)
                            && is_word(&w[1], "DUPLICATE")
                            && is_keyword(&w[2], Keyword::KEY)
                            && is_keyword(&w[3], Keyword::UPDATE)
                    })
                    || not_exists_in(rest, &table)
                    || (after_cte && moves_deleted_rows(&statement[..i]));
                let from_select = rest.iter().any(|t| is_keyword(t, Keyword::SELECT))
                    && !rest.iter().any(|t| is_keyword(t, Keyword::VALUES));
                let selects_from = from_select
                    .then(|| rest.iter().position(|t| is_keyword(t, Keyword::FROM)))
                    .flatten()
                    .and_then(|k| table_name(rest, k + 1))
                    .map(|(_, t, _)| t);
                out.push(Insert { table, schema, on_conflict, from_select, selects_from });
                i = next;
                continue;
            }
            i += 1;
        }
    }
    out
}

/// `MERGE [INTO] [schema.]t [AS] a USING … WHEN NOT MATCHED … THEN INSERT …` at token
/// `i`: an insert of the rows the merge's `ON` condition does not match, so its own
/// guard. A `MERGE` that never inserts (only `UPDATE`/`DELETE` actions) is none.
fn merge_at(statement: &[Token], i: usize) -> Option<Insert> {
    if !is_keyword(statement.get(i)?, Keyword::MERGE) {
        return None;
    }
    let at = if statement.get(i + 1).is_some_and(|t| is_keyword(t, Keyword::INTO)) { i + 2 } else { i + 1 };
    let (schema, table, next) = table_name(statement, at)?;
    let rest = &statement[next..];
    let inserts = rest.windows(2).any(|w| is_keyword(&w[0], Keyword::THEN) && is_keyword(&w[1], Keyword::INSERT));
    let using = rest.iter().position(|t| is_keyword(t, Keyword::USING))?;
    // `USING (VALUES (…))` is one row; a table or a query may be many.
    let one_row = matches!(rest.get(using + 1), Some(Token::LParen))
        && rest.get(using + 2).is_some_and(|t| is_keyword(t, Keyword::VALUES));
    inserts.then_some(Insert { table, schema, on_conflict: true, from_select: !one_row, selects_from: None })
}

/// The index of the `)` that closes the `(` at token `open` (the end when none does).
/// Whether the `WITH` clause before an INSERT holds a `DELETE … RETURNING` (`WITH
/// moved AS (DELETE FROM a … RETURNING *) INSERT INTO b SELECT … FROM moved`): the
/// rows move from one table to the other, and a repeat finds none to move.
fn moves_deleted_rows(with: &[Token]) -> bool {
    with.windows(3)
        .any(|w| is_keyword(&w[0], Keyword::AS) && matches!(w[1], Token::LParen) && is_keyword(&w[2], Keyword::DELETE))
        && with.iter().any(|t| is_keyword(t, Keyword::RETURNING))
}

fn closing_paren(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// What may follow the table name in a real statement (or a builder prefix that
/// ends there). Prose such as "insert into workspaces failed" does not qualify.
fn continues_statement(next: Option<&Token>) -> bool {
    match next {
        None => true,
        Some(Token::LParen) | Some(Token::Placeholder(_)) => true,
        Some(t) => {
            [Keyword::VALUES, Keyword::SELECT, Keyword::DEFAULT, Keyword::AS, Keyword::OVERRIDING, Keyword::WITH]
                .into_iter()
                .any(|k| is_keyword(t, k))
        }
    }
}

/// Whether a fragment holds an `ON CONFLICT` or `ON DUPLICATE KEY UPDATE` clause (not
/// in a comment), such as the tail a query builder pushes after its VALUES.
pub fn has_on_conflict(fragment: &str) -> bool {
    let tokens = tokenize_lenient(&replace_placeholders(fragment));
    tokens.windows(2).any(|w| is_keyword(&w[0], Keyword::ON) && is_keyword(&w[1], Keyword::CONFLICT))
        || tokens.windows(2).any(|w| is_keyword(&w[0], Keyword::ON) && is_word(&w[1], "DUPLICATE"))
}

/// `[schema.]table` starting at `at`; returns the index after it.
fn table_name(tokens: &[Token], at: usize) -> Option<(Option<String>, String, usize)> {
    // (A quoted `format!` hole, `` `{}` ``, read as `"$0"`: a table named at run time is
    // not a name.)
    let first = word(tokens.get(at)?).filter(|w| !w.starts_with('$'))?;
    if matches!(tokens.get(at + 1), Some(Token::Period)) {
        let second = word(tokens.get(at + 2)?)?;
        return Some((Some(first), second, at + 3));
    }
    Some((None, first, at + 1))
}

/// `… WHERE NOT EXISTS (SELECT … FROM [schema.]table …)` naming `table`: the row is
/// inserted only when it is not there.
fn not_exists_in(rest: &[Token], table: &str) -> bool {
    let Some(at) = rest.windows(2).position(|w| is_keyword(&w[0], Keyword::NOT) && is_keyword(&w[1], Keyword::EXISTS))
    else {
        return false;
    };
    rest[at..].windows(2).enumerate().any(|(k, w)| {
        is_keyword(&w[0], Keyword::FROM)
            && table_name(&rest[at..], k + 1).is_some_and(|(_, name, _)| name.eq_ignore_ascii_case(table))
    })
}

/// An unquoted word, by its text (for words sqlparser knows as no keyword).
fn is_word(token: &Token, text: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(text))
}

fn word(token: &Token) -> Option<String> {
    match token {
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    }
}

fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.keyword == keyword)
}

/// `{name}`/`{}` → `$0`; `{{`/`}}` stay literal braces.
fn replace_placeholders(sql: &str) -> String {
    fill_format_holes(sql, "$0")
}

/// A `format!` template's `{…}` holes replaced by `hole` (`{{`/`}}` stay literal
/// braces): the SQL it builds, with the values it splices in left unknown.
pub fn fill_format_holes(template: &str, hole: &str) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    fill_format_holes_at(template, hole).text
}

/// A template filled by [`fill_format_holes_at`], and where its parts come from.
pub struct Filled {
    pub text: String,
    /// (offset in `text`, offset in the template, the piece is a hole) of each piece.
    pieces: Vec<(usize, usize, bool)>,
}

impl Filled {
    /// Where an offset of the filled text is in the template (a hole's: the hole's start).
    pub fn template_offset(&self, at: usize) -> usize {
        let k = self.pieces.partition_point(|p| p.0 <= at);
        let Some(&(filled, template, hole)) = k.checked_sub(1).and_then(|k| self.pieces.get(k)) else { return at };
        if hole {
            return template;
        }
        // (A text's braces are written doubled in the template.)
        let inside = self.text.get(filled..at).unwrap_or_default();
        template + inside.len() + inside.matches(['{', '}']).count()
    }

    /// The offsets in the filled text where its holes start.
    pub fn holes(&self) -> impl Iterator<Item = usize> + '_ {
        self.pieces.iter().filter(|p| p.2).map(|p| p.0)
    }
}

/// [`fill_format_holes`], keeping where each part of the text is in the template.
pub fn fill_format_holes_at(template: &str, hole: &str) -> Filled {
    let mut filled = Filled { text: String::new(), pieces: Vec::new() };
    for (piece, at) in crate::facts::value::format_pieces_at(template) {
        let start = filled.text.len();
        match piece {
            crate::facts::value::FormatPiece::Text(t) => {
                filled.pieces.push((start, at, false));
                filled.text.push_str(&t);
            }
            crate::facts::value::FormatPiece::Placeholder(_) => {
                filled.pieces.push((start, at, true));
                filled.text.push_str(hole);
            }
        }
    }
    filled
}

/// Tokens without whitespace and comments. A fragment that does not tokenize to
/// the end (an unterminated quote in a builder prefix) keeps what came before the error.
fn tokenize_lenient(sql: &str) -> Vec<Token> {
    // MySQL quotes names with backticks: read them as the double quotes the
    // PostgreSQL tokenizer knows.
    if sql.contains('`') {
        return tokenize_lenient(&sql.replace('`', "\""));
    }
    let dialect = PostgreSqlDialect {};
    let tokens = match Tokenizer::new(&dialect, sql).tokenize() {
        Ok(tokens) => tokens,
        Err(err) => {
            let cut = byte_offset(sql, err.location.line as usize, err.location.column as usize);
            let prefix = &sql[..cut.min(sql.len())];
            if prefix.len() == sql.len() {
                return Vec::new();
            }
            return tokenize_lenient(prefix);
        }
    };
    tokens.into_iter().filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF)).collect::<Vec<_>>()
}

/// Byte offset of a 1-based line and column (in characters), clamped.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + l.char_indices().nth(column.saturating_sub(1)).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(sql: &str) -> Vec<(String, bool)> {
        inserts(sql).into_iter().map(|i| (i.table, i.on_conflict)).collect()
    }

    #[test]
    fn mysql_backtick_names_are_names() {
        assert_eq!(
            tables("INSERT INTO `workspaces` (id, name) VALUES (UUID(), ?)"),
            [("workspaces".to_string(), false)]
        );
        assert_eq!(
            tables("INSERT INTO `app`.`workspaces` (name) VALUES (?) ON DUPLICATE KEY UPDATE name = name"),
            [("workspaces".to_string(), true)]
        );
        assert_eq!(deleted_tables("DELETE FROM `workspaces` WHERE id = ?"), ["workspaces"]);
        // A hole quoted with backticks (a mysqldump line prefix): no table.
        assert_eq!(tables("INSERT INTO `$0`"), []);
    }

    #[test]
    fn anti_joins() {
        let sql = "SELECT principal, id FROM objects WHERE (principal, id) NOT IN (SELECT DISTINCT principal, object_id FROM changelog)";
        assert_eq!(anti_joined_tables(sql), ["changelog"]);
        assert_eq!(
            anti_joined_tables(
                "select u.id from users u where not exists (select 1 from public.profiles p where p.user_id = u.id)"
            ),
            ["profiles"]
        );
        assert_eq!(
            anti_joined_tables(
                "SELECT u.id FROM users u LEFT OUTER JOIN profiles AS p ON p.user_id = u.id WHERE p.user_id IS NULL"
            ),
            ["profiles"]
        );
        assert_eq!(
            anti_joined_tables(
                "SELECT users.id FROM users LEFT JOIN profiles ON profiles.uid = users.id WHERE profiles.uid IS NULL"
            ),
            ["profiles"]
        );
        // Not an anti-join: a plain IN, a LEFT JOIN kept for its columns, an INSERT's own guard.
        assert!(anti_joined_tables("SELECT id FROM users WHERE id IN (SELECT user_id FROM profiles)").is_empty());
        assert!(
            anti_joined_tables(
                "SELECT u.id, p.bio FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.bio IS NULL"
            )
            .is_empty()
        );
        assert!(
            anti_joined_tables("INSERT INTO profiles SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM profiles)").is_empty()
        );
        assert!(anti_joined_tables("SELECT id FROM users WHERE id NOT IN ($1, $2)").is_empty());
    }

    #[test]
    fn created_and_deleted_tables() {
        let created = created_tables(
            "CREATE TEMPORARY TABLE temp_downloads (name TEXT) ON COMMIT DROP; create table if not exists main.files (id int)",
        );
        assert_eq!(
            created,
            [
                CreatedTable {
                    table: "temp_downloads".into(),
                    temporary: true,
                    if_not_exists: false,
                    key_resolves_conflicts: false
                },
                CreatedTable {
                    table: "files".into(),
                    temporary: false,
                    if_not_exists: true,
                    key_resolves_conflicts: false
                },
            ]
        );
        let resolves = |sql: &str| created_tables(sql).iter().map(|c| c.key_resolves_conflicts).collect::<Vec<_>>();
        assert_eq!(resolves("CREATE TABLE r (a TEXT, b TEXT, PRIMARY KEY (a, b) ON CONFLICT REPLACE)"), [true]);
        assert_eq!(resolves("create table i (issue INTEGER PRIMARY KEY ON CONFLICT REPLACE, x)"), [true]);
        assert_eq!(resolves("CREATE TABLE u (name TEXT UNIQUE ON CONFLICT IGNORE)"), [true]);
        assert_eq!(resolves("CREATE TABLE d (id INTEGER PRIMARY KEY DESC ON CONFLICT REPLACE)"), [true]);
        // A NOT NULL's conflict clause, or a key that fails: plain INSERTs still add rows or fail.
        assert_eq!(
            resolves("CREATE TABLE n (name TEXT NOT NULL ON CONFLICT REPLACE, id INTEGER PRIMARY KEY)"),
            [false]
        );
        assert_eq!(resolves("CREATE TABLE f (id INTEGER PRIMARY KEY ON CONFLICT FAIL)"), [false]);
        assert_eq!(deleted_tables("DELETE FROM public.workspaces WHERE id = $1; SELECT 1"), ["workspaces"]);
        assert!(deleted_tables("SELECT * FROM workspaces -- delete from x").is_empty());
        assert!(deleted_tables("could not delete from users").is_empty());
        assert_eq!(deleted_tables("TRUNCATE TABLE public.tags, posts CASCADE"), ["tags", "posts"]);
        assert_eq!(deleted_tables("truncate sessions"), ["sessions"]);
        assert_eq!(deleted_tables("DROP TABLE IF EXISTS pastas; CREATE TABLE pastas (id INT)"), ["pastas"]);
        assert!(deleted_tables("DROP INDEX tags_name").is_empty());
        assert_eq!(
            wiped_tables("DROP TABLE IF EXISTS a, b CASCADE; DELETE FROM c; DELETE FROM d WHERE id = 1"),
            ["a", "b", "c"]
        );
        assert_eq!(wiped_tables("TRUNCATE tags"), ["tags"]);
        assert!(deleted_tables("could not truncate the log").is_empty());
        // A table named at run time: every row of any table, only without a WHERE.
        assert_eq!(deleted_tables("DELETE FROM {table};"), [ANY_TABLE]);
        assert_eq!(deleted_tables("TRUNCATE TABLE {}"), [ANY_TABLE]);
        assert!(deleted_tables("DELETE FROM {table} WHERE id = $1").is_empty());
        assert_eq!(
            deleted_tables("WITH old AS (SELECT 1) DELETE FROM users WHERE id IN (SELECT * FROM old)"),
            ["users"]
        );
    }

    #[test]
    fn soft_deletes_name_the_tables_they_mark() {
        assert_eq!(soft_deleted_tables("UPDATE labels SET deleted_at = now() WHERE workload_id = $1"), ["labels"]);
        assert_eq!(soft_deleted_tables("update public.tags set name = $2, is_deleted = true"), ["tags"]);
        assert_eq!(soft_deleted_tables("UPDATE t SET removed = 1; INSERT INTO t VALUES (1)"), ["t"]);
        // Setting something else, or only reading the column: no delete.
        assert!(soft_deleted_tables("UPDATE labels SET touched_at = now() WHERE deleted_at IS NULL").is_empty());
        assert!(soft_deleted_tables("SELECT deleted_at FROM labels").is_empty());
        // Restoring rows is no delete.
        assert!(soft_deleted_tables("UPDATE labels SET deleted_at = NULL").is_empty());
        assert!(soft_deleted_tables("UPDATE labels SET is_deleted = false").is_empty());
    }

    #[test]
    fn case_whitespace_schema_and_quoting() {
        assert_eq!(tables("insert   into\n\tworkspaces (id) values ($1)"), vec![("workspaces".into(), false)]);
        let i = &inserts("INSERT INTO public.workspaces VALUES ($1)")[0];
        assert_eq!((i.schema.as_deref(), i.table.as_str()), (Some("public"), "workspaces"));
        assert_eq!(tables(r#"INSERT INTO "workspaces" (id) VALUES ($1)"#), vec![("workspaces".into(), false)]);
        assert_eq!(tables("InSeRt InTo Workspaces DEFAULT VALUES")[0].0, "Workspaces");
        assert!(inserts("InSeRt InTo Workspaces DEFAULT VALUES")[0].targets("workspaces"));
    }

    #[test]
    fn lookalike_tables_are_other_tables() {
        for sql in [
            "INSERT INTO workspaces_audit (id) VALUES ($1)",
            "INSERT INTO workspace_secrets (id) VALUES ($1)",
            "INSERT INTO workspace_channels (id) VALUES ($1)",
            "INSERT INTO public.workspacesx VALUES (1)",
        ] {
            let found = inserts(sql);
            assert_eq!(found.len(), 1, "{sql}");
            assert!(!found[0].targets("workspaces"), "{sql}");
        }
    }

    #[test]
    fn rows_moved_by_a_delete_returning_are_a_guarded_insert_and_a_select_names_its_source() {
        let moved = "WITH m AS (DELETE FROM parked WHERE team = $1 RETURNING *) INSERT INTO workspaces SELECT * FROM m";
        assert!(inserts(moved)[0].on_conflict);
        let updated = "WITH m AS (UPDATE parked SET seen = now() RETURNING *) INSERT INTO workspaces SELECT * FROM m";
        assert!(!inserts(updated)[0].on_conflict);
        // A DELETE that returns nothing moves nothing.
        let emptied = "WITH m AS (DELETE FROM parked WHERE team = $1) INSERT INTO workspaces SELECT * FROM other";
        assert!(!inserts(emptied)[0].on_conflict);
        let copied = inserts("INSERT INTO garbage (id) SELECT id FROM public.recording WHERE stream = $1");
        assert_eq!(copied[0].selects_from.as_deref(), Some("recording"));
        assert_eq!(inserts("INSERT INTO garbage (id) VALUES ($1)")[0].selects_from, None);
    }

    #[test]
    fn on_conflict_counts_only_in_the_same_statement_and_not_in_comments() {
        assert!(tables("INSERT INTO workspaces (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")[0].1);
        assert!(
            tables("INSERT INTO workspaces (id) VALUES ($1) on conflict on constraint pk do update set x = 1")[0].1
        );
        assert!(!tables("INSERT INTO workspaces (id) VALUES ($1) -- ON CONFLICT (id) DO NOTHING")[0].1);
        assert!(!tables("INSERT INTO workspaces (id) VALUES ($1) /* ON CONFLICT DO NOTHING */")[0].1);
        assert_eq!(
            tables(
                "INSERT INTO workspaces (id) VALUES ($1); INSERT INTO audit (id) VALUES ($1) ON CONFLICT DO NOTHING"
            ),
            vec![("workspaces".into(), false), ("audit".into(), true)]
        );
        assert!(!tables("INSERT INTO workspaces (id) VALUES ('ON CONFLICT')")[0].1, "a string is not a clause");
    }

    #[test]
    fn with_insert_select_fragments_and_templates() {
        assert_eq!(tables("WITH p AS (SELECT 1) INSERT INTO workspaces (id) SELECT * FROM p")[0].0, "workspaces");
        assert!(inserts("INSERT INTO workspaces (id) SELECT id FROM staging")[0].from_select);
        assert!(!inserts("INSERT INTO workspaces (id) VALUES ($1)")[0].from_select);
        assert_eq!(tables("INSERT INTO workspaces (id, name) ")[0].0, "workspaces", "builder prefix");
        assert_eq!(tables("INSERT INTO {table} (id) VALUES ($1)").len(), 0, "unknown table in a template");
        assert_eq!(tables("INSERT INTO workspaces (id, name) VALUES ('unterminated")[0].0, "workspaces");
        assert!(inserts("SELECT * FROM workspaces WHERE note = 'INSERT INTO workspaces'").is_empty());
        assert!(inserts("-- INSERT INTO workspaces VALUES (1)\nSELECT 1").is_empty());
        assert_eq!(tables("INSERT INTO workspaces (id, name) VALUES ({}, '{name}')")[0].0, "workspaces");
        assert_eq!(tables("INSERT INTO workspaces AS w (id) VALUES ($1)")[0].0, "workspaces");
    }

    #[test]
    fn idempotent_dialects_are_guards() {
        for guarded in [
            "INSERT OR IGNORE INTO workspaces (id) VALUES (?1)",
            "INSERT OR UPDATE INTO workspaces (id) VALUES (@id)",
            "insert or replace into workspaces (id) values (?1)",
            "INSERT IGNORE INTO workspaces (id) VALUES (?)",
            "INSERT INTO workspaces (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)",
            "INSERT INTO workspaces (id, name) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM workspaces WHERE name = $2)",
            "INSERT INTO public.workspaces (id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM public.workspaces w WHERE w.id = $1)",
        ] {
            assert_eq!(tables(guarded), vec![("workspaces".into(), true)], "{guarded}");
        }
        for unguarded in [
            "INSERT OR ABORT INTO workspaces (id) VALUES (?1)",
            "INSERT INTO workspaces (id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM members WHERE id = $1)",
            "INSERT INTO workspaces (id) VALUES ($1) -- ON DUPLICATE KEY UPDATE id = id",
        ] {
            assert_eq!(tables(unguarded), vec![("workspaces".into(), false)], "{unguarded}");
        }
        // A MERGE that inserts the rows its condition does not match is its own guard.
        for merge in [
            "MERGE INTO workspaces w USING staging s ON w.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
            "merge into public.workspaces as w using (select $1 as id) s on w.id = s.id \
             when matched then update set id = s.id when not matched by target and s.id > 0 then insert (id) values (s.id)",
            "WITH s AS (SELECT 1 AS id) MERGE INTO workspaces w USING s ON w.id = s.id WHEN NOT MATCHED THEN INSERT DEFAULT VALUES",
        ] {
            assert_eq!(tables(merge), vec![("workspaces".into(), true)], "{merge}");
        }
        assert!(inserts("MERGE INTO workspaces w USING (VALUES (1)) s (id) ON w.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)")[0].on_conflict);
        assert!(!inserts("MERGE INTO workspaces w USING (VALUES (1)) s (id) ON w.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)")[0].from_select);
        assert!(inserts("MERGE INTO workspaces w USING staging s ON w.id = s.id WHEN MATCHED THEN DELETE").is_empty());
        assert!(inserts("could not merge into workspaces").is_empty());
    }

    #[test]
    fn data_modifying_ctes_insert() {
        assert_eq!(
            tables("WITH ins AS (INSERT INTO workspaces (id) VALUES ($1) RETURNING id) SELECT id FROM ins"),
            vec![("workspaces".into(), false)]
        );
        assert_eq!(
            tables(
                "with ins as materialized (insert into workspaces (id) values ($1) on conflict do nothing returning id) select * from ins"
            ),
            vec![("workspaces".into(), true)]
        );
        // Each statement's clauses are its own: the guard of the outer INSERT is not the CTE's.
        assert_eq!(
            tables(
                "WITH w AS (INSERT INTO workspaces (id) VALUES ($1) RETURNING id) \
                 INSERT INTO members (workspace_id) SELECT id FROM w ON CONFLICT DO NOTHING"
            ),
            vec![("workspaces".into(), false), ("members".into(), true)]
        );
        // A subquery is no statement.
        assert!(inserts("SELECT (INSERT INTO workspaces) FROM t").is_empty());
    }

    #[test]
    fn builder_tails() {
        assert!(has_on_conflict(" ON CONFLICT (id) DO NOTHING"));
        assert!(has_on_conflict(" ON DUPLICATE KEY UPDATE name = VALUES(name)"));
        assert!(!has_on_conflict(" -- ON CONFLICT (id) DO NOTHING"));
        assert!(!has_on_conflict(" RETURNING id"));
    }

    #[test]
    fn prose_is_not_a_statement() {
        assert!(inserts("INSERT INTO workspaces failed").is_empty());
        assert!(inserts("insert into workspaces: {e}").is_empty());
        assert!(inserts("could not insert into workspaces").is_empty());
    }

    #[test]
    fn format_holes_filled_and_placed() {
        let template = "SET a = {}, b = '{{x}}'{rest} WHERE c = $1";
        assert_eq!(fill_format_holes(template, "?"), "SET a = ?, b = '{x}'? WHERE c = $1");
        let filled = fill_format_holes_at(template, "");
        assert_eq!(filled.text, "SET a = , b = '{x}' WHERE c = $1");
        assert_eq!(filled.holes().collect::<Vec<_>>(), [8, 19]);
        // Each offset of the filled text, where it is in the template.
        let at = |needle: &str| filled.template_offset(filled.text.find(needle).unwrap());
        assert_eq!(at("a ="), template.find("a =").unwrap());
        assert_eq!(at("b ="), template.find("b =").unwrap());
        assert_eq!(at("x}"), template.find("x}").unwrap());
        assert_eq!(at("' WHERE"), template.find("'{rest}").unwrap());
        assert_eq!(at(" WHERE"), template.find(" WHERE").unwrap());
    }
}
