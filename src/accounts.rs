//! Accounts: creating a user with their personal organization (or the one an invitation
//! names), slugs made as Bencher makes them, and redeeming invitations. Used by the signup
//! and login endpoints, `keyward admin` and the benchmark's seeding.

use crate::credentials::jwt::Claims;
use crate::db;
use crate::db::Conn;
use crate::db::rows::{
    InsertOrganization, InsertOrganizationRole, InsertUser, QueryOrganization, QueryUser,
};
use crate::db::users::UpdateUser;
use crate::domain::accounts::{JsonUpdateUser, OrganizationRole};
use crate::domain::ids::uuid_from_db;
use crate::domain::names::{
    Email, SUFFIX_LEN, Slug, UserName, slug_from_name, slug_of_suffix, slug_with_suffix,
};
use crate::error::{ApiError, AuthError, Forbidden, Resource};

/// A verified invitation: what it grants, and the hash that marks it used.
pub struct Invitation {
    claims: Claims,
    token_hash: String,
}

impl Invitation {
    /// An invitation whose token verified, marked used under `token_hash`.
    pub fn new(claims: Claims, token_hash: String) -> Self {
        Self { claims, token_hash }
    }

    /// An invitation works only for the address it was sent to.
    pub fn check_email(&self, email: &str) -> Result<(), ApiError> {
        if self.claims.sub.eq_ignore_ascii_case(email) {
            Ok(())
        } else {
            Err(Forbidden::Invitation("This invitation was sent to another email address.").into())
        }
    }
}

/// A user account to create.
pub struct NewAccount {
    pub name: UserName,
    pub slug: Option<Slug>,
    pub email: Email,
    /// `None`: admin only if this is the first user.
    pub admin: Option<bool>,
    /// An accepted invitation: join its organization instead of getting a personal one.
    pub invite: Option<Invitation>,
}

/// Creates a user with a personal organization (or the invited one), in one transaction.
/// Returns the user and whether it is the first user of this server. A taken email or
/// slug is a 409.
pub fn create_account(
    c: &mut Conn,
    account: &NewAccount,
    now: i64,
) -> Result<(QueryUser, bool), ApiError> {
    crate::db::atomically(c, |c| {
        let email = account.email.as_str();
        if db::users::find_by_email(c, email)?.is_some() {
            return Err(conflict(email, "user.email"));
        }
        let slug = choose_slug(
            account.slug.as_ref(),
            account.name.as_str(),
            now,
            |s| db::users::slug_taken(c, s),
            || conflict(email, "user.slug"),
        )?;
        let row = InsertUser {
            uuid: uuid::Uuid::now_v7().to_string(),
            name: account.name.as_str().to_owned(),
            slug: slug.into_string(),
            email: email.to_owned(),
            admin: account.admin.unwrap_or(false),
            locked: false,
            created: now,
            modified: now,
        };
        // An email or slug another server's signup committed since the checks above breaks
        // a constraint instead; the write runs again and answers there (see `Db::write`).
        let mut user = db::users::insert(c, &row)?;
        let first = db::users::claim_first(c, user.id)?;
        if first && account.admin.is_none() {
            user = db::users::make_admin(c, user.id)?;
        }
        match &account.invite {
            Some(claims) => join_invited(c, &user, claims, now)?,
            None => personal_organization(c, &user, now)?,
        }
        Ok((user, first))
    })
}

/// Who is changing a user: a server admin or not, and by a session JWT or not.
#[derive(Clone, Copy, Debug)]
pub struct Editor {
    pub admin: bool,
    pub session: bool,
}

/// Applies `changes` to `user`: only an admin may change `admin` or `locked`, only a session
/// may change the email (which retires the user's legacy tokens, whose subject it is); a
/// slug or email another user holds is a 409. Returns the stored row and, when the email
/// changed, the old name and address (to be told of it).
pub fn update_user(
    c: &mut Conn,
    user: &QueryUser,
    changes: &JsonUpdateUser,
    by: Editor,
    now: i64,
) -> Result<(QueryUser, Option<(String, String)>), ApiError> {
    if (changes.admin.is_some() || changes.locked.is_some()) && !by.admin {
        return Err(Forbidden::AdminOnly(
            "Only server admins may change whether a user is admin or locked.",
        )
        .into());
    }
    let new_email = changes.email.as_ref().filter(|e| e.as_str() != user.email);
    if new_email.is_some() && !by.session {
        return Err(Forbidden::EmailNeedsSession.into());
    }
    let conflict = |column: &str| ApiError::Conflict {
        resource: Resource::User,
        id: format!("Uuid(UserUuid({}))", user.uuid),
        reason: format!("UNIQUE constraint failed: {column}"),
    };
    db::atomically(c, |c| {
        if let Some(slug) = &changes.slug {
            if slug.as_str() != user.slug && db::users::slug_taken(c, slug.as_str())? {
                return Err(conflict("user.slug"));
            }
        }
        if let Some(email) = new_email {
            if db::users::find_by_email(c, email.as_str())?.is_some() {
                return Err(conflict("user.email"));
            }
            db::credentials::revoke_all_tokens(c, user.id, now)?;
        }
        let row = UpdateUser {
            name: changes.name.as_ref().map(|n| n.as_str().to_owned()),
            slug: changes.slug.as_ref().map(|s| s.as_str().to_owned()),
            email: new_email.map(|e| e.as_str().to_owned()),
            admin: changes.admin,
            locked: changes.locked,
            modified: Some(now),
        };
        let old = new_email.map(|_| (user.name.clone(), user.email.clone()));
        Ok((db::users::update(c, user.id, &row)?, old))
    })
}

