//! Calls to Latchkey: `POST /v1/verify` on a miss (a timeout, at most one retry) and
//! `POST /v1/usage` for the batches.

use crate::verdict::{Code, Refusal, Tenant, Verdict};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(crate) struct Remote {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub timeout: Duration,
}

/// What `/v1/verify` said.
pub(crate) enum Answer {
    Allow(Verdict),
    Deny(Refusal),
}

#[derive(Serialize)]
struct VerifyBody<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<ResourceBody<'a>>,
}

#[derive(Serialize)]
struct ResourceBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
}

#[derive(Deserialize)]
struct VerifyAnswer {
    valid: bool,
    code: Option<String>,
    message: Option<String>,
    required_scope: Option<String>,
    retry_after_secs: Option<u64>,
    key: Option<KeyAnswer>,
    tenant: Option<TenantAnswer>,
    rate_limit: Option<RateAnswer>,
}

#[derive(Deserialize)]
struct KeyAnswer {
    id: String,
    name: String,
    mode: String,
    scopes: Vec<String>,
}

#[derive(Deserialize)]
struct TenantAnswer {
    id: String,
    external_id: Option<String>,
    slug: String,
    name: String,
    plan: String,
    #[serde(default)]
    metadata: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct RateAnswer {
    limit: u32,
}

/// A usage event as `/v1/usage` takes it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UsageItem {
    pub key_id: String,
    pub status: u16,
    pub method: String,
    pub path: String,
    pub at_ms: i64,
}

impl Remote {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One verification; `Err` when no verdict could be had (after one retry).
    pub async fn verify(
        &self,
        key: &str,
        scope: Option<&str>,
        resource: Option<(&str, &str)>,
    ) -> Result<Answer, String> {
        let body = VerifyBody {
            key,
            scope,
            resource: resource.map(|(kind, id)| ResourceBody { kind, id }),
        };
        let mut last = String::new();
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            match self.verify_once(&body).await {
                Ok(answer) => return Ok(answer),
                Err((e, retry)) => {
                    last = e;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    async fn verify_once(&self, body: &VerifyBody<'_>) -> Result<Answer, (String, bool)> {
        let res = self
            .http
            .post(self.url("/v1/verify"))
            .bearer_auth(&self.token)
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .map_err(|e| (e.to_string(), true))?;
        let status = res.status();
        if !status.is_success() {
            // 5xx may pass; a wrong service token (401) or its throttle (429) will not.
            return Err((
                format!("/v1/verify answered {status}"),
                status.is_server_error(),
            ));
        }
        let a: VerifyAnswer = res.json().await.map_err(|e| (e.to_string(), true))?;
        Ok(read(a))
    }

    /// Posts one usage batch.
    pub async fn post_usage(&self, events: &[UsageItem]) -> Result<(), String> {
        let res = self
            .http
            .post(self.url("/v1/usage"))
            .bearer_auth(&self.token)
            .timeout(self.timeout)
            .json(&serde_json::json!({ "events": events }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("/v1/usage answered {}", res.status()))
        }
    }
}

fn read(a: VerifyAnswer) -> Answer {
    let tenant = a.tenant.map(|t| Tenant {
        id: t.id,
        external_id: t.external_id,
        slug: t.slug,
        name: t.name,
        plan: t.plan,
        metadata: t.metadata,
    });
    match (a.valid, a.key, tenant) {
        (true, Some(k), Some(tenant)) => Answer::Allow(Verdict {
            key_id: k.id,
            key_name: k.name,
            mode: k.mode,
            scopes: k.scopes,
            tenant,
            limit_per_minute: a.rate_limit.map_or(0, |r| r.limit),
        }),
        (_, key, tenant) => Answer::Deny(Refusal {
            code: Code::parse(a.code.as_deref().unwrap_or("invalid_api_key")),
            message: a.message.unwrap_or_default(),
            required_scope: a.required_scope,
            retry_after_secs: a.retry_after_secs,
            key_id: key.map(|k| k.id),
            tenant: tenant.map(|t| t.id),
        }),
    }
}
