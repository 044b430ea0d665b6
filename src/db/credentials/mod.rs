//! The three credential tables (`project_key`, `user_key`, `token`) behind one row type and
//! one set of operations. Each operation is written once; only the table it reads differs,
//! and that is chosen in a short `match` (Diesel's schema is static, so a table cannot be a
//! value).

mod context;
mod project_list;

pub use context::{UserKeyInProject, user_key_in_project, user_key_in_project_shared};

use diesel::dsl;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;

use crate::db::each_backend;
use diesel::query_dsl::methods::OrderDsl;
use diesel::sql_types::{Bool, Nullable, Text};

use super::Conn;
use super::lower;
use super::marks::PageMarks;
use super::rows::QueryUser;
use super::schema::{project, project_key, token, user, user_key};
use super::{Filter, Listed, Page};

/// Which table a credential lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    ProjectKey,
    UserKey,
    Token,
}

/// A credential of any kind, as every read shows it (never its hash).
///
/// A new column shared by the kinds is added here, in [`NewCredential`], and in each
/// table's select list below: once per layer.
#[derive(Clone, Debug, Queryable)]
pub struct CredentialRow {
    pub id: i32,
    pub uuid: String,
    /// The project (project keys) or user (user keys, tokens) it belongs to.
    pub owner_id: i32,
    pub name: String,
    pub creation: i64,
    pub expiration: i64,
    pub revoked: Option<i64>,
    /// A project key's creator (a user UUID, `None` once that user is gone), or a token's
    /// JWT; always `None` for user keys.
    pub detail: Option<String>,
}

/// A credential to insert.
pub struct NewCredential<'a> {
    pub uuid: String,
    pub owner_id: i32,
    /// The user who made a project key (ignored for the other kinds).
    pub creator_id: Option<i32>,
    pub name: &'a str,
    /// The key's SHA-256 (hex), or a token's JWT.
    pub secret: String,
    pub creation: i64,
    pub expiration: i64,
}

/// Which rows a list shows: an owner's credentials, optionally just one of them (a caller
/// authenticated by that key sees only itself), matching `filter`.
#[derive(Clone, Copy, Debug)]
pub struct Selection<'a> {
    pub table: Table,
    pub owner_id: i32,
    pub only: Option<i32>,
    pub filter: &'a Filter,
}

type Cond<T, DB> = Box<dyn BoxableExpression<T, DB, SqlType = Bool>>;

/// The filter every credential list shares, over one table's columns: live or revoked,
/// an exact name, and `%search%` over name and UUID.
fn matching<T, DB, N, U, R>(name: N, uuid: U, revoked: R, filter: &Filter) -> Cond<T, DB>
where
    T: 'static,
    DB: diesel::backend::Backend + 'static,
    dsl::And<Cond<T, DB>, Cond<T, DB>>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
    dsl::Or<Cond<T, DB>, Cond<T, DB>>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
    N: Expression<SqlType = Text> + ExpressionMethods + TextExpressionMethods + Copy,
    U: Expression<SqlType = Text> + TextExpressionMethods,
    R: ExpressionMethods,
    dsl::IsNull<R>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
    dsl::IsNotNull<R>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
    dsl::Eq<N, String>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
    dsl::Like<lower<N>, lower<String>>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
    dsl::Like<lower<U>, lower<String>>: BoxableExpression<T, DB, SqlType = Bool> + 'static,
{
    let mut cond: Cond<T, DB> = if filter.revoked {
        Box::new(revoked.is_not_null())
    } else {
        Box::new(revoked.is_null())
    };
    if let Some(exact) = &filter.name {
        let by_name: Cond<T, DB> = Box::new(name.eq(exact.clone()));
        cond = Box::new(cond.and(by_name));
    }
    if let Some(like) = filter.like() {
        let in_name: Cond<T, DB> = Box::new(lower(name).like(lower(like.clone())));
        let in_uuid: Cond<T, DB> = Box::new(lower(uuid).like(lower(like)));
        let in_either: Cond<T, DB> = Box::new(in_name.or(in_uuid));
        cond = Box::new(cond.and(in_either));
    }
    cond
}

/// The columns of a [`CredentialRow`] for a user key (no detail).
type UserKeyRow = (
    user_key::id,
    user_key::uuid,
    user_key::user_id,
    user_key::name,
    user_key::creation,
    user_key::expiration,
    user_key::revoked,
    dsl::AsExprOf<Option<String>, Nullable<Text>>,
);

fn user_key_row() -> UserKeyRow {
    use user_key::{creation, expiration, id, name, revoked, user_id, uuid};
    let detail = None::<String>.into_sql::<Nullable<Text>>();
    (
        id, uuid, user_id, name, creation, expiration, revoked, detail,
    )
}

