//! The `project_key` table.

use diesel::dsl::{Asc, Desc};
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::query_dsl::methods::OrderDsl;
use diesel::sql_types::Bool;
use diesel::sqlite::{Sqlite, SqliteConnection};

use super::marks::{ListId, PageMarks, STRIDE, SortKey};
use super::rows::{InsertProjectKey, QueryProjectKey};
use super::schema::{keyward_project_key_count, project, project_key, user};
use super::{Filter, Listed, Page};

/// A project key with its creator's UUID (`None` once the creator is gone).
pub type KeyWithCreator = (QueryProjectKey, Option<String>);

/// One page of a project's keys ordered by name then creation, and the total matching
/// `filter`. Count and page read the same snapshot. Deep pages of an unfiltered list start
/// from a remembered position (`marks`) instead of walking every key before them.
pub fn list(
    conn: &mut SqliteConnection,
    marks: &PageMarks,
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
        let (total, start) = if filter.name.is_none() && filter.search.is_none() {
            let (total, version) = maintained_count(c, project_id, filter.revoked)?;
            let start = match version {
                Some(version) => {
                    let list = ListId {
                        project_id,
                        revoked: filter.revoked,
                        desc: page.desc,
                    };
                    marks.start(list, version, page.offset, |after| {
                        let (q, skip) = match after {
                            Some(key) => (from_key(filtered(), key, page.desc, false), STRIDE - 1),
                            None => (filtered(), STRIDE),
                        };
                        sorted(q, page.desc)
                            .select((project_key::name, project_key::creation, project_key::id))
                            .limit(1)
                            .offset(skip)
                            .first::<(String, i64, i32)>(c)
                            .optional()
                            .map(|row| {
                                row.map(|(name, creation, id)| SortKey { name, creation, id })
                            })
                    })?
                }
                None => None,
            };
            (total, start)
        } else {
            (filtered().count().get_result(c)?, None)
        };
        let (q, skip) = match &start {
            Some((position, key)) => (
                from_key(filtered(), key, page.desc, true),
                page.offset - position,
            ),
            None => (filtered(), page.offset),
        };
        let ids = sorted(q, page.desc)
            .select(project_key::id)
            .limit(page.limit)
            .offset(skip);
        let rows = project_key::table
            .left_join(user::table)
            .filter(project_key::id.eq_any(ids))
            .select((QueryProjectKey::as_select(), user::uuid.nullable()))
            .into_boxed();
        Ok((sorted(rows, page.desc).load(c)?, total))
    })
}

type Keys<'a> = project_key::BoxedQuery<'a, Sqlite>;
type Condition = Box<dyn BoxableExpression<project_key::table, Sqlite, SqlType = Bool>>;
type Ascending = (
    Asc<project_key::name>,
    Asc<project_key::creation>,
    Asc<project_key::id>,
);
type Descending = (
    Desc<project_key::name>,
    Desc<project_key::creation>,
    Desc<project_key::id>,
);

/// `q` (keys alone, or joined) in list order: name, creation, id.
fn sorted<Q>(q: Q, desc: bool) -> Q
where
    Q: OrderDsl<Ascending, Output = Q> + OrderDsl<Descending, Output = Q>,
{
    if desc {
        q.order((
            project_key::name.desc(),
            project_key::creation.desc(),
            project_key::id.desc(),
        ))
    } else {
        q.order((
            project_key::name.asc(),
            project_key::creation.asc(),
            project_key::id.asc(),
        ))
    }
}

/// The rows of `q` that sort after `key` in list order (or at it, when `inclusive`). The
/// bound on `name` alone lets the list index start there.
fn from_key<'a>(q: Keys<'a>, key: &SortKey, desc: bool, inclusive: bool) -> Keys<'a> {
    use project_key::{creation, id, name};
    let (n, c, i) = (key.name.clone(), key.creation, key.id);
    let (name_bound, name_past, creation_past): (Condition, Condition, Condition) = if desc {
        (
            Box::new(name.le(n.clone())),
            Box::new(name.lt(n.clone())),
            Box::new(creation.lt(c)),
        )
    } else {
        (
            Box::new(name.ge(n.clone())),
            Box::new(name.gt(n.clone())),
            Box::new(creation.gt(c)),
        )
    };
    let id_past: Condition = match (desc, inclusive) {
        (false, false) => Box::new(id.gt(i)),
        (false, true) => Box::new(id.ge(i)),
        (true, false) => Box::new(id.lt(i)),
        (true, true) => Box::new(id.le(i)),
    };
    q.filter(name_bound).filter(
        name_past.or(name
            .eq(n)
            .and(creation_past.or(creation.eq(c).and(id_past)))),
    )
}

/// A project's live (or revoked) key count, kept by triggers (migration `key_counts`), and
/// its key list's version (`None` while the project has never had a key).
fn maintained_count(
    conn: &mut SqliteConnection,
    project_id: i32,
    revoked: bool,
) -> QueryResult<(i64, Option<i64>)> {
    let row = keyward_project_key_count::table
        .find(project_id)
        .select((
            keyward_project_key_count::live,
            keyward_project_key_count::revoked,
            keyward_project_key_count::version,
        ))
        .first::<(i64, i64, i64)>(conn)
        .optional()?;
    Ok(row.map_or((0, None), |(live, revoked_keys, version)| {
        (if revoked { revoked_keys } else { live }, Some(version))
    }))
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

/// The key with this hash on a live project, whatever its own state: the caller decides
/// whether it is live (one rule for every kind of key, `domain::credentials::is_live`).
pub fn find_by_hash(
    conn: &mut SqliteConnection,
    hash: &str,
) -> QueryResult<Option<QueryProjectKey>> {
    project_key::table
        .inner_join(project::table)
        .filter(project_key::key_hash.eq(hash))
        .filter(project::deleted.is_null())
        .select(QueryProjectKey::as_select())
        .first(conn)
        .optional()
}
