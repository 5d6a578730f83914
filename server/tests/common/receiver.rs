//! A webhook receiver run by a test: records every request, checks its signature with an
//! independent Standard Webhooks implementation (the `standardwebhooks` crate, its own HMAC),
//! and answers with the statuses the test queued (then 200). `HANG` answers never.
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Queue this status to hold the request open forever (a receiver that stops answering).
pub const HANG: u16 = 0;

#[derive(Debug, Clone)]
pub struct Got {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: serde_json::Value,
    /// Whether the signature verified against the receiver's secret.
    pub verified: bool,
    /// What the receiver answered (`HANG`: nothing).
    pub answered: u16,
}

impl Got {
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }
}

#[derive(Default)]
struct Inner {
    got: Vec<Got>,
    plan: VecDeque<u16>,
    secret: Option<String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

async fn hook(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let text = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let answer = {
        let mut g = inner.lock().unwrap();
        let verified = g.secret.as_deref().is_some_and(|s| {
            standardwebhooks::Webhook::new(s)
                .and_then(|w| w.verify(&body, &headers))
                .is_ok()
        });
        let answer = g.plan.pop_front().unwrap_or(200);
        g.got.push(Got {
            id: text("webhook-id"),
            timestamp: text("webhook-timestamp"),
            signature: text("webhook-signature"),
            body: serde_json::from_slice(&body).unwrap_or_default(),
            verified,
            answered: answer,
        });
        answer
    };
    if answer == HANG {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    StatusCode::from_u16(answer).unwrap_or(StatusCode::OK)
}

impl Receiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/hook"),
            inner,
        }
    }

    pub fn set_secret(&self, secret: &str) {
        self.inner.lock().unwrap().secret = Some(secret.to_owned());
    }

    /// Answers the next requests with these statuses, in order.
    pub fn plan(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().plan = statuses.iter().copied().collect();
    }

    pub fn got(&self) -> Vec<Got> {
        self.inner.lock().unwrap().got.clone()
    }

    /// The event types received and answered 2xx, in arrival order.
    pub fn delivered_kinds(&self) -> Vec<String> {
        self.got()
            .into_iter()
            .filter(|g| (200..300).contains(&g.answered))
            .map(|g| g.kind().to_owned())
            .collect()
    }

    /// Waits (real time, for other processes) until `done` holds for what was received.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.got();
            if done(&got) || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
