//! Inserts written with an ORM or a query builder, which have no SQL text to read:
//! diesel `insert_into(t::table).values(..)` (`insert_or_ignore_into`, `replace_into`,
//! `.on_conflict(..)`), sea-orm `Entity::insert(..)` / `insert_many(..)` and
//! `ActiveModel { .. }.insert(db)`, sea-query `Query::insert().into_table(..)`. Each
//! is read from the whole method chain it starts (an upsert clause comes later in the
//! chain than the insert it guards), once, at its outermost call.

use super::{EventKind, Extractor, InsertEvent, PathText, Receiver, SqlInsert, strip};
use crate::facts::lower::segments;
use crate::facts::sql;
use crate::facts::sea_orm::{entity_module, snake_case};

/// Methods that run a sea-orm insert statement.
const SEA_ORM_EXEC: &[&str] =
    &["exec", "exec_with_returning", "exec_without_returning", "exec_with_returning_many", "exec_with_returning_keys"];

/// An insert read from a method chain.
pub(super) struct ChainInsert {
    /// Where the insert starts (`insert_into`, `insert`).
    pub(super) at: proc_macro2::Span,
    pub(super) target: Target,
    /// The chain has an upsert clause, or the insert is one (`insert_or_ignore_into`).
    pub(super) on_conflict: bool,
}

pub(super) enum Target {
    /// The table, as the statement names it.
    Table(String),
    /// A diesel table, by the path written for it (`users::table`, `n::table` after
    /// `use schema::users as n`, `users` from `users::dsl::*`): see [`diesel_table_of`].
    Diesel(Vec<String>),
    /// A sea-orm entity, by the path written for it: its table is the
    /// `#[sea_orm(table_name = "…")]` of its module, found crate-wide.
    Entity(PathText),
    /// A crate type saved as a new row (`AclRule::new(..).save(tx)`): an INSERT when
    /// the type derives an active-record `Model`, found crate-wide.
    Model(String),
}

/// The method calls of the chain `m` ends (outermost first) and the expression the
/// chain starts from, through `?`, `.await` and parentheses.
fn chain(m: &syn::ExprMethodCall) -> (Vec<&syn::ExprMethodCall>, &syn::Expr) {
    let mut calls = vec![m];
    let mut at = &*m.receiver;
    loop {
        match strip(at) {
            syn::Expr::MethodCall(inner) => {
                calls.push(inner);
                at = &inner.receiver;
            }
            syn::Expr::Try(t) => at = &t.expr,
            syn::Expr::Await(a) => at = &a.base,
            other => return (calls, other),
        }
    }
}

/// The path a diesel table expression is written with.
fn diesel_table_path(expr: &syn::Expr) -> Option<Vec<String>> {
    match strip(expr) {
        syn::Expr::Path(p) => Some(segments(&p.path)),
        // `t::table.filter(..)`, `users.find(id)`: the table the query starts from.
        syn::Expr::MethodCall(m) => diesel_table_path(&m.receiver),
        _ => None,
    }
}

/// The table a diesel table path names: `users::table`, `schema::users::table`,
/// `users` (from `users::dsl::*`), `users::dsl::users`.
fn diesel_table_of(path: &[String]) -> Option<String> {
    let (last, prefix) = path.split_last()?;
    if last == "table" {
        return prefix.last().cloned();
    }
    if let Some(dsl) = prefix.iter().position(|s| s == "dsl") {
        return dsl.checked_sub(1).map(|i| prefix[i].clone()).or_else(|| Some(last.clone()));
    }
    last.starts_with(|c: char| c.is_ascii_lowercase()).then(|| last.clone())
}

