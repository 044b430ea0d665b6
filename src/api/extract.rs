//! Our `Path`, `Query` and `Json` extractors: the same parsing as axum's, but every rejection
//! is an [`ApiError`] with the message Bencher's HTTP layer gives.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, RequestError};
use crate::limits::ClientAddr;
use crate::state::AppState;

/// The client address of a request, if its connection gave one (see [`ClientAddr`]).
#[derive(Clone, Copy, Debug)]
pub struct Client(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ClientAddr>().map(|c| c.0)))
    }
}

/// Path parameters; a bad one is a 400 `bad parameter in URL path: …`.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(RequestError::Path(path_message(rejection)).into()),
        }
    }
}

fn path_message(rejection: PathRejection) -> String {
    use axum::extract::path::ErrorKind;
    match rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
            ErrorKind::Message(m) | ErrorKind::DeserializeError { message: m, .. } => m,
            other => other.to_string(),
        },
        other => other.body_text(),
    }
}

/// Query parameters, parsed with `serde_urlencoded` as Bencher's HTTP layer does; unknown
/// parameters are ignored.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Self)
            .map_err(|e| RequestError::Query(e.to_string()).into())
    }
}

/// A JSON body. A missing `Content-Type` counts as JSON; the size limit is the configured
/// `request_body_max_bytes`; errors name the failing field path.
pub struct Json<T>(pub T);

impl<T> FromRequest<AppState> for Json<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        check_content_type(req.headers())?;
        let limit = state.settings.body_limit;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(RequestError::BodyTooLarge(limit).into());
        }
        let bytes = match Limited::new(req.into_body(), limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(RequestError::BodyTooLarge(limit).into());
            }
            Err(e) => return Err(RequestError::Body(e.to_string()).into()),
        };
        parse_json(&bytes).map(Self)
    }
}

/// Parses JSON the way the error messages expect: `<field path>: <serde error>`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value =
        serde_path_to_error::deserialize(&mut de).map_err(|e| RequestError::Body(e.to_string()))?;
    de.end().map_err(|e| RequestError::Body(e.to_string()))?;
    Ok(value)
}

fn check_content_type(headers: &HeaderMap) -> Result<(), RequestError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let raw = String::from_utf8_lossy(value.as_bytes());
    let mime = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Ok(())
    } else if matches!(
        mime.as_str(),
        "application/x-www-form-urlencoded" | "application/octet-stream" | "multipart/form-data"
    ) {
        Err(RequestError::WrongContentType(mime))
    } else {
        Err(RequestError::UnsupportedContentType(mime))
    }
}
