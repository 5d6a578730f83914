//! axum / tower integration: [`RequireKey`], an `AsyncAuthorizeRequest` for tower-http's
//! `AsyncRequireAuthorizationLayer`, and [`Verdict`] as an extractor.

use crate::{Rejection, Verdict, Verifier};
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderValue, Request, Response, StatusCode};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use tower_http::auth::{AsyncAuthorizeRequest, AsyncRequireAuthorizationLayer};

/// Requires a key with a scope on every request through the layer: reads
/// `Authorization: Bearer <key>`, verifies it, and either passes the request on with the
/// [`Verdict`] in its extensions or answers 401/403/429/503 with the `/v1` error envelope.
#[derive(Clone)]
pub struct RequireKey {
    scope: Option<Arc<str>>,
    verifier: Option<Verifier>,
}

impl RequireKey {
    /// Requires `scope`. The verifier is the one given with [`RequireKey::with`], else the
    /// request's `Extension<Verifier>` (add that layer outside this one).
    pub fn scope(scope: &str) -> Self {
        RequireKey {
            scope: Some(scope.into()),
            verifier: None,
        }
    }

    /// Requires any valid key.
    pub fn any() -> Self {
        RequireKey {
            scope: None,
            verifier: None,
        }
    }

    /// Verifies with `verifier`, and makes the layer.
    pub fn with(mut self, verifier: Verifier) -> AsyncRequireAuthorizationLayer<Self> {
        self.verifier = Some(verifier);
        AsyncRequireAuthorizationLayer::new(self)
    }

    /// The layer, with the verifier taken from each request's extensions.
    pub fn layer(self) -> AsyncRequireAuthorizationLayer<Self> {
        AsyncRequireAuthorizationLayer::new(self)
    }
}

impl<B: Send + 'static> AsyncAuthorizeRequest<B> for RequireKey {
    type RequestBody = B;
    type ResponseBody = Body;
    type Future = BoxFuture<'static, Result<Request<B>, Response<Body>>>;

    fn authorize(&mut self, mut request: Request<B>) -> Self::Future {
        let scope = self.scope.clone();
        let verifier = self
            .verifier
            .clone()
            .or_else(|| request.extensions().get::<Verifier>().cloned());
        Box::pin(async move {
            let Some(verifier) = verifier else {
                tracing::error!(
                    "RequireKey has no Verifier: use .with(verifier) or add it as an Extension"
                );
                return Err(answer(&Rejection::Unavailable));
            };
            let key = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(bearer)
                .unwrap_or("");
            let (method, path) = (
                request.method().as_str().to_owned(),
                request.uri().path().to_owned(),
            );
            match verifier
                .check(key, scope.as_deref(), None, &method, &path)
                .await
            {
                Ok(verdict) => {
                    request.extensions_mut().insert(verdict);
                    Ok(request)
                }
                Err(rejection) => Err(answer(&rejection)),
            }
        })
    }
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The `/v1` answer for a rejection: its status, the envelope, and `Retry-After` when limited.
pub(crate) fn answer(rejection: &Rejection) -> Response<Body> {
    let status =
        StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut res = Response::new(Body::from(rejection.envelope().to_string()));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    let retry = match rejection {
        Rejection::Refused(r) => r.retry_after_secs,
        Rejection::Unavailable => Some(1),
    };
    if let Some(secs) = retry {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

/// The verdict [`RequireKey`] put in the request; without the layer, 401.
impl<S: Send + Sync> FromRequestParts<S> for Verdict {
    type Rejection = Response<Body>;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Arc<Verdict>>() {
            Some(v) => Ok((**v).clone()),
            None => Err(answer(&Rejection::Refused(Box::new(crate::Refusal {
                code: crate::Code::InvalidApiKey,
                message: "This route needs an API key (no RequireKey layer verified one).".into(),
                required_scope: None,
                retry_after_secs: None,
                key_id: None,
                tenant: None,
            })))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_like_v1_reads_them() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn rejections_answer_with_the_v1_status_and_envelope() {
        let r = answer(&Rejection::Unavailable);
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
}