/// Signs a user up: creates the account, and returns it with the admins to tell of it
/// (none when this is the server's first user, who becomes its admin).
pub fn sign_up(
    c: &mut Conn,
    account: &NewAccount,
    now: i64,
) -> Result<(QueryUser, Vec<QueryUser>), ApiError> {
    let (user, first) = create_account(c, account, now)?;
    let admins = if first {
        Vec::new()
    } else {
        db::users::admins(c)?
    };
    Ok((user, admins))
}

/// Logs a user in: the unlocked user with this email (404 when none, before the invitation
/// is looked at), having joined the organization of a valid `invite`.
pub fn log_in(
    c: &mut Conn,
    email: &Email,
    invite: Option<Result<Invitation, ApiError>>,
    now: i64,
) -> Result<QueryUser, ApiError> {
    let user = user_by_email(c, email)?;
    if user.locked {
        return Err(AuthError::Locked(uuid_from_db(&user.uuid)).into());
    }
    if let Some(invite) = invite {
        join_invited(c, &user, &invite?, now)?;
    }
    Ok(user)
}

/// The user with this email, or Bencher's 404.
pub fn user_by_email(c: &mut Conn, email: &Email) -> Result<QueryUser, ApiError> {
    db::users::find_by_email(c, email.as_str())?
        .ok_or_else(|| ApiError::not_found(Resource::User, format!("Email({:?})", email.as_str())))
}

fn conflict(email: &str, column: &str) -> ApiError {
    ApiError::Conflict {
        resource: Resource::User,
        id: format!("Email({email:?})"),
        reason: format!("UNIQUE constraint failed: {column}"),
    }
}

/// The slug of a new user, organization or project: the one asked for (a conflict if it is
/// taken), else one made from `name` and made free.
pub fn choose_slug(
    given: Option<&Slug>,
    name: &str,
    now: i64,
    mut taken: impl FnMut(&str) -> diesel::QueryResult<bool>,
    conflict: impl FnOnce() -> ApiError,
) -> Result<Slug, ApiError> {
    match given {
        Some(slug) if taken(slug.as_str())? => Err(conflict()),
        Some(slug) => Ok(slug.clone()),
        None => free_slug(slug_from_name(name).as_ref(), now, taken),
    }
}

/// `base` if it is free, else `base` with a random suffix; with no `base` (a name that gives
/// no slug), a random slug. As Bencher makes them.
pub fn free_slug(
    base: Option<&Slug>,
    now: i64,
    mut taken: impl FnMut(&str) -> diesel::QueryResult<bool>,
) -> Result<Slug, ApiError> {
    if let Some(base) = base {
        if !taken(base.as_str())? {
            return Ok(base.clone());
        }
    }
    loop {
        let suffix = random_suffix(now);
        let candidate = match base {
            Some(base) => slug_with_suffix(base, &suffix),
            None => slug_of_suffix(&suffix),
        };
        if !taken(candidate.as_str())? {
            return Ok(candidate);
        }
    }
}

/// Bencher's random slug part: the time in base 36, then random base-36 characters up to
/// eight in all.
fn random_suffix(now: i64) -> String {
    use rand::Rng as _;
    const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut time = u64::try_from(now).unwrap_or_default();
    let mut digits = Vec::with_capacity(SUFFIX_LEN);
    while time > 0 && digits.len() < SUFFIX_LEN {
        digits.push(BASE36[usize::try_from(time % 36).unwrap_or_default()]);
        time /= 36;
    }
    digits.reverse();
    let mut rng = rand::thread_rng();
    while digits.len() < SUFFIX_LEN {
        digits.push(BASE36[rng.gen_range(0..BASE36.len())]);
    }
    String::from_utf8(digits).unwrap_or_default()
}

