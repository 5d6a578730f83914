//! A real OpenID provider (end2end/oidc/provider.mjs: panva's `oidc-provider` under node) and a
//! browser-like walk through a sign-in: redirects followed by hand (the client follows none),
//! cookies kept per origin, the provider's login and consent forms posted.

use crate::common::replica::free_port;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "latchkey-test";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";

/// The provider process; killed when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts it for a relying party calling back at `redirect_uri`, ready once discovery answers.
    /// It conforms to OpenID Connect Core 5.4 (the email comes from UserInfo only) unless
    /// `claims_in_id_token`, which puts the scopes' claims in the ID token as well.
    pub async fn start(redirect_uri: &str, claims_in_id_token: bool) -> Self {
        let port = free_port();
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/oidc/provider.mjs");
        let child = Command::new("node")
            .arg(script)
            .args([&port.to_string(), CLIENT_ID, CLIENT_SECRET, redirect_uri])
            .env(
                "OIDC_CLAIMS_IN_ID_TOKEN",
                if claims_in_id_token { "1" } else { "0" },
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (make node-deps installs oidc-provider)");
        let provider = Self {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        };
        let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok(r) = reqwest::get(&discovery).await {
                if r.status().is_success() {
                    return provider;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the OpenID provider did not start (is end2end/node_modules installed?)");
    }

    /// How many times the discovery document has been fetched.
    pub async fn discoveries(&self) -> i64 {
        let url = format!("{}/test/discoveries", self.issuer);
        let body: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        body["discoveries"].as_i64().unwrap()
    }

    pub fn settings(&self, allow_private: bool) -> store::auth::oidc::OidcSettings {
        store::auth::oidc::OidcSettings {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            button_label: "Sign in with Acme ID".to_owned(),
            tenant_claim: None,
            role_claim: None,
            allow_private,
        }
    }
}

/// A browser: a cookie jar per origin (paths ignored), no automatic redirects.
pub struct Browser {
    client: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

/// One answer: status, where it points, its body.
#[derive(Debug)]
pub struct Hop {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

fn origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.jar.get(&origin(url))?.get(name).cloned()
    }

    pub fn set_cookie(&mut self, url: &str, name: &str, value: &str) {
        self.jar
            .entry(origin(url))
            .or_default()
            .insert(name.to_owned(), value.to_owned());
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, url: &str) -> Hop {
        let cookies = self
            .jar
            .get(&origin(url))
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let req = if cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, cookies)
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let location = res.headers().get(LOCATION).map(|l| {
            let base = reqwest::Url::parse(url).unwrap();
            base.join(l.to_str().unwrap()).unwrap().to_string()
        });
        let set_cookies: Vec<String> = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let jar = self.jar.entry(origin(url)).or_default();
            let cleared = value.is_empty()
                || c.contains("Max-Age=0")
                || c.to_ascii_lowercase().contains("expires=thu, 01 jan 1970");
            if cleared {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let body = res.text().await.unwrap_or_default();
        Hop {
            status,
            location,
            set_cookies,
            body,
        }
    }

    pub async fn get(&mut self, url: &str) -> Hop {
        let req = self.client.get(url);
        self.send(req, url).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Hop {
        let req = self.client.post(url).form(form);
        self.send(req, url).await
    }

    /// From `start` (a URL at the provider), through its login (as `login`) and consent, to
    /// the URL it sends the browser back to (not followed).
    pub async fn through_provider(&mut self, start: &str, login: &str) -> String {
        let mut url = start.to_owned();
        for _ in 0..20 {
            let hop = self.get(&url).await;
            if let Some(next) = hop.location {
                if !next.starts_with(&origin(start)) {
                    return next;
                }
                url = next;
                continue;
            }
            assert_eq!(hop.status, 200, "{url}: {}", hop.body);
            let action = form_action(&hop.body).unwrap_or_else(|| panic!("no form: {}", hop.body));
            let action = reqwest::Url::parse(&url).unwrap().join(&action).unwrap();
            let posted = if hop.body.contains(r#"name="prompt" value="login""#) {
                let form = [("prompt", "login"), ("login", login), ("password", "x")];
                self.post(action.as_str(), &form).await
            } else {
                self.post(action.as_str(), &[("prompt", "consent")]).await
            };
            url = posted
                .location
                .unwrap_or_else(|| panic!("the form answered {}", posted.body));
            if !url.starts_with(&origin(start)) {
                return url;
            }
        }
        panic!("the provider did not send the browser back");
    }
}

fn form_action(html: &str) -> Option<String> {
    let at = html.find("<form")?;
    let rest = &html[at..];
    let a = rest.find("action=\"")? + "action=\"".len();
    let end = rest[a..].find('"')?;
    Some(
        rest[a..a + end]
            .replace("&#x2F;", "/")
            .replace("&amp;", "&"),
    )
}
