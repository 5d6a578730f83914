//! The one piece of shared server state, handed to every route and server function.

use crate::db::Db;
use axum::extract::FromRef;
use governor::{clock::DefaultClock, state::keyed::DefaultKeyedStateStore, Quota, RateLimiter};
use latchkey_domain::keys::Pepper;
use leptos::prelude::LeptosOptions;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Settings the app needs at run time; the binary fills it from flags and `LATCHKEY_*` env.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether cookies may omit `Secure` (only when serving plain HTTP on loopback).
    pub insecure_cookies: bool,
    /// Session lifetime.
    pub session_ttl: Duration,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Sign-in attempts allowed per minute, per email and per client address.
    pub sign_in_per_email_per_minute: u32,
    pub sign_in_per_ip_per_minute: u32,
    /// The scope catalogue offered when creating keys.
    pub scope_catalogue: Vec<String>,
}

/// Throttles for the sign-in form, keyed by normalised email and by client address.
pub struct SignInLimiter {
    pub by_email: Keyed<String>,
    pub by_ip: Keyed<IpAddr>,
}

impl SignInLimiter {
    fn new(per_email: u32, per_ip: u32) -> Self {
        let q = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            by_email: RateLimiter::keyed(q(per_email)),
            by_ip: RateLimiter::keyed(q(per_ip)),
        }
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Arc<Settings>,
    pub pepper: Arc<Pepper>,
    pub sign_in_limiter: Arc<SignInLimiter>,
    /// Verified against when a sign-in names an unknown email, so both failures cost the same.
    pub dummy_password_hash: String,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, settings: Settings, pepper: Pepper) -> Self {
        let limiter = SignInLimiter::new(
            settings.sign_in_per_email_per_minute,
            settings.sign_in_per_ip_per_minute,
        );
        Self {
            leptos_options,
            db,
            settings: Arc::new(settings),
            pepper: Arc::new(pepper),
            sign_in_limiter: Arc::new(limiter),
            dummy_password_hash: crate::auth::server::dummy_password_hash(),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