/// The user's own organization: same UUID as the user, same name, their slug if free.
fn personal_organization(c: &mut Conn, user: &QueryUser, now: i64) -> Result<(), ApiError> {
    if db::organizations::uuid_taken(c, &user.uuid)? {
        return Ok(());
    }
    let slug = free_slug(Some(&Slug::from_db(user.slug.clone())), now, |s| {
        db::organizations::slug_taken(c, s)
    })?;
    create_organization(c, user.uuid.clone(), &user.name, slug, user.id, now)?;
    Ok(())
}

/// Creates an organization led by the user row `leader`.
pub fn create_organization(
    c: &mut Conn,
    uuid: String,
    name: &str,
    slug: Slug,
    leader: i32,
    now: i64,
) -> Result<QueryOrganization, ApiError> {
    let org = db::organizations::insert(
        c,
        &InsertOrganization {
            uuid,
            name: name.to_owned(),
            slug: slug.into_string(),
            created: now,
            modified: now,
        },
    )?;
    let leadership = InsertOrganizationRole {
        user_id: leader,
        organization_id: org.id,
        role: OrganizationRole::Leader.as_str().to_owned(),
        created: now,
        modified: now,
    };
    db::organizations::set_role(c, &leadership)?;
    Ok(org)
}

pub fn join_invited(
    c: &mut Conn,
    user: &QueryUser,
    invite: &Invitation,
    now: i64,
) -> Result<(), ApiError> {
    let Some(org_claim) = &invite.claims.org else {
        return Ok(());
    };
    let id = crate::domain::ids::ResourceId::Uuid(org_claim.uuid);
    let org = db::organizations::find(c, &id)?
        .ok_or_else(|| ApiError::not_found(Resource::Organization, id.describe("Organization")))?;
    if !db::organizations::redeem_invitation(c, &invite.token_hash, user.id, now)? {
        return Err(Forbidden::Invitation("This invitation has already been used.").into());
    }
    db::organizations::set_role(
        c,
        &InsertOrganizationRole {
            user_id: user.id,
            organization_id: org.id,
            role: org_claim.role.as_str().to_owned(),
            created: now,
            modified: now,
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, email: &str) -> NewAccount {
        NewAccount {
            name: UserName::parse(name).unwrap(),
            slug: None,
            email: Email::parse(email).unwrap(),
            admin: None,
            invite: None,
        }
    }

    fn row(slug: &str, email: &str) -> InsertUser {
        InsertUser {
            uuid: uuid::Uuid::now_v7().to_string(),
            name: "Racer".to_owned(),
            slug: slug.to_owned(),
            email: email.to_owned(),
            admin: false,
            locked: false,
            created: 0,
            modified: 0,
        }
    }

    #[test]
    fn only_the_first_account_claims_the_first_user_slot() {
        let dir = tempfile::tempdir().unwrap();
        let db = db::Db::open(&dir.path().join("k.db")).unwrap();
        let (ann, ann_first) = db
            .run_sync(|c| create_account(c, &account("Ann", "ann@example.com"), 1))
            .unwrap();
        let (bob, bob_first) = db
            .run_sync(|c| create_account(c, &account("Bob", "bob@example.com"), 2))
            .unwrap();
        assert!(ann_first && ann.admin);
        assert!(!bob_first && !bob.admin);
        let again = db
            .run_sync(|c| Ok::<_, ApiError>(db::users::claim_first(c, bob.id)?))
            .unwrap();
        assert!(!again, "the slot is taken once");
    }

    #[test]
    fn a_value_taken_after_the_check_is_a_lost_race_that_a_second_run_answers() {
        use crate::db::WriteError;
        let dir = tempfile::tempdir().unwrap();
        let db = db::Db::open(&dir.path().join("k.db")).unwrap();
        let (ann, _) = db
            .run_sync(|c| create_account(c, &account("Ann", "ann@example.com"), 1))
            .unwrap();
        // As if another server had inserted Ann between this signup's checks and its insert:
        // a lost race, which the write door runs again.
        for row in [
            row("other", "ann@example.com"),
            row(&ann.slug, "new@example.com"),
        ] {
            let raced = db.run_sync(|c| Ok::<_, ApiError>(db::users::insert(c, &row).map(drop)?));
            assert!(raced.as_ref().is_err_and(WriteError::raced), "{raced:?}");
        }
        // Run again, the checks see Ann: the email is a 409, the name gets a free slug.
        let again = db.run_sync(|c| create_account(c, &account("Other", "ann@example.com"), 2));
        match again {
            Err(e @ ApiError::Conflict { .. }) => {
                assert!(
                    e.to_string()
                        .ends_with("UNIQUE constraint failed: user.email")
                );
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        let (bob, _) = db
            .run_sync(|c| create_account(c, &account("Ann", "bob@example.com"), 3))
            .unwrap();
        assert_ne!(bob.slug, ann.slug);
    }
}