/// The table a sea-query `into_table(..)` names: `Workspaces::Table` (an `Iden` enum,
/// named in snake case), `Alias::new("workspaces")`, `"workspaces"`, `(Schema, Table)`.
fn sea_query_table(expr: &syn::Expr) -> Option<String> {
    match strip(expr) {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
        syn::Expr::Path(p) => {
            let path = segments(&p.path);
            let iden = if path.len() >= 2 { &path[path.len() - 2] } else { path.last()? };
            Some(snake_case(iden))
        }
        syn::Expr::Call(c) => c.args.first().and_then(sea_query_table),
        syn::Expr::Tuple(t) => t.elems.last().and_then(sea_query_table),
        syn::Expr::MethodCall(m) if m.method == "into_iden" || m.method == "into" => sea_query_table(&m.receiver),
        _ => None,
    }
}

/// Whether `expr` holds a `NOT EXISTS` written with diesel (`not(exists(query))`):
/// rows selected only when no such row exists.
pub(super) fn selects_if_absent(expr: &syn::Expr) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            let named = |e: &syn::Expr, n: &str| {
                matches!(strip(e), syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == n))
            };
            self.0 |= named(&c.func, "not") && c.args.first().is_some_and(|a| matches!(strip(a), syn::Expr::Call(inner) if named(&inner.func, "exists")));
            syn::visit::visit_expr_call(self, c);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_expr(&mut finder, expr);
    finder.0
}

/// Whether an expression names a soft-delete column: `Column::DeletedAt`,
/// `t::deleted_at.eq(..)`, a model literal's `deleted_at: Set(..)`.
fn names_soft_delete_column(expr: &syn::Expr) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_path(&mut self, p: &'ast syn::Path) {
            self.0 |= p.segments.last().is_some_and(|s| sql::soft_delete_column(&s.ident.to_string()));
        }
        fn visit_field_value(&mut self, f: &'ast syn::FieldValue) {
            self.0 |= matches!(&f.member, syn::Member::Named(n) if sql::soft_delete_column(&n.to_string()));
            syn::visit::visit_field_value(self, f);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_expr(&mut finder, expr);
    finder.0
}

/// The `.values(..)` argument of a diesel chain.
fn values_arg<'c>(calls: &[&'c syn::ExprMethodCall]) -> Option<&'c syn::Expr> {
    calls.iter().find(|c| c.method == "values").and_then(|c| c.args.first())
}

/// The insert a method chain runs, read at its outermost call (`calls` outermost
/// first, `base` what the chain starts from).
fn chain_insert_of(calls: &[&syn::ExprMethodCall], base: &syn::Expr) -> Option<ChainInsert> {
    let has = |names: &[&str]| calls.iter().any(|c| names.iter().any(|n| c.method == n));
    let upsert = calls.iter().any(|c| c.method.to_string().starts_with("on_conflict"));
    // `new_row.insert_into(users::table)` (diesel's `Insertable`).
    if let Some(call) = calls.iter().find(|c| c.method == "insert_into" && c.args.len() == 1)
        && let Some(table) = call.args.first().and_then(diesel_table_path)
        && table.last().is_some_and(|s| s == "table")
    {
        return Some(ChainInsert { at: call.method.span(), target: Target::Diesel(table), on_conflict: upsert });
    }
    let syn::Expr::Call(c) = base else { return None };
    let syn::Expr::Path(func) = strip(&c.func) else { return None };
    if func.qself.is_some() {
        return None;
    }
    let path = segments(&func.path);
    let (name, qualifier) = path.split_last()?;
    let at = func.path.segments.last()?.ident.span();
    match name.as_str() {
        // diesel: the statement is finished by `.values(..)` (or named through `diesel::`).
        "insert_into" | "insert_or_ignore_into" | "replace_into"
            if c.args.len() == 1 && (qualifier.iter().any(|s| s == "diesel") || has(&["values", "default_values"])) =>
        {
            let table = diesel_table_path(&c.args[0])?;
            Some(ChainInsert { at, target: Target::Diesel(table), on_conflict: upsert || name != "insert_into" })
        }
        // sea-query: `Query::insert().into_table(..)`.
        "insert" if c.args.is_empty() && qualifier.last().is_some_and(|q| q == "Query") => {
            let into = calls.iter().find(|c| c.method == "into_table")?;
            let table = into.args.first().and_then(sea_query_table)?;
            Some(ChainInsert { at, target: Target::Table(table), on_conflict: upsert })
        }
        // sea-orm: `Entity::insert(model).exec(db)`, `Entity::insert_many(models)`.
        "insert" | "insert_many"
            if c.args.len() == 1
                && qualifier.last().is_some_and(|q| q.starts_with(|c: char| c.is_ascii_uppercase()))
                && (has(SEA_ORM_EXEC) || upsert) =>
        {
            let entity = qualifier.iter().map(|s| s.clone().into_boxed_str()).collect();
            Some(ChainInsert { at, target: Target::Entity(entity), on_conflict: upsert })
        }
        _ => None,
    }
}

