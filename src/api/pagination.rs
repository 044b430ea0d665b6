//! The one pagination implementation: Bencher's list query parameters in, a page of rows
//! plus `X-Total-Count` out.

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{Filter, Page};
use crate::domain::JsonDirection;
use crate::domain::names::{ResourceName, Search};

/// The default page size.
pub const DEFAULT_PER_PAGE: u8 = 8;

/// The only sort field any list has.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NameSort {
    #[default]
    Name,
}

/// Query parameters of every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The field to sort by (only `name`).
    pub sort: Option<NameSort>,
    /// The sort direction: `asc` (default) or `desc`.
    pub direction: Option<JsonDirection>,
    /// Items per page, 0 to 255 (default 8).
    #[param(format = "uint8", maximum = 255)]
    pub per_page: Option<u8>,
    /// The page number; 0 and 1 both mean the first page.
    #[param(format = "uint32", maximum = 4_294_967_295_u32)]
    pub page: Option<u32>,
    /// Only items with exactly this name.
    #[param(value_type = Option<ResourceName>)]
    pub name: Option<ResourceName>,
    /// Only items whose name (or slug) or UUID contains this text; `_` and `%` are
    /// wildcards. At most 256 bytes.
    #[param(value_type = Option<String>, max_length = 256)]
    pub search: Option<Search>,
    /// `true`: only revoked credentials; absent or `false`: only live ones.
    pub revoked: Option<bool>,
}

impl ListQuery {
    /// The page to load. The offset is `(page − 1) × per_page` in 32-bit arithmetic that
    /// wraps, as in Bencher's release builds.
    pub fn page(&self) -> Page {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        let page = self.page.unwrap_or(1);
        let offset = page.saturating_sub(1).wrapping_mul(u32::from(per_page));
        Page {
            limit: i64::from(per_page),
            offset: i64::from(offset),
            desc: self.direction == Some(JsonDirection::Desc),
        }
    }

    /// The filters to apply.
    pub fn filter(&self) -> Filter {
        Filter {
            name: self.name.as_ref().map(|n| n.as_str().to_owned()),
            search: self.search.as_ref().map(|s| s.as_str().to_owned()),
            revoked: self.revoked.unwrap_or(false),
        }
    }
}

/// A page of items; the only type that sets `X-Total-Count` to a list total.
pub struct Paged<T>(pub Vec<T>, pub i64);

/// The header holding a list's total.
pub const TOTAL_COUNT: &str = "x-total-count";

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let Self(items, total) = self;
        let mut response = axum::Json(items).into_response();
        response
            .headers_mut()
            .insert(TOTAL_COUNT, HeaderValue::from(total));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> ListQuery {
        serde_urlencoded::from_str(s).unwrap()
    }

    #[test]
    fn defaults_and_offsets() {
        assert_eq!(
            q("").page(),
            Page {
                limit: 8,
                offset: 0,
                desc: false
            }
        );
        assert_eq!(q("page=0").page().offset, 0);
        assert_eq!(q("page=1").page().offset, 0);
        assert_eq!(q("page=3&per_page=255").page().offset, 510);
        assert!(q("direction=desc").page().desc);
        assert_eq!(q("per_page=0").page().limit, 0);
    }

    #[test]
    fn huge_pages_wrap_like_bencher_release_builds() {
        // (2147483649 − 1) × 2 = 2^32 ≡ 0
        assert_eq!(q("per_page=2&page=2147483649").page().offset, 0);
    }

    #[test]
    fn bad_values_are_refused_with_bencher_texts() {
        let err = |s: &str| {
            serde_urlencoded::from_str::<ListQuery>(s)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("per_page=256"),
            "number too large to fit in target type"
        );
        assert_eq!(
            err("revoked=yes"),
            "provided string was not `true` or `false`"
        );
        assert_eq!(
            err("sort=creation"),
            "unknown variant `creation`, expected `name`"
        );
        assert_eq!(err("per_page="), "cannot parse integer from empty string");
        assert_eq!(
            err("name=%20x"),
            "Failed to validate resource name string:  x"
        );
    }
}
