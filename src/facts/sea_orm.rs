//! sea-orm entities as the syntax shows them: the table an entity declares
//! (`#[sea_orm(table_name = "…")]` on its `Model`), the module an entity's path names
//! (`user` of `user::ActiveModel`), the name of the module code is written in (an
//! entity's types written bare are that module's), and a file's imports of entity
//! types (`use entity::user::Entity as User;`).

use std::borrow::Cow;
use std::path::Path;

/// A path as written, by its segments.
pub type EntityPath = Box<[Box<str>]>;

/// The sea-orm types whose module names an entity (`user::Entity`, `user::ActiveModel`).
pub const ENTITY_TYPES: &[&str] = &["Entity", "ActiveModel", "Model"];

/// The table a sea-orm entity struct declares: `#[sea_orm(table_name = "users")]`.
pub fn table_name(attrs: &[syn::Attribute]) -> Option<String> {
    let mut table = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("sea_orm")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table_name") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                table = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                // Another `key = value`: skip its value.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    table
}

/// The module an entity path names: `user` in `user::Entity`, `entity::user::ActiveModel`;
/// `None` for a bare `Entity` (the current module's). A type name is a prelude's
/// alias of its module's entity (`pub use super::cake_filling::Entity as CakeFilling`,
/// as sea-orm generates it): `cake_filling`.
pub fn entity_module(path: &[Box<str>]) -> Option<Cow<'_, str>> {
    let (last, prefix) = path.split_last()?;
    if ENTITY_TYPES.contains(&&**last) {
        return prefix.last().map(|s| Cow::Borrowed(&**s));
    }
    Some(if last.starts_with(|c: char| c.is_ascii_uppercase()) {
        Cow::Owned(snake_case(last))
    } else {
        Cow::Borrowed(&**last)
    })
}

/// `CakeFilling` → `cake_filling`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The name of the module code is written in: the innermost of the inline `mod`s
/// around it, else the file's (`user.rs` and `user/mod.rs` are `user`; a crate root,
/// `lib.rs` or `main.rs`, is named by its folder).
pub fn module_name(file: &Path, inline: &[String]) -> String {
    if let Some(m) = inline.last() {
        return m.clone();
    }
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if matches!(stem, "mod" | "lib" | "main") {
        let parent = file.parent().and_then(|p| p.file_name()).and_then(|s| s.to_str()).unwrap_or_default();
        return parent.to_string();
    }
    stem.to_string()
}

/// The `use`s of a file that name an entity type, so an entity written by the name
/// they give it is found by its path.
#[derive(Default)]
pub struct EntityImports(Vec<(String, EntityPath)>);

impl EntityImports {
    /// The renames only: `use entity::user::Entity as User;`.
    pub fn renames(file: &syn::File) -> Self {
        Self::of(file, false)
    }

    /// The renames and the imports by name: `use crate::entities::user::ActiveModel;`.
    pub fn all(file: &syn::File) -> Self {
        Self::of(file, true)
    }

    fn of(file: &syn::File, by_name: bool) -> Self {
        fn in_items(items: &[syn::Item], by_name: bool, out: &mut Vec<(String, EntityPath)>) {
            for item in items {
                match item {
                    syn::Item::Use(u) => {
                        for fact in super::names::use_facts(u) {
                            let (Some(alias), Some(last)) = (fact.alias, fact.path.last()) else { continue };
                            let renamed = alias != *last;
                            let named = by_name && fact.path.len() > 1;
                            if ENTITY_TYPES.contains(&last.as_str()) && (renamed || named) {
                                out.push((alias, fact.path.into_iter().map(String::into_boxed_str).collect()));
                            }
                        }
                    }
                    syn::Item::Mod(m) => in_items(m.content.as_ref().map_or(&[][..], |c| &c.1), by_name, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        in_items(&file.items, by_name, &mut out);
        EntityImports(out)
    }

    /// `User::insert` → `entity::user::Entity::insert` when `User` renames an entity
    /// (or, for [`EntityImports::all`], `ActiveModel` → `entities::user::ActiveModel`
    /// when it is imported).
    pub fn expand(&self, path: EntityPath) -> EntityPath {
        let Some(first) = path.first() else { return path };
        match self.0.iter().find(|(alias, _)| **alias == **first) {
            Some((_, full)) => full.iter().cloned().chain(path.iter().skip(1).cloned()).collect(),
            None => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_and_their_modules() {
        assert_eq!(entity_module(&["user".into(), "Entity".into()]).as_deref(), Some("user"));
        assert_eq!(entity_module(&["Entity".into()]), None);
        assert_eq!(entity_module(&["prelude".into(), "CakeFilling".into()]).as_deref(), Some("cake_filling"));
        let attrs: syn::ItemStruct = syn::parse_str(
            "#[derive(DeriveEntityModel)] #[sea_orm(schema_name = \"x\", table_name = \"users\")] struct Model;",
        )
        .unwrap();
        assert_eq!(table_name(&attrs.attrs).as_deref(), Some("users"));
        assert_eq!(module_name(Path::new("src/entities/user.rs"), &[]), "user");
        assert_eq!(module_name(Path::new("src/entities/mod.rs"), &[]), "entities");
        assert_eq!(module_name(Path::new("src/main.rs"), &["billing".into()]), "billing");
        let file =
            syn::parse_str("use crate::entities::user::{ActiveModel, Entity as User};\nuse sea_orm::Set;").unwrap();
        let expand =
            |imports: &EntityImports, p: &str| imports.expand(p.split("::").map(Into::into).collect()).join("::");
        assert_eq!(expand(&EntityImports::renames(&file), "User::insert"), "crate::entities::user::Entity::insert");
        assert_eq!(expand(&EntityImports::renames(&file), "ActiveModel"), "ActiveModel");
        assert_eq!(expand(&EntityImports::all(&file), "ActiveModel"), "crate::entities::user::ActiveModel");
    }
}