/// The columns of a [`CredentialRow`] for a token (its JWT as the detail).
type TokenRow = (
    token::id,
    token::uuid,
    token::user_id,
    token::name,
    token::creation,
    token::expiration,
    token::revoked,
    dsl::Nullable<token::jwt>,
);

fn token_row() -> TokenRow {
    use token::{creation, expiration, id, jwt, name, revoked, user_id, uuid};
    (
        id,
        uuid,
        user_id,
        name,
        creation,
        expiration,
        revoked,
        jwt.nullable(),
    )
}

/// `q` in list order: by `(first, second, third)`, all ascending or all descending.
pub(super) fn in_order<Q, A, B, C>(q: Q, (first, second, third): (A, B, C), desc: bool) -> Q
where
    A: ExpressionMethods,
    B: ExpressionMethods,
    C: ExpressionMethods,
    Q: OrderDsl<(dsl::Asc<A>, dsl::Asc<B>, dsl::Asc<C>), Output = Q>
        + OrderDsl<(dsl::Desc<A>, dsl::Desc<B>, dsl::Desc<C>), Output = Q>,
{
    if desc {
        q.order((first.desc(), second.desc(), third.desc()))
    } else {
        q.order((first.asc(), second.asc(), third.asc()))
    }
}

/// One page of the selected credentials in list order, and the total matching; both read
/// one snapshot. Keys sort by name, creation, id; tokens by name, expiration, id (as
/// Bencher lists them).
pub fn list(
    conn: &mut Conn,
    marks: &PageMarks,
    sel: Selection<'_>,
    page: Page,
) -> QueryResult<Listed<CredentialRow>> {
    match sel.table {
        Table::ProjectKey => crate::db::one_snapshot(conn, |c| {
            project_list::list(c, marks, sel.owner_id, sel.filter, page)
        }),
        Table::UserKey => crate::db::one_snapshot(conn, |c| {
            each_backend!(c, |c| {
                use user_key::{creation, id, name, revoked, user_id, uuid};
                let q = || {
                    let q = user_key::table
                        .filter(user_id.eq(sel.owner_id))
                        .filter(matching(name, uuid, revoked, sel.filter))
                        .into_boxed();
                    match sel.only {
                        Some(key) => q.filter(id.eq(key)),
                        None => q,
                    }
                };
                let rows = in_order(q().select(user_key_row()), (name, creation, id), page.desc);
                let rows = rows.limit(page.limit).offset(page.offset).load(c)?;
                Ok((rows, q().count().get_result(c)?))
            })
        }),
        Table::Token => crate::db::one_snapshot(conn, |c| {
            each_backend!(c, |c| {
                use token::{expiration, id, name, revoked, user_id, uuid};
                let q = || {
                    let of_owner = token::table.filter(user_id.eq(sel.owner_id));
                    of_owner
                        .filter(matching(name, uuid, revoked, sel.filter))
                        .into_boxed()
                };
                let tokens = in_order(q().select(token_row()), (name, expiration, id), page.desc);
                let tokens = tokens.limit(page.limit).offset(page.offset).load(c)?;
                Ok((tokens, q().count().get_result(c)?))
            })
        }),
    }
}

/// One credential of an owner, revoked or not.
pub fn find(
    conn: &mut Conn,
    table: Table,
    owner_id: i32,
    key: &str,
) -> QueryResult<Option<CredentialRow>> {
    each_backend!(conn, |conn| {
        match table {
            Table::ProjectKey => {
                use project_key::{project_id, uuid};
                let of_owner = project_id.eq(owner_id).and(uuid.eq(key));
                project_key::table
                    .left_join(user::table)
                    .filter(of_owner)
                    .select(project_list::row())
                    .first(conn)
                    .optional()
            }
            Table::UserKey => user_key::table
                .filter(user_key::user_id.eq(owner_id).and(user_key::uuid.eq(key)))
                .select(user_key_row())
                .first(conn)
                .optional(),
            Table::Token => token::table
                .filter(token::user_id.eq(owner_id).and(token::uuid.eq(key)))
                .select(token_row())
                .first(conn)
                .optional(),
        }
    })
}

/// How many live (unrevoked) credentials an owner has.
pub fn live_count(conn: &mut Conn, table: Table, owner_id: i32) -> QueryResult<i64> {
    match table {
        Table::ProjectKey => project_list::live_count(conn, owner_id),
        Table::UserKey => each_backend!(conn, |c| user_key::table
            .filter(user_key::user_id.eq(owner_id))
            .filter(user_key::revoked.is_null())
            .count()
            .get_result(c)),
        Table::Token => each_backend!(conn, |c| token::table
            .filter(token::user_id.eq(owner_id))
            .filter(token::revoked.is_null())
            .count()
            .get_result(c)),
    }
}

