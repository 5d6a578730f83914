//! The SaaS backend's side of the integration: Latchkey's operator API, called with the operator
//! token, which never reaches a browser.

use serde::{Deserialize, Serialize};
use std::time::Duration;

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

#[derive(Serialize)]
struct Tenant<'a> {
    name: &'a str,
    plan: &'a str,
}

#[derive(Serialize)]
struct Member<'a> {
    email: &'a str,
    name: &'a str,
    role: &'a str,
}

#[derive(Serialize)]
struct LinkRequest<'a> {
    tenant: &'a str,
    user: &'a str,
    return_url: &'a str,
}

#[derive(Deserialize)]
pub struct PortalLink {
    /// `<latchkey>/portal#lkp_…`: sent to the browser once, as a redirect.
    pub url: String,
}

/// Why a call to Latchkey failed, shown on the example's error page.
#[derive(Debug)]
pub struct Failed(pub String);

impl Client {
    pub fn new(base: &str, token: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // The operator token goes to Latchkey only, never to wherever a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    /// Creates or updates the tenant and makes the user its owner. Both `PUT`s are idempotent,
    /// so this runs on every sign-in and keeps Latchkey in step with the SaaS.
    pub async fn provision(
        &self,
        tenant: &str,
        tenant_name: &str,
        user: &str,
        email: &str,
        name: &str,
    ) -> Result<(), Failed> {
        let body = Tenant {
            name: tenant_name,
            plan: "professional",
        };
        self.send(self.put(&format!("/v1/admin/tenants/{tenant}")).json(&body))
            .await?;
        let body = Member {
            email,
            name,
            role: "owner",
        };
        self.send(
            self.put(&format!("/v1/admin/tenants/{tenant}/members/{user}"))
                .json(&body),
        )
        .await?;
        Ok(())
    }

    /// A one-time link that signs `user` in to `tenant`'s Latchkey pages, with a way back.
    pub async fn portal_link(
        &self,
        tenant: &str,
        user: &str,
        return_url: &str,
    ) -> Result<PortalLink, Failed> {
        let body = LinkRequest {
            tenant,
            user,
            return_url,
        };
        let url = format!("{}/v1/admin/portal-links", self.base);
        let res = self
            .send(self.http.post(url).bearer_auth(&self.token).json(&body))
            .await?;
        res.json()
            .await
            .map_err(|e| Failed(format!("Latchkey's portal link was not readable: {e}")))
    }

    fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, Failed> {
        let res = req
            .send()
            .await
            .map_err(|e| Failed(format!("Latchkey did not answer: {e}")))?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let text: String = res
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(500)
            .collect();
        tracing::warn!(%status, body = %text, "Latchkey refused a call");
        Err(Failed(format!("Latchkey answered {status}: {text}")))
    }
}
