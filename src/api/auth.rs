//! `/v0/auth/*`: signup, login, confirm, accept. No SMTP needed: the confirmation email,
//! with its token, goes to the log.

use axum::extract::State;
use axum::http::StatusCode;

use super::extract::Client;
use super::extract::Json;
use crate::accounts::{Invitation, NewAccount, join_invited, log_in, sign_up, user_by_email};
use crate::auth::BearerToken;
use crate::credentials::jwt::{AUTH_TTL, Audience, CLIENT_TTL};
use crate::db::rows::QueryUser;
use crate::domain::accounts::{
    JsonAccept, JsonAuthAck, JsonAuthUser, JsonConfirm, JsonLogin, JsonSignup,
};
use crate::domain::names::{Email, Jwt};
use crate::domain::time::Timestamp;
use crate::error::{ApiError, AuthError, Forbidden, Resource};
use crate::mail;
use crate::state::AppState;

/// Sign up
///
/// Creates a user and emails a confirmation token (to the log when no SMTP server is
/// configured). The first user becomes server admin. Each user gets a personal
/// organization, unless they join one through an invitation.
#[utoipa::path(post, path = "/v0/auth/signup", tag = "auth", request_body = JsonSignup,
    responses((status = 202, description = "Confirmation sent", body = JsonAuthAck)))]
pub async fn auth_signup_post(
    State(state): State<AppState>,
    client: Client,
    Json(body): Json<JsonSignup>,
) -> Result<(StatusCode, axum::Json<JsonAuthAck>), ApiError> {
    let now = state.clock.now();
    let invite = check_signup(&state, &body, client, now)?;
    let account = NewAccount {
        name: body.name,
        slug: body.slug,
        email: body.email,
        admin: None,
        invite,
    };
    let (user, admins) = state
        .db
        .write(move |c| sign_up(c, &account, now.timestamp()))
        .await?;
    send_confirmation(&state, &user, false)?;
    tell_admins(&state, &user, admins);
    Ok(ack(user.email))
}

/// Log in
///
/// Emails a fresh confirmation token to an existing user (to the log when no SMTP server
/// is configured).
#[utoipa::path(post, path = "/v0/auth/login", tag = "auth", request_body = JsonLogin,
    responses((status = 202, description = "Confirmation sent", body = JsonAuthAck)))]
pub async fn auth_login_post(
    State(state): State<AppState>,
    client: Client,
    Json(body): Json<JsonLogin>,
) -> Result<(StatusCode, axum::Json<JsonAuthAck>), ApiError> {
    let now = state.clock.now();
    state.limits.spend_email(client.0, now)?;
    // Checked after the user is found, so an unknown email is a 404 whatever the invitation.
    // Checked inside the transaction, which may run more than once (see `Db::write`).
    let verifier = state.clone();
    let user = state
        .db
        .write(move |c| {
            let invite = body
                .invite
                .as_ref()
                .map(|t| verify_invite(&verifier, t, Some(body.email.as_str())));
            log_in(c, &body.email, invite, now.timestamp())
        })
        .await?;
    send_confirmation(&state, &user, true)?;
    Ok(ack(user.email))
}

/// Confirm
///
/// Exchanges a confirmation token (from signup or login) for a 30-day session token.
#[utoipa::path(post, path = "/v0/auth/confirm", tag = "auth", request_body = JsonConfirm,
    responses((status = 200, description = "The user and a session token", body = JsonAuthUser)))]
pub async fn auth_confirm_post(
    State(state): State<AppState>,
    Json(body): Json<JsonConfirm>,
) -> Result<axum::Json<JsonAuthUser>, ApiError> {
    let now = state.clock.now();
    let claims = state
        .jwt
        .verify(body.token.as_str(), &[Audience::Auth], now)
        .map_err(AuthError::BadConfirmation)?;
    let email = Email::parse(&claims.sub)
        .map_err(|_| ApiError::not_found(Resource::User, format!("Email({:?})", claims.sub)))?;
    let user = state.db.run(move |c| user_by_email(c, &email)).await?;
    let (token, claims) = state
        .jwt
        .mint(Audience::Client, &user.email, CLIENT_TTL, now, None)?;
    Ok(axum::Json(JsonAuthUser {
        user: super::users::to_json(user),
        token,
        creation: Timestamp::from_secs(claims.iat),
        expiration: Timestamp::from_secs(claims.exp),
    }))
}