impl Extractor<'_> {
    /// The insert the method chain ending at `m` runs, recorded once (at the chain's
    /// outermost call, where every later clause is visible).
    pub(super) fn orm_insert(&mut self, m: &syn::ExprMethodCall) {
        let (calls, base) = chain(m);
        let found = chain_insert_of(&calls, base).or_else(|| self.active_model_insert(m));
        let Some(mut found) = found else { return };
        // `insert_into(t).values(select.filter(not(exists(same))))`: INSERT … SELECT …
        // WHERE NOT EXISTS, built in the chain or in a local.
        if let Some(values) = values_arg(&calls) {
            let local = match strip(values) {
                syn::Expr::Path(p) => p.path.get_ident().is_some_and(|i| self.absent_selects.iter().any(|n| i == n)),
                _ => false,
            };
            found.on_conflict |= local || selects_if_absent(values);
        }
        let loc = self.lowerer.span_loc(found.at);
        if self.orm_seen.contains(&loc) {
            return;
        }
        self.orm_seen.push(loc);
        let kind = match found.target {
            Target::Table(table) => {
                if !self.params.tables.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&table)) {
                    return;
                }
                let sql = SqlInsert { table, on_conflict: found.on_conflict, from_select: false, selects_from: None };
                EventKind::Insert(Box::new(InsertEvent { sql, via: None }))
            }
            // (Guarded or not once the table's SQL name is known, crate-wide.)
            Target::Diesel(path) => {
                let Some(table) = self.diesel_table(&path) else { return };
                EventKind::DieselInsert { table: table.into_boxed_str(), on_conflict: found.on_conflict }
            }
            Target::Entity(entity) => {
                let mut entity = self.entity_aliases.expand(entity);
                // A bare `Entity` is the current module's.
                if entity_module(&entity).is_none() {
                    entity = std::iter::once(self.module_name().into_boxed_str()).chain(entity).collect();
                }
                EventKind::EntityInsert { entity, on_conflict: found.on_conflict }
            }
            Target::Model(ty) => EventKind::ModelInsert { ty: ty.into_boxed_str() },
        };
        self.push_event(kind, loc);
    }

    /// The table a diesel table path names, its first segment read through the `use`
    /// that names it (`use crate::schema::notifications as n;` then `n::table`).
    fn diesel_table(&self, path: &[String]) -> Option<String> {
        diesel_table_of(&self.imported(path).unwrap_or_else(|| path.to_vec()))
    }

    /// The table a delete written with an ORM deletes from: diesel
    /// `diesel::delete(t::table)` (or `delete(..)` imported from diesel), sea-orm
    /// `user::Entity::delete_many()` / `delete_by_id(..)` (the entity's module, as its
    /// table is named when no `table_name` says otherwise).
    pub(super) fn orm_delete(&self, path: &syn::Path, first_arg: Option<&syn::Expr>) -> Option<String> {
        // (Most calls are none: told by their name before anything is allocated.)
        let name = &path.segments.last()?.ident;
        if !(name == "delete" || name == "delete_many" || name == "delete_by_id") {
            return None;
        }
        let written = segments(path);
        let segments = self.imported(&written).unwrap_or(written);
        let (last, prefix) = segments.split_last()?;
        match last.as_str() {
            "delete" if prefix.last().is_some_and(|q| q == "diesel") => {
                first_arg.and_then(diesel_table_path).and_then(|p| self.diesel_table(&p))
            }
            "delete_many" | "delete_by_id" => {
                let path: Vec<Box<str>> = prefix.iter().map(|s| s.clone().into_boxed_str()).collect();
                entity_module(&path).map(|m| m.into_owned())
            }
            _ => None,
        }
    }

    /// The table a soft delete written with an ORM marks rows of deleted, read at the
    /// call that runs it: sea-orm `t::Entity::update_many().col_expr(t::Column::DeletedAt,
    /// ..).exec(db)` (or `.set(..)` of a model whose `deleted_at` is set), diesel
    /// `diesel::update(t::table.filter(..)).set(t::deleted_at.eq(now)).execute(conn)`.
    pub(super) fn orm_soft_delete(&self, m: &syn::ExprMethodCall) -> Option<String> {
        // (Most calls are none: told by their name before the chain is walked.)
        if !matches!(m.method.to_string().as_str(), "exec" | "execute" | "exec_without_returning" | "exec_with_returning") {
            return None;
        }
        let (calls, base) = chain(m);
        let marks = calls.iter().any(|c| (c.method == "col_expr" || c.method == "set") && c.args.iter().any(names_soft_delete_column));
        let syn::Expr::Call(root) = base else { return None };
        let syn::Expr::Path(p) = strip(&root.func) else { return None };
        if !marks {
            return None;
        }
        let written = segments(&p.path);
        let segments = self.imported(&written).unwrap_or(written);
        let (last, prefix) = segments.split_last()?;
        match last.as_str() {
            "update_many" => {
                let path: Vec<Box<str>> = prefix.iter().map(|s| s.clone().into_boxed_str()).collect();
                entity_module(&path).map(|m| m.into_owned())
            }
            "update" if prefix.last().is_some_and(|q| q == "diesel") => {
                diesel_table_path(root.args.first()?).and_then(|p| self.diesel_table(&p))
            }
            _ => None,
        }
    }

    /// The name of the module being read: the innermost inline `mod`, or the file's
    /// (`user.rs` and `user/mod.rs` are `user`).
    pub(super) fn module_name(&self) -> String {
        crate::facts::sea_orm::module_name(self.input.path, &self.modules)
    }

    /// sea-orm's `ActiveModel::insert(self, db)`: `model.insert(db).await` on a value
    /// typed `user::ActiveModel` (annotated, or built as `user::ActiveModel { .. }`).
    fn active_model_insert(&self, m: &syn::ExprMethodCall) -> Option<ChainInsert> {
        if !matches!(m.method.to_string().as_str(), "insert" | "save" | "create") || m.args.len() != 1 {
            return None;
        }
        let at = m.method.span();
        // A new value saved: `AclRule::new(..).save(tx)`, `Event { id: NoId, .. }.save(tx)`,
        // or a local bound to one; sea-orm's `save` inserts an `ActiveModel` whose key
        // is not set.
        let fresh = match strip(&m.receiver) {
            syn::Expr::Path(p) => p.path.get_ident().and_then(|i| {
                self.fresh_values.iter().rev().find(|(name, _)| i == name).map(|(_, ty)| ty.clone())
            }),
            other => fresh_value_type(other),
        };
        if let Some(ty) = fresh {
            let ty = self.entity_aliases.expand(ty);
            return Some(match ty.last().map(|t| &**t) {
                Some("ActiveModel") => ChainInsert { at, target: Target::Entity(ty), on_conflict: false },
                _ => ChainInsert { at, target: Target::Model(ty.last()?.to_string()), on_conflict: false },
            });
        }
        if m.method != "insert" {
            return None;
        }
        let ty = match self.receiver(&m.receiver) {
            Receiver::Typed(ty) => ty,
            // `let am = active_model(spec); am.insert(db)`: a function of this file
            // declared to return an `ActiveModel`.
            Receiver::Returned(r) if r.0.len() == 1 => {
                self.active_model_fns.iter().find(|(name, _)| **name == *r.0[0]).map(|(_, ty)| ty.clone())?
            }
            _ => return None,
        };
        let ty = self.entity_aliases.expand(ty);
        (ty.last().map(|t| &**t) == Some("ActiveModel"))
            .then_some(ChainInsert { at, target: Target::Entity(ty), on_conflict: false })
    }
}

