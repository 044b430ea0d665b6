//! `/v0/users` and `/v0/users/{user}`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{Json, Path, Query};
use super::pagination::{ListQuery, Paged};
use crate::accounts::{Editor, update_user};
use crate::auth::access::user_for;
use crate::auth::{AuthUser, BearerToken, Via};
use crate::credentials::jwt::Audience;
use crate::db;
use crate::db::rows::QueryUser;
use crate::domain::accounts::{JsonUpdateUser, JsonUser, JsonUsers};
use crate::domain::ids::{ResourceId, uuid_from_db};
use crate::domain::time::Timestamp;
use crate::error::{ApiError, Forbidden};
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
    let (user, old_email) = state
        .write_as(bearer, move |c, caller, now| {
            let user = user_for(c, &caller, &path.user)?;
            update_user(c, &user, &body, editor(&caller), now.timestamp())
        })
        .await?;
    let json = to_json(user);
    // The old address hears of the change, so a takeover does not go unnoticed.
    if let Some((name, old)) = old_email {
        let console = state.settings.console_url.trimmed();
        let letter = crate::mail::email_changed(&name, &old, &json.email, console);
        state.mailer.send(&letter);
    }
    Ok(axum::Json(json))
}

/// Who `caller` is as an editor of users.
fn editor(caller: &AuthUser) -> Editor {
    Editor {
        admin: caller.is_admin(),
        // The login email is where sessions are sent: with it, an API key could turn
        // itself into a session (and new keys). Only a session may change it.
        session: caller.via == Via::Jwt(Audience::Client),
    }
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
