//! `/v0/users` and `/v0/users/{user}`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{Json, Path, Query};
use super::pagination::{ListQuery, Paged};
use crate::auth::access::user_for;
use crate::auth::{BearerToken, Via};
use crate::credentials::jwt::Audience;
use crate::db;
use crate::db::rows::QueryUser;
use crate::db::users::UpdateUser;
use crate::domain::accounts::{JsonUpdateUser, JsonUser, JsonUsers};
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::domain::time::Timestamp;
use crate::error::{ApiError, Forbidden, Resource};
use crate::state::AppState;

/// Path of one user.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserParams {
    /// The slug or UUID of a user.
    pub user: ResourceId,
}

/// List users
///
/// Lists every user, sorted by name. Server admins only. `X-Total-Count` holds the total.
#[utoipa::path(get, path = "/v0/users", tag = "users", params(ListQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of users", body = JsonUsers)))]
pub async fn users_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Query(query): Query<ListQuery>,
) -> Result<Paged<JsonUser>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            if !caller.is_admin() {
                return Err(Forbidden::AdminOnly("Only server admins may list users.").into());
            }
            let (rows, total) = db::users::list(c, &query.filter(), query.page())?;
            Ok(Paged(rows.into_iter().map(to_json).collect(), total))
        })
        .await
}

/// View a user
///
/// Shows a user. Only the user themself or a server admin.
#[utoipa::path(get, path = "/v0/users/{user}", tag = "users", params(UserParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The user", body = JsonUser)))]
pub async fn user_get(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserParams>,
) -> Result<axum::Json<JsonUser>, ApiError> {
    state
        .read_as(bearer, move |c, caller, _| {
            Ok(axum::Json(to_json(user_for(c, &caller, &path.user)?)))
        })
        .await
}

/// Update a user
///
/// Changes a user's name, slug or email (the user themself or a server admin), or their
/// `admin` and `locked` flags (server admins only). Changing the email needs a session JWT
/// (not an API key or API token); it revokes all of the user's legacy tokens in the same
/// transaction, and the old address is emailed about it.
#[utoipa::path(patch, path = "/v0/users/{user}", tag = "users", params(UserParams),
    request_body = JsonUpdateUser, security(("bearer" = [])),
    responses((status = 200, description = "The user as stored", body = JsonUser)))]
pub async fn user_patch(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Path(path): Path<UserParams>,
    Json(body): Json<JsonUpdateUser>,
) -> Result<axum::Json<JsonUser>, ApiError> {
    let (json, old_email) = state
        .write_as(bearer, move |c, caller, now| {
            let user = user_for(c, &caller, &path.user)?;
            if (body.admin.is_some() || body.locked.is_some()) && !caller.is_admin() {
                return Err(Forbidden::AdminOnly(
                    "Only server admins may change whether a user is admin or locked.",
                )
                .into());
            }
            let email_changes = body
                .email
                .as_ref()
                .is_some_and(|e| e.as_str() != user.email);
            // The login email is where sessions are sent: with it, an API key could turn
            // itself into a session (and new keys). Only a session may change it.
            if email_changes && caller.via != Via::Jwt(Audience::Client) {
                return Err(Forbidden::EmailNeedsSession.into());
            }
            let old_email = email_changes.then(|| (user.name.clone(), user.email.clone()));
            let json = crate::db::atomically(c, |c| apply_update(c, &user, body, now.timestamp()))?;
            Ok::<_, ApiError>((json, old_email))
        })
        .await?;
    // The old address hears of the change, so a takeover does not go unnoticed.
    if let Some((name, old)) = old_email {
        state.mailer.send(&crate::mail::email_changed(
            &name,
            &old,
            &json.email,
            state.settings.console_url.trimmed(),
        ));
    }
    Ok(axum::Json(json))
}

fn apply_update(
    c: &mut crate::db::Conn,
    user: &QueryUser,
    body: JsonUpdateUser,
    now: i64,
) -> Result<JsonUser, ApiError> {
    let conflict = |column: &str| ApiError::Conflict {
        resource: Resource::User,
        id: format!("Uuid(UserUuid({}))", user.uuid),
        reason: format!("UNIQUE constraint failed: {column}"),
    };
    if let Some(slug) = &body.slug {
        if slug.as_str() != user.slug && db::users::slug_taken(c, slug.as_str())? {
            return Err(conflict("user.slug"));
        }
    }
    let new_email = body.email.as_ref().filter(|e| e.as_str() != user.email);
    if let Some(email) = new_email {
        if db::users::find_by_email(c, email.as_str())?.is_some() {
            return Err(conflict("user.email"));
        }
        // Legacy tokens name the user by email: a new email retires them all.
        db::credentials::revoke_all_tokens(c, user.id, now)?;
    }
    let changes = UpdateUser {
        name: body.name.map(|n| n.as_str().to_owned()),
        slug: body.slug.map(|s| s.as_str().to_owned()),
        email: new_email.map(|e| e.as_str().to_owned()),
        admin: body.admin,
        locked: body.locked,
        modified: Some(now),
    };
    Ok(to_json(db::users::update(c, user.id, &changes)?))
}

/// A user row as JSON.
pub fn to_json(row: QueryUser) -> JsonUser {
    let QueryUser {
        id: _,
        uuid,
        name,
        slug,
        email,
        admin,
        locked,
        created,
        modified: _,
    } = row;
    JsonUser {
        uuid: uuid_from_db(&uuid),
        name,
        slug,
        email,
        admin,
        locked,
        created: Timestamp::from_secs(created),
    }
}
