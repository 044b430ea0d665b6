//! Row types: what a `SELECT` returns (`Query*`) and what an `INSERT` writes (`Insert*`).

use diesel::prelude::*;

use super::schema::{organization, organization_role, project, project_role, user};

/// A `user` row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = user, check_for_backend(crate::db::Backend))]
pub struct QueryUser {
    pub id: i32,
    pub uuid: String,
    pub name: String,
    pub slug: String,
    pub email: String,
    pub admin: bool,
    pub locked: bool,
    pub created: i64,
    pub modified: i64,
}

/// A new `user` row.
#[derive(Insertable)]
#[diesel(table_name = user)]
pub struct InsertUser {
    pub uuid: String,
    pub name: String,
    pub slug: String,
    pub email: String,
    pub admin: bool,
    pub locked: bool,
    pub created: i64,
    pub modified: i64,
}

/// An `organization` row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = organization, check_for_backend(crate::db::Backend))]
pub struct QueryOrganization {
    pub id: i32,
    pub uuid: String,
    pub name: String,
    pub slug: String,
    pub license: Option<String>,
    pub created: i64,
    pub modified: i64,
    pub deleted: Option<i64>,
}

/// A new `organization` row.
#[derive(Insertable)]
#[diesel(table_name = organization)]
pub struct InsertOrganization {
    pub uuid: String,
    pub name: String,
    pub slug: String,
    pub created: i64,
    pub modified: i64,
}

/// A new `organization_role` row.
#[derive(Insertable)]
#[diesel(table_name = organization_role)]
pub struct InsertOrganizationRole {
    pub user_id: i32,
    pub organization_id: i32,
    pub role: String,
    pub created: i64,
    pub modified: i64,
}

/// A `project` row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = project, check_for_backend(crate::db::Backend))]
pub struct QueryProject {
    pub id: i32,
    pub uuid: String,
    pub organization_id: i32,
    pub name: String,
    pub slug: String,
    pub url: Option<String>,
    pub visibility: i32,
    pub created: i64,
    pub modified: i64,
    pub deleted: Option<i64>,
}

/// A new `project` row.
#[derive(Insertable)]
#[diesel(table_name = project)]
pub struct InsertProject {
    pub uuid: String,
    pub organization_id: i32,
    pub name: String,
    pub slug: String,
    pub url: Option<String>,
    pub visibility: i32,
    pub created: i64,
    pub modified: i64,
}

/// A new `project_role` row.
#[derive(Insertable)]
#[diesel(table_name = project_role)]
pub struct InsertProjectRole {
    pub user_id: i32,
    pub project_id: i32,
    pub role: String,
    pub created: i64,
    pub modified: i64,
}
