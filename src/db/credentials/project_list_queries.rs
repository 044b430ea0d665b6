// A project's key-list queries, included by `project_list.rs` once per backend: in each copy
// `Backend` and `Raw` name that backend and its connection, so every statement, boxed ones
// included, is built for it directly (through Diesel's `MultiBackend` a key list cost 55% more
// instructions). Not a module of its own: it is compiled only inside those two.

use diesel::dsl::{Asc, Desc};
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::query_dsl::methods::OrderDsl;
use diesel::sql_types::Bool;

use crate::db::credentials::CredentialRow;
use crate::db::credentials::project_list::row;
use crate::db::marks::{ListId, PageMarks, STRIDE, SortKey};
use crate::db::schema::{keyward_project_key_count, project_key, user};
use crate::db::{Filter, Listed, Page};

/// One page of a project's keys ordered by name then creation, and the total matching
/// `filter`. Count and page read the same snapshot. Deep pages of an unfiltered list start
/// from a remembered position (`marks`) instead of walking every key before them.
pub(in crate::db::credentials) fn list(
    conn: &mut Raw,
    marks: &PageMarks,
    project_id: i32,
    filter: &Filter,
    page: Page,
) -> QueryResult<Listed<CredentialRow>> {
    let c = conn;
    let (total, start) = if filter.name.is_none() && filter.search.is_none() {
        let (total, version) = maintained_count(c, project_id, filter.revoked)?;
        let start = match version {
            Some(version) => nearest_mark(c, marks, project_id, filter, page, version)?,
            None => None,
        };
        (total, start)
    } else {
        (matching(project_id, filter).count().get_result(c)?, None)
    };
    let (q, skip) = match &start {
        Some((position, key)) => (
            from_key(matching(project_id, filter), key, page.desc, true),
            page.offset - position,
        ),
        None => (matching(project_id, filter), page.offset),
    };
    let ids = sorted(q, page.desc)
        .select(project_key::id)
        .limit(page.limit)
        .offset(skip);
    let rows = project_key::table
        .left_join(user::table)
        .filter(project_key::id.eq_any(ids))
        .select(row())
        .into_boxed();
    Ok((sorted(rows, page.desc).load(c)?, total))
}

type Keys<'a> = project_key::BoxedQuery<'a, Backend>;

/// The one definition of which of a project's keys a list shows: counted as is (a
/// covering index scan), and paged by id before the creator is joined to the page's rows.
fn matching(project_id: i32, filter: &Filter) -> Keys<'static> {
    project_key::table
        .filter(project_key::project_id.eq(project_id))
        .filter(crate::db::credentials::matching(
            project_key::name,
            project_key::uuid,
            project_key::revoked,
            filter,
        ))
        .into_boxed()
}

/// The position and sort key of the remembered row nearest before `page`'s first, taking
/// the marks it lacks (each a walk of at most [`STRIDE`] rows from the one before).
fn nearest_mark(
    c: &mut Raw,
    marks: &PageMarks,
    project_id: i32,
    filter: &Filter,
    page: Page,
    version: i64,
) -> QueryResult<Option<(i64, SortKey)>> {
    let list = ListId {
        project_id,
        revoked: filter.revoked,
        desc: page.desc,
    };
    marks.start(list, version, page.offset, |after| {
        let (q, skip) = match after {
            Some(key) => (
                from_key(matching(project_id, filter), key, page.desc, false),
                STRIDE - 1,
            ),
            None => (matching(project_id, filter), STRIDE),
        };
        sorted(q, page.desc)
            .select((project_key::name, project_key::creation, project_key::id))
            .limit(1)
            .offset(skip)
            .first::<(String, i64, i32)>(c)
            .optional()
            .map(|row| row.map(|(name, creation, id)| SortKey { name, creation, id }))
    })
}
type Condition = Box<dyn BoxableExpression<project_key::table, Backend, SqlType = Bool>>;
/// `q` (keys alone, or joined) in list order: name, creation, id.
fn sorted<Q>(q: Q, desc: bool) -> Q
where
    Q: OrderDsl<
            (
                Asc<project_key::name>,
                Asc<project_key::creation>,
                Asc<project_key::id>,
            ),
            Output = Q,
        > + OrderDsl<
            (
                Desc<project_key::name>,
                Desc<project_key::creation>,
                Desc<project_key::id>,
            ),
            Output = Q,
        >,
{
    let columns = (project_key::name, project_key::creation, project_key::id);
    crate::db::credentials::in_order(q, columns, desc)
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

/// A project's live keys, as the triggers count them (one indexed read).
pub(in crate::db::credentials) fn live_count(conn: &mut Raw, project_id: i32) -> QueryResult<i64> {
    Ok(maintained_count(conn, project_id, false)?.0)
}

/// A project's live (or revoked) key count, kept by triggers, and its key list's version
/// (`None` while the project has never had a key). SQLite keeps one row per project;
/// PostgreSQL spreads it over up to 16 (stripes, see its migration), so the row's values are
/// read as sums over the project's rows, one indexed range read on either backend.
fn maintained_count(
    conn: &mut Raw,
    project_id: i32,
    revoked: bool,
) -> QueryResult<(i64, Option<i64>)> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Nullable};
    // `SUM` of a BIGINT is NUMERIC on PostgreSQL, hence the casts.
    let (live, revoked_keys, version) = keyward_project_key_count::table
        .filter(keyward_project_key_count::project_id.eq(project_id))
        .select((
            sql::<BigInt>("CAST(COALESCE(SUM(live), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(revoked), 0) AS BIGINT)"),
            sql::<Nullable<BigInt>>("CAST(SUM(version) AS BIGINT)"),
        ))
        .first::<(i64, i64, Option<i64>)>(conn)?;
    Ok((if revoked { revoked_keys } else { live }, version))
}
