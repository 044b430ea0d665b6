//! Pure types and rules: validated names, identifiers, time, and the wire (JSON) types.
//! Nothing here knows about HTTP or the database.

pub mod accounts;
pub mod credentials;
pub mod ids;
pub mod names;
pub mod time;

/// Bencher's ordering direction for lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonDirection {
    #[default]
    Asc,
    Desc,
}
