//! Fields named like a backend field (`provisioner`) whose declared type holds no
//! backend: a request's `provisioner: Option<String>` names the backend a client asks
//! for. The struct a field is read from is found with the crate-wide name model (the
//! value's declared type, `self`'s, through the fields named on the way); a field
//! whose struct or type is not known stays a backend.

use super::ProvisionerParams;
use super::extract::{FieldOwner, Origin, Receiver};
use crate::facts::defs::TypeKey;
use crate::facts::names::TypeKind;
use crate::input::source::Loc;
use crate::rules::CheckCx;

/// Types outside the workspace that hold no backend: text, numbers, flags, ids.
const SCALARS: &[&str] = &[
    "str", "String", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128",
    "isize", "f32", "f64", "Uuid",
];

/// How deep a struct or enum of the crate is looked into (a struct of structs).
const MAX_DEPTH: usize = 3;

/// Whether the backend field `origin` comes from (at `at`) is declared, in a struct
/// the crate defines, with a type that holds no backend; for a field of `typed-fields`
/// (`backend`), whether it is not known to be declared with a backend type.
pub(super) fn holds_no_backend(cx: &CheckCx, params: &ProvisionerParams, origin: &Origin, at: Loc) -> bool {
    let Some(owner) = &origin.owner else { return false };
    if owner.accessor {
        return !returns_backend(cx, params, owner, at);
    }
    if params.names_typed_field(&owner.field) && !params.fields.contains(&owner.field) {
        return !declared_with_backend_type(cx, params, owner, at);
    }
    let Some(ty) = owner_type(cx, owner, at) else { return false };
    field_holds_no_backend(cx, params, &ty, &owner.field, 0)
}

/// Whether field `field` of `ty` (a struct's, or an enum variant's) holds no backend:
/// what it holds (`Option<String>`: `String`), else its type.
fn field_holds_no_backend(cx: &CheckCx, params: &ProvisionerParams, ty: &TypeKey, field: &str, depth: usize) -> bool {
    let defs = &cx.defs;
    let (written, resolved) = match defs.field_held_path(ty, field) {
        Some(held) => (held, defs.field_held_type(ty, field)),
        None => match defs.field_path(ty, field) {
            Some(path) => (path, defs.field_type(ty, field)),
            None => return false,
        },
    };
    match resolved {
        Some(held) => plain(cx, params, &held, depth),
        // A name the workspace does not define nor import (`String`, `u32`).
        None => written.last().is_some_and(|name| SCALARS.contains(&name.as_str())),
    }
}

/// A type that holds no backend: text, a number, a flag or an id; a struct or enum of
/// the crate that is not a backend type, implements no backend trait, has no method
/// named with a dispatcher verb, and holds nothing but such types.
fn plain(cx: &CheckCx, params: &ProvisionerParams, ty: &TypeKey, depth: usize) -> bool {
    let defs = &cx.defs;
    let name = match ty {
        TypeKey::Def(id) => defs.type_name(*id),
        TypeKey::Named(name) => name.as_str(),
    };
    if params.types.iter().any(|t| t == name) {
        return false;
    }
    match defs.type_kind(ty) {
        None => SCALARS.contains(&name),
        Some(TypeKind::Struct | TypeKind::Enum) => {
            depth < MAX_DEPTH
                && !defs.trait_names(ty).iter().any(|t| params.types.contains(t))
                && !params.verbs.keys().any(|verb| !defs.methods_of(ty, verb).is_empty())
                && defs.field_names(ty).into_iter().all(|f| field_holds_no_backend(cx, params, ty, f, depth + 1))
        }
        Some(TypeKind::Trait | TypeKind::Alias) => false,
    }
}

/// Whether the struct a field is read from is known and declares the field with a
/// backend type, or one an `Option`, `Vec`, … holds (`backend: Arc<dyn Provisioner>`,
/// `docker: Option<Arc<DockerProvisioner>>`).
fn declared_with_backend_type(cx: &CheckCx, params: &ProvisionerParams, owner: &FieldOwner, at: Loc) -> bool {
    let Some(ty) = owner_type(cx, owner, at) else { return false };
    let names_backend = |path: Option<&crate::facts::names::TypePath>| {
        path.and_then(|p| p.last()).is_some_and(|name| params.types.iter().any(|t| t == name))
    };
    let defs = &cx.defs;
    names_backend(defs.field_path(&ty, &owner.field))
        || names_backend(defs.field_held_path(&ty, &owner.field))
        || defs.field_type(&ty, &owner.field).is_some_and(|t| is_backend_type(cx, params, &t))
        || defs.field_held_type(&ty, &owner.field).is_some_and(|t| is_backend_type(cx, params, &t))
}

/// Whether a type is a backend type: one of `types`, one named as a kind of one
/// (`CloudProvisioner`), or a trait of the crate that one of them implements (`trait WorkspaceBackend`, with `impl WorkspaceBackend for
/// DockerProvisioner`: `Arc<dyn WorkspaceBackend>` holds a backend).
pub(super) fn is_backend_type(cx: &CheckCx, params: &ProvisionerParams, ty: &TypeKey) -> bool {
    let defs = &cx.defs;
    let name = match ty {
        TypeKey::Def(id) => defs.type_name(*id),
        TypeKey::Named(name) => name.as_str(),
    };
    // (`CloudProvisioner`: a type named as a kind of a configured one.)
    params.types.iter().any(|t| name == t || (name.ends_with(t.as_str()) && name.len() > t.len()))
        || (defs.is_trait(ty) && defs.implementor_names(ty).into_iter().any(|n| params.types.iter().any(|t| t == n)))
}

/// Whether the method an accessor call names, on the type of the value it is called
/// on (or the function it calls by path), returns a backend type, or holds one in an
/// `Option` or `Result` (`fn docker(&self) -> Option<&Arc<DockerProvisioner>>`).
fn returns_backend(cx: &CheckCx, params: &ProvisionerParams, owner: &FieldOwner, at: Loc) -> bool {
    let defs = &cx.defs;
    let is_backend = |key: TypeKey| is_backend_type(cx, params, &key);
    let returns = |loc: Loc| [true, false].into_iter().any(|held| defs.return_type(loc, held).is_some_and(is_backend));
    if let Some(path) = &owner.function {
        let crate::facts::defs::Resolved::Items(found) = defs.resolve(&defs.context(at), path) else { return false };
        return found.into_iter().any(returns);
    }
    let Some(ty) = owner_type(cx, owner, at) else { return false };
    defs.methods_of(&ty, &owner.field).into_iter().any(returns)
}

/// The struct a field is read from, as far as the declared types tell: `self`'s, a
/// binding's declared type, through the fields named on the way.
fn owner_type(cx: &CheckCx, owner: &FieldOwner, at: Loc) -> Option<TypeKey> {
    let defs = &cx.defs;
    let context = defs.context(at);
    let (ty, fields) = match &owner.base {
        Receiver::SelfValue(fields) => (context.self_ty.clone(), fields),
        Receiver::Typed(path, fields) => (defs.type_key(context.module, path, context.self_ty.as_ref()), fields),
        Receiver::Unknown => return None,
    };
    ty.and_then(|ty| fields.iter().try_fold(ty, |ty, field| defs.field_type(&ty, field)))
}
