//! The reads that open every project-key request authenticated by a user key: the key and
//! its user, the path's project with that user's roles on it, and the path's project key.
//! On PostgreSQL they are one statement, since each statement is a round trip and these
//! were three of a key view's three. On SQLite, in-process, the three small indexed
//! statements cost fewer instructions than the one eight-table join (measured with
//! `bench/instructions.sh`: ~121,000 against ~151,000 per key view), so it keeps them.

use diesel::prelude::*;

use super::{CredentialRow, Table, user_key_row};
use crate::db::postgres::Shared;
use crate::db::projects::{ProjectWithRoles, find_with_roles};
use crate::db::rows::{QueryProject, QueryUser};
use crate::db::schema::{
    organization, organization_role, project, project_key, project_role, user, user_key,
};
use crate::db::{Conn, each_backend};
use crate::domain::ids::ResourceId;

/// What [`user_key_in_project`] found.
#[derive(Debug)]
pub struct UserKeyInProject {
    /// The user key whose hash was asked for, its stored hash and its user.
    pub key: (CredentialRow, String, QueryUser),
    /// The live project the path names, with the key's user's roles on it.
    pub project: Option<ProjectWithRoles>,
    /// The project key the path names, if it asked for one and the project has it.
    pub project_key: Option<CredentialRow>,
}

/// The project key's columns, each nullable (it is left-joined), the creator's UUID last.
type KeyColumns = (
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// The statement: `$named` chooses the project (by UUID or by slug).
macro_rules! statement {
    ($hash:expr, $key:expr, $creator:ident, $named:expr) => {
        user_key::table
            .inner_join(user::table)
            .left_join(project::table.on(project::deleted.is_null().and($named)))
            .left_join(organization::table.on(organization::id.eq(project::organization_id)))
            .left_join(
                organization_role::table.on(organization_role::organization_id
                    .eq(project::organization_id)
                    .and(organization_role::user_id.eq(user::id))),
            )
            .left_join(
                project_role::table.on(project_role::project_id
                    .eq(project::id)
                    .and(project_role::user_id.eq(user::id))),
            )
            .left_join(
                project_key::table.on(project_key::project_id
                    .eq(project::id)
                    .and(project_key::uuid.eq($key))),
            )
            .left_join(
                $creator.on($creator
                    .field(user::id)
                    .nullable()
                    .eq(project_key::creator_id)),
            )
            .filter(user_key::key_hash.eq($hash))
            // Flat at the top: Diesel takes `as_select` only there.
            .select((
                user_key_row(),
                user_key::key_hash,
                QueryUser::as_select(),
                project::all_columns.nullable(),
                organization::uuid.nullable(),
                organization_role::role.nullable(),
                project_role::role.nullable(),
                (
                    project_key::id.nullable(),
                    project_key::uuid.nullable(),
                    project_key::project_id.nullable(),
                    project_key::name.nullable(),
                    project_key::creation.nullable(),
                    project_key::expiration.nullable(),
                    project_key::revoked.nullable(),
                    $creator.field(user::uuid).nullable(),
                ),
            ))
    };
}

/// The user key with SHA-256 `hash` and its user; the project `project` (if live) with that
/// user's roles; and, when `key` is given, that project's key `key` (revoked or not) — one
/// statement, one per kind of project id so both stay prepared. `None` when no user key
/// has the hash; nothing here judges liveness or permission.
pub fn user_key_in_project(
    conn: &mut Conn,
    hash: &str,
    project_id: &ResourceId,
    key: Option<&str>,
) -> QueryResult<Option<UserKeyInProject>> {
    // No key asked for: the empty string is never a key's UUID, so the join finds nothing.
    // (Owned: Diesel's joins take no borrowed values in their `ON`.)
    if let Conn::Sqlite(_) = conn {
        return in_steps(conn, hash, project_id, key);
    }
    let key = key.unwrap_or("").to_owned();
    let creator = diesel::alias!(user as creator);
    each_backend!(conn, |conn| {
        let found: Option<Found> = match project_id {
            ResourceId::Uuid(u) => {
                statement!(hash, key.clone(), creator, project::uuid.eq(u.to_string()))
                    .first(conn)
                    .optional()?
            }
            ResourceId::Slug(s) => statement!(
                hash,
                key.clone(),
                creator,
                project::slug.eq(s.as_str().to_owned())
            )
            .first(conn)
            .optional()?,
        };
        Ok(found.map(assemble))
    })
}

/// [`user_key_in_project`] as three statements, each served by one unique index.
fn in_steps(
    conn: &mut Conn,
    hash: &str,
    project_id: &ResourceId,
    key: Option<&str>,
) -> QueryResult<Option<UserKeyInProject>> {
    let Some(found) = super::user_key_by_hash(conn, hash)? else {
        return Ok(None);
    };
    let project = find_with_roles(conn, project_id, Some(found.2.id))?;
    let project_key = match (&project, key) {
        (Some(p), Some(key)) => super::find(conn, Table::ProjectKey, p.project.id, key)?,
        _ => None,
    };
    Ok(Some(UserKeyInProject {
        key: found,
        project,
        project_key,
    }))
}

/// [`user_key_in_project`] on PostgreSQL's shared asynchronous connections: the same
/// statement, sent from the runtime's thread and pipelined with other requests' (see
/// [`Shared`]); `None` when no shared connection is usable now. Owned arguments: the
/// statement is built and awaited here.
pub async fn user_key_in_project_shared(
    shared: &Shared,
    hash: String,
    project_id: ResourceId,
    key: Option<String>,
) -> Option<QueryResult<Option<UserKeyInProject>>> {
    let key = key.unwrap_or_default();
    let creator = diesel::alias!(user as creator);
    let found: Option<QueryResult<Option<Found>>> = match project_id {
        ResourceId::Uuid(u) => {
            let named = project::uuid.eq(u.to_string());
            shared
                .first(statement!(hash, key, creator, named).limit(1))
                .await
        }
        ResourceId::Slug(s) => {
            let named = project::slug.eq(s.as_str().to_owned());
            shared
                .first(statement!(hash, key, creator, named).limit(1))
                .await
        }
    };
    found.map(|read| read.map(|row| row.map(assemble)))
}

/// A row of the statement as what it found.
fn assemble(
    (key, hash, user, project, organization_uuid, org_role, project_role, project_key): Found,
) -> UserKeyInProject {
    UserKeyInProject {
        key: (key, hash, user),
        project: project
            .zip(organization_uuid)
            .map(|(project, organization_uuid)| ProjectWithRoles {
                project,
                organization_uuid,
                org_role,
                project_role,
            }),
        project_key: key_row(project_key),
    }
}

/// A row of the statement: the user key, its stored hash and its user; the project, its
/// organization's UUID and the user's two roles on it; the project key's columns.
type Found = (
    CredentialRow,
    String,
    QueryUser,
    Option<QueryProject>,
    Option<String>,
    Option<String>,
    Option<String>,
    KeyColumns,
);

/// The left-joined project key, when there is one.
fn key_row(
    (id, uuid, owner_id, name, creation, expiration, revoked, detail): KeyColumns,
) -> Option<CredentialRow> {
    Some(CredentialRow {
        id: id?,
        uuid: uuid?,
        owner_id: owner_id?,
        name: name?,
        creation: creation?,
        expiration: expiration?,
        revoked,
        detail,
    })
}
