//! The `project_key` table.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::rows::{InsertProjectKey, QueryProjectKey};
use super::schema::{keyward_project_key_count, project, project_key, user};
use super::{Filter, Listed, Page};

/// A project key with its creator's UUID (`None` once the creator is gone).
pub type KeyWithCreator = (QueryProjectKey, Option<String>);

/// One page of a project's keys ordered by name then creation, and the total matching
/// `filter`. Count and page read the same snapshot.
pub fn list(
    conn: &mut SqliteConnection,
    project_id: i32,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<KeyWithCreator>> {
    let like = filter.like();
    // The one definition of what matches: counted as is (a covering index scan), and
    // paged by id before the creator is joined to the page's rows only.
    let filtered = || {
        let mut q = project_key::table
            .filter(project_key::project_id.eq(project_id))
            .into_boxed();
        q = if filter.revoked {
            q.filter(project_key::revoked.is_not_null())
        } else {
            q.filter(project_key::revoked.is_null())
        };
        if let Some(name) = &filter.name {
            q = q.filter(project_key::name.eq(name.clone()));
        }
        if let Some(like) = &like {
            q = q.filter(
                project_key::name
                    .like(like.clone())
                    .or(project_key::uuid.like(like.clone())),
            );
        }
        q
    };
    conn.transaction(|c| {
        let total = if filter.name.is_none() && filter.search.is_none() {
            maintained_count(c, project_id, filter.revoked)?
        } else {
            filtered().count().get_result(c)?
        };
        let ids = filtered().select(project_key::id);
        let ids = if page.desc {
            ids.order((
                project_key::name.desc(),
                project_key::creation.desc(),
                project_key::id.desc(),
            ))
        } else {
            ids.order((
                project_key::name.asc(),
                project_key::creation.asc(),
                project_key::id.asc(),
            ))
        };
        let rows = project_key::table
            .left_join(user::table)
            .filter(project_key::id.eq_any(ids.limit(page.limit).offset(page.offset)))
            .select((QueryProjectKey::as_select(), user::uuid.nullable()))
            .into_boxed();
        let rows = if page.desc {
            rows.order((
                project_key::name.desc(),
                project_key::creation.desc(),
                project_key::id.desc(),
            ))
        } else {
            rows.order((
                project_key::name.asc(),
                project_key::creation.asc(),
                project_key::id.asc(),
            ))
        };
        Ok((rows.load(c)?, total))
    })
}

/// A project's live (or revoked) key count, kept by triggers (migration `key_counts`).
fn maintained_count(
    conn: &mut SqliteConnection,
    project_id: i32,
    revoked: bool,
) -> QueryResult<i64> {
    let counts = keyward_project_key_count::table.find(project_id);
    let count = if revoked {
        counts
            .select(keyward_project_key_count::revoked)
            .first(conn)
    } else {
        counts.select(keyward_project_key_count::live).first(conn)
    };
    Ok(count.optional()?.unwrap_or(0))
}

/// One key of a project, revoked or not.
pub fn find(
    conn: &mut SqliteConnection,
    project_id: i32,
    uuid: &str,
) -> QueryResult<Option<KeyWithCreator>> {
    project_key::table
        .left_join(user::table)
        .filter(project_key::project_id.eq(project_id))
        .filter(project_key::uuid.eq(uuid))
        .select((QueryProjectKey::as_select(), user::uuid.nullable()))
        .first(conn)
        .optional()
}

/// Inserts a key.
pub fn insert(conn: &mut SqliteConnection, row: &InsertProjectKey) -> QueryResult<()> {
    diesel::insert_into(project_key::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Renames a key.
pub fn rename(conn: &mut SqliteConnection, id: i32, name: &str) -> QueryResult<()> {
    diesel::update(project_key::table.find(id))
        .set(project_key::name.eq(name))
        .execute(conn)
        .map(drop)
}

/// Revokes a live key; returns 0 when it was already revoked.
pub fn revoke(conn: &mut SqliteConnection, id: i32, now: i64) -> QueryResult<usize> {
    diesel::update(
        project_key::table
            .find(id)
            .filter(project_key::revoked.is_null()),
    )
    .set(project_key::revoked.eq(now))
    .execute(conn)
}

/// The key with this hash, if it is live: not revoked, not expired, on a live project.
pub fn find_live_by_hash(
    conn: &mut SqliteConnection,
    hash: &str,
    now: i64,
) -> QueryResult<Option<QueryProjectKey>> {
    project_key::table
        .inner_join(project::table)
        .filter(project_key::key_hash.eq(hash))
        .filter(project_key::revoked.is_null())
        .filter(project_key::expiration.gt(now))
        .filter(project::deleted.is_null())
        .select(QueryProjectKey::as_select())
        .first(conn)
        .optional()
}