/// The file's functions declared to return a sea-orm `ActiveModel` (`fn
/// active_model(spec: &Spec) -> job::ActiveModel`, free or in an `impl`, at any module
/// depth), by name: what a call of one gives is typed by it.
pub(super) fn active_model_fns(syntax: &syn::File) -> Vec<(String, PathText)> {
    fn add(sig: &syn::Signature, out: &mut Vec<(String, PathText)>) {
        if let syn::ReturnType::Type(_, ty) = &sig.output
            && let Some(path) = crate::facts::names::type_path(ty)
            && path.last().is_some_and(|l| l == "ActiveModel")
        {
            out.push((sig.ident.to_string(), path.into_iter().map(String::into_boxed_str).collect()));
        }
    }
    fn walk(items: &[syn::Item], out: &mut Vec<(String, PathText)>) {
        for item in items {
            match item {
                syn::Item::Fn(f) => add(&f.sig, out),
                syn::Item::Impl(i) => i.items.iter().for_each(|it| {
                    if let syn::ImplItem::Fn(f) = it {
                        add(&f.sig, out);
                    }
                }),
                syn::Item::Mod(m) => {
                    if let Some((_, content)) = &m.content {
                        walk(content, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&syntax.items, &mut out);
    out
}

/// The type of a new value written in place: a struct literal (`Event { .. }`; a
/// sea-orm `ActiveModel` only with its `id` unset or `NotSet`) or a constructor
/// (`AclRule::new(..)`).
pub(super) fn fresh_value_type(expr: &syn::Expr) -> Option<PathText> {
    let path_of = |path: &syn::Path| -> PathText { path.segments.iter().map(|s| s.ident.to_string().into_boxed_str()).collect() };
    match strip(expr) {
        syn::Expr::Struct(s) => {
            let ty = path_of(&s.path);
            let keyed = s.fields.iter().any(|f| {
                matches!(&f.member, syn::Member::Named(n) if n == "id")
                    && !quote::ToTokens::to_token_stream(&f.expr).to_string().contains("NotSet")
            });
            (ty.last().map(|t| &**t) != Some("ActiveModel") || !keyed).then_some(ty)
        }
        syn::Expr::Call(c) => match strip(&c.func) {
            syn::Expr::Path(p) if p.path.segments.len() >= 2 && p.path.segments.last().is_some_and(|s| s.ident == "new") => {
                let ty = path_of(&p.path);
                let owner = &ty[..ty.len() - 1];
                owner.last().is_some_and(|t| t.starts_with(char::is_uppercase)).then(|| owner.into())
            }
            _ => None,
        },
        _ => None,
    }
}

/// The table of an active-record model: a struct deriving `Model` (`#[derive(Model)]`),
/// named by its `#[table(name)]` (or `#[ormlite(table = "name")]`), else its name in
/// lower case.
pub(super) fn model_derive_table(attrs: &[syn::Attribute], ident: &syn::Ident) -> Option<String> {
    let derives_model = attrs.iter().filter(|a| a.path().is_ident("derive")).any(|a| {
        a.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .is_ok_and(|paths| paths.iter().any(|p| p.segments.last().is_some_and(|s| s.ident == "Model")))
    });
    if !derives_model {
        return None;
    }
    let mut table = None;
    for attr in attrs {
        if attr.path().is_ident("table") {
            if let Ok(name) = attr.parse_args::<syn::Ident>() {
                table = Some(name.to_string());
            } else if let Ok(name) = attr.parse_args::<syn::LitStr>() {
                table = Some(name.value());
            }
        } else if attr.path().is_ident("ormlite") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("table") {
                    table = Some(meta.value()?.parse::<syn::LitStr>()?.value());
                }
                Ok(())
            });
        }
    }
    Some(table.unwrap_or_else(|| ident.to_string().to_ascii_lowercase()))
}

/// The table a sea-orm schema manager creates fresh:
/// `manager.create_table(schema.create_table_from_entity(user::Entity))` (the
/// entity's module, mapped to its table later) or `manager.create_table(Table::create()
/// .table(Users::Table)…)`; `None` with `.if_not_exists()`, which may keep old rows.
pub(super) fn sea_orm_created_table(m: &syn::ExprMethodCall) -> Option<String> {
    if m.method != "create_table" || m.args.len() != 1 {
        return None;
    }
    let (calls, base) = match strip(&m.args[0]) {
        syn::Expr::MethodCall(inner) => chain(inner),
        _ => return None,
    };
    if calls.iter().any(|c| c.method == "if_not_exists") {
        return None;
    }
    if let Some(from_entity) = calls.iter().find(|c| c.method == "create_table_from_entity") {
        let syn::Expr::Path(p) = strip(from_entity.args.first()?) else { return None };
        let path: Vec<Box<str>> = segments(&p.path).into_iter().map(String::into_boxed_str).collect();
        return entity_module(&path).map(|m| m.into_owned());
    }
    let creates = matches!(strip(base), syn::Expr::Call(c) if matches!(strip(&c.func),
        syn::Expr::Path(p) if segments(&p.path).ends_with(&["Table".to_string(), "create".to_string()])));
    let table = calls.iter().find(|c| c.method == "table")?;
    creates.then(|| sea_query_table(table.args.first()?)).flatten()
}

/// The tables a diesel `table!` declares under another SQL name (`#[sql_name =
/// "audit_events"] audit (id) { … }`), as (Rust name, SQL name).
pub(super) fn diesel_sql_names(tokens: proc_macro2::TokenStream) -> Vec<(String, String)> {
    use proc_macro2::{Delimiter, TokenTree};
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    let mut sql_name = None;
    for (k, tt) in tokens.iter().enumerate() {
        match tt {
            // `#[sql_name = "…"]` before the table (a column's is inside its braces).
            TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                if let [TokenTree::Ident(key), TokenTree::Punct(eq), value] = &inner[..]
                    && key == "sql_name"
                    && eq.as_char() == '='
                {
                    sql_name = syn::parse2::<syn::LitStr>(value.clone().into()).ok().map(|s| s.value());
                }
            }
            // The table's name: the identifier before its key's `(…)` or its columns' `{…}`.
            TokenTree::Ident(name)
                if matches!(tokens.get(k + 1), Some(TokenTree::Group(g)) if g.delimiter() != Delimiter::Bracket) =>
            {
                if let Some(sql) = sql_name.take() {
                    out.push((name.to_string(), sql));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_insert(m: &syn::ExprMethodCall) -> Option<ChainInsert> {
        let (calls, base) = chain(m);
        chain_insert_of(&calls, base)
    }

    fn read(expr: &str) -> Option<(String, bool)> {
        let mut expr = syn::parse_str::<syn::Expr>(expr).unwrap();
        while let syn::Expr::Await(a) = expr {
            expr = *a.base;
        }
        let syn::Expr::MethodCall(m) = expr else { panic!("not a method call") };
        let found = chain_insert(&m)?;
        let table = match found.target {
            Target::Table(t) => t,
            Target::Diesel(p) => diesel_table_of(&p).unwrap_or_default(),
            Target::Entity(e) => format!("entity {}", e.join("::")),
            Target::Model(ty) => format!("model {ty}"),
        };
        Some((table, found.on_conflict))
    }

    #[test]
    fn diesel_inserts_name_their_table() {
        let t = |s: &str| read(s).map(|(t, c)| format!("{t} {c}"));
        assert_eq!(t("diesel::insert_into(workspaces::table).values(&row).execute(conn)").as_deref(), Some("workspaces false"));
        assert_eq!(t("insert_into(schema::workspaces::table).values(&row).execute(conn).await").as_deref(), Some("workspaces false"));
        assert_eq!(t("insert_into(workspaces).values(&row).execute(conn)").as_deref(), Some("workspaces false"));
        assert_eq!(t("insert_into(workspaces::dsl::workspaces).values(&row).execute(conn)").as_deref(), Some("workspaces false"));
        assert_eq!(
            t("diesel::insert_into(workspaces::table).values(&row).on_conflict(workspaces::name).do_nothing().execute(conn)")
                .as_deref(),
            Some("workspaces true")
        );
        assert_eq!(t("diesel::insert_or_ignore_into(workspaces::table).values(&row).execute(conn)").as_deref(), Some("workspaces true"));
        assert_eq!(t("row.insert_into(workspaces::table).execute(conn)").as_deref(), Some("workspaces false"));
        // A crate's own `insert_into` helper, not finished by `.values(..)`: not diesel's.
        assert_eq!(t("insert_into(cache).unwrap()"), None);
    }

    #[test]
    fn diesel_tables_declared_under_another_sql_name() {
        let mac: syn::Macro = syn::parse_str(
            r#"diesel::table! {
                use diesel::sql_types::*;
                /// The audit trail.
                #[sql_name = "audit_events"]
                public.audit (id) {
                    id -> Int4,
                    #[sql_name = "type"]
                    kind -> Text,
                }
            }"#,
        )
        .unwrap();
        assert_eq!(diesel_sql_names(mac.tokens), [("audit".to_string(), "audit_events".to_string())]);
        let plain: syn::Macro = syn::parse_str("table! { users (id) { id -> Int4, } }").unwrap();
        assert!(diesel_sql_names(plain.tokens).is_empty());
    }

    #[test]
    fn sea_orm_and_sea_query_inserts() {
        assert_eq!(read("workspace::Entity::insert(model).exec(db)"), Some(("entity workspace::Entity".into(), false)));
        assert_eq!(
            read("Workspace::insert_many(models).on_conflict(OnConflict::column(Column::Name).do_nothing().to_owned()).exec(db)"),
            Some(("entity Workspace".into(), true))
        );
        assert_eq!(
            read("Query::insert().into_table(Workspaces::Table).columns([Workspaces::Name]).values_panic([name.into()]).to_owned()"),
            Some(("workspaces".into(), false))
        );
        assert_eq!(read("Query::insert().into_table(Alias::new(\"audit_log\")).to_owned()"), Some(("audit_log".into(), false)));
        // `HashMap::insert` and friends are not entity inserts.
        assert_eq!(read("Cache::insert(key).unwrap()"), None);
    }

    #[test]
    fn tables_a_migration_creates_fresh() {
        let created = |expr: &str| match syn::parse_str::<syn::Expr>(expr).unwrap() {
            syn::Expr::MethodCall(m) => sea_orm_created_table(&m),
            _ => panic!("not a method call"),
        };
        assert_eq!(created("manager.create_table(schema.create_table_from_entity(user_role::Entity))").as_deref(), Some("user_role"));
        assert_eq!(
            created("manager.create_table(Table::create().table(UserRoles::Table).col(id).to_owned())").as_deref(),
            Some("user_roles")
        );
        assert_eq!(created("manager.create_table(Table::create().table(UserRoles::Table).if_not_exists().to_owned())"), None);
        assert_eq!(created("cache.create_table(name)"), None, "not a sea-query statement");
    }
}