/// Accept an invitation
///
/// Joins the organization an invitation names, as the authenticated user.
#[utoipa::path(post, path = "/v0/auth/accept", tag = "auth", request_body = JsonAccept,
    security(("bearer" = [])),
    responses((status = 202, description = "Joined", body = JsonAuthAck)))]
pub async fn auth_accept_post(
    State(state): State<AppState>,
    BearerToken(bearer): BearerToken,
    Json(body): Json<JsonAccept>,
) -> Result<(StatusCode, axum::Json<JsonAuthAck>), ApiError> {
    let verifier = state.clone();
    let email = state
        .write_as(bearer, move |c, caller, now| {
            let invite = verify_invite(&verifier, &body.invite, None)?;
            invite.check_email(&caller.user.email)?;
            join_invited(c, &caller.user, &invite, now.timestamp())?;
            Ok(caller.user.email)
        })
        .await?;
    Ok(ack(email))
}

/// 202 naming the address the message went to (a user's stored, validated email).
fn ack(email: String) -> (StatusCode, axum::Json<JsonAuthAck>) {
    (
        StatusCode::ACCEPTED,
        axum::Json(JsonAuthAck {
            email: Email::from_db(email),
        }),
    )
}

/// A signup's checks before any database work, in Bencher's order: the terms accepted,
/// the client's email budget, then its invitation (if any) valid for its address.
fn check_signup(
    state: &AppState,
    body: &JsonSignup,
    client: Client,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Invitation>, ApiError> {
    if !body.i_agree {
        return Err(Forbidden::TermsNotAccepted.into());
    }
    state.limits.spend_email(client.0, now)?;
    let email = Some(body.email.as_str());
    body.invite
        .as_ref()
        .map(|t| verify_invite(state, t, email))
        .transpose()
}

/// Tells every other server admin that `user` signed up.
fn tell_admins(state: &AppState, user: &QueryUser, admins: Vec<QueryUser>) {
    let console = state.settings.console_url.trimmed();
    let who = format!("{} <{}>", user.name, user.email);
    for admin in admins {
        state
            .mailer
            .send(&mail::new_user(&admin.name, &admin.email, console, &who));
    }
}

/// Verifies an invitation token: signature, audience and an organization claim, no older
/// than the invitation lifetime (whatever expiry it carries: invitations made before they
/// expired are held to it too), and sent to `email` (without one, the caller checks it
/// against the authenticated user).
fn verify_invite(
    state: &AppState,
    token: &Jwt,
    email: Option<&str>,
) -> Result<Invitation, ApiError> {
    let now = state.clock.now();
    let claims = state
        .jwt
        .verify(token.as_str(), &[Audience::Invite], now)
        .map_err(AuthError::BadConfirmation)?;
    if claims.org.is_none() {
        return Err(Forbidden::Invitation("This invitation names no organization.").into());
    }
    if now.timestamp() - claims.iat > i64::from(state.settings.invite_ttl) {
        return Err(Forbidden::Invitation("This invitation has expired.").into());
    }
    let invitation = Invitation::new(
        claims,
        crate::credentials::secret::KeyHash::of(token.as_str())
            .as_str()
            .to_owned(),
    );
    if let Some(email) = email {
        invitation.check_email(email)?;
    }
    Ok(invitation)
}

fn send_confirmation(state: &AppState, user: &QueryUser, login: bool) -> Result<(), ApiError> {
    let (token, _) = state.jwt.mint(
        Audience::Auth,
        &user.email,
        AUTH_TTL,
        state.clock.now(),
        None,
    )?;
    let console = state.settings.console_url.trimmed();
    state.mailer.send(&mail::confirmation(
        &user.name,
        &user.email,
        console,
        &token,
        login,
    ));
    Ok(())
}