/// Inserts a credential.
pub fn insert(conn: &mut Conn, table: Table, new: &NewCredential<'_>) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        let NewCredential {
            uuid,
            owner_id,
            creator_id,
            name,
            secret,
            creation,
            expiration,
        } = new;
        match table {
            Table::ProjectKey => {
                use project_key::dsl as k;
                diesel::insert_into(project_key::table)
                    .values((
                        (
                            k::uuid.eq(uuid),
                            k::project_id.eq(owner_id),
                            k::name.eq(name),
                        ),
                        (k::creator_id.eq(creator_id), k::key_hash.eq(secret)),
                        (k::creation.eq(creation), k::expiration.eq(expiration)),
                    ))
                    .execute(conn)
            }
            Table::UserKey => {
                use user_key::dsl as k;
                diesel::insert_into(user_key::table)
                    .values((
                        (k::uuid.eq(uuid), k::user_id.eq(owner_id), k::name.eq(name)),
                        k::key_hash.eq(secret),
                        (k::creation.eq(creation), k::expiration.eq(expiration)),
                    ))
                    .execute(conn)
            }
            Table::Token => {
                use token::dsl as k;
                diesel::insert_into(token::table)
                    .values((
                        (k::uuid.eq(uuid), k::user_id.eq(owner_id), k::name.eq(name)),
                        k::jwt.eq(secret),
                        (k::creation.eq(creation), k::expiration.eq(expiration)),
                    ))
                    .execute(conn)
            }
        }
        .map(drop)
    })
}

/// Renames a credential (revoked ones too).
pub fn rename(conn: &mut Conn, table: Table, id: i32, to: &str) -> QueryResult<()> {
    each_backend!(conn, |conn| {
        match table {
            Table::ProjectKey => diesel::update(project_key::table.find(id))
                .set(project_key::name.eq(to))
                .execute(conn),
            Table::UserKey => diesel::update(user_key::table.find(id))
                .set(user_key::name.eq(to))
                .execute(conn),
            Table::Token => diesel::update(token::table.find(id))
                .set(token::name.eq(to))
                .execute(conn),
        }
        .map(drop)
    })
}

/// Revokes a live credential at `now`; returns 0 when it was already revoked.
pub fn revoke(conn: &mut Conn, table: Table, id: i32, now: i64) -> QueryResult<usize> {
    each_backend!(conn, |conn| {
        use diesel::update;
        match table {
            Table::ProjectKey => update(project_key::table.find(id))
                .filter(project_key::revoked.is_null())
                .set(project_key::revoked.eq(now))
                .execute(conn),
            Table::UserKey => update(user_key::table.find(id))
                .filter(user_key::revoked.is_null())
                .set(user_key::revoked.eq(now))
                .execute(conn),
            Table::Token => update(token::table.find(id))
                .filter(token::revoked.is_null())
                .set(token::revoked.eq(now))
                .execute(conn),
        }
    })
}

/// The project key with this hash, and the stored hash, while its project exists; whatever
/// the key's own state (the credential core decides whether it is live).
pub fn project_key_by_hash(
    conn: &mut Conn,
    hash: &str,
) -> QueryResult<Option<(CredentialRow, String)>> {
    each_backend!(conn, |conn| {
        let row = project_list::row_with(None::<String>.into_sql::<Nullable<Text>>());
        project_key::table
            .inner_join(project::table)
            .filter(project_key::key_hash.eq(hash))
            .filter(project::deleted.is_null())
            .select((row, project_key::key_hash))
            .first(conn)
            .optional()
    })
}

/// The user key with this hash, the stored hash and the key's user, whatever their state.
pub fn user_key_by_hash(
    conn: &mut Conn,
    hash: &str,
) -> QueryResult<Option<(CredentialRow, String, QueryUser)>> {
    each_backend!(conn, |conn| {
        user_key::table
            .inner_join(user::table)
            .filter(user_key::key_hash.eq(hash))
            .select((user_key_row(), user_key::key_hash, QueryUser::as_select()))
            .first(conn)
            .optional()
    })
}

/// Revokes every live token of a user (their email changed, so the JWTs' subject is gone).
pub fn revoke_all_tokens(conn: &mut Conn, user_id: i32, now: i64) -> QueryResult<usize> {
    each_backend!(conn, |conn| {
        diesel::update(token::table)
            .filter(token::user_id.eq(user_id))
            .filter(token::revoked.is_null())
            .set(token::revoked.eq(now))
            .execute(conn)
    })
}

/// Whether a row holding exactly this JWT for this user has been revoked.
pub fn token_is_revoked(conn: &mut Conn, user_id: i32, jwt: &str) -> QueryResult<bool> {
    each_backend!(conn, |conn| {
        diesel::select(dsl::exists(
            token::table
                .filter(token::user_id.eq(user_id))
                .filter(token::jwt.eq(jwt))
                .filter(token::revoked.is_not_null()),
        ))
        .get_result(conn)
    })
}
