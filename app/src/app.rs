//! The app shell: the HTML document, routing, and the header and navigation around every page.

use crate::account::{AcceptInvitePage, AccountPage, ResetPasswordPage};
use crate::api_keys::{KeyDetailPage, KeysPage};
use crate::audit::AuditPage;
use crate::auth::api::{
    current_session, SessionInfo, SignOut, SignOutEverywhere, SwitchTenant, TenantChoice,
};
use crate::auth::SignInPage;
use crate::components::{
    silent, Enhancer, FilterForm, Hydrated, Loaded, PostedNotice, SessionResource, SuspendedBanner,
};
use crate::error::AppError;
use crate::members::MembersPage;
use crate::portal::PortalPage;
use crate::tenants::BillingPage;
use crate::webhooks::WebhooksPage;
use latchkey_domain::operator::TenantStatus;
use latchkey_domain::Action;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                // The bundle's directory carries its build id: a new build is a new URL.
                <link rel="stylesheet" href=format!("/{}/latchkey.css", options.site_pkg_dir)/>
                <AutoReload options=options.clone()/>
                <IslandScripts options=options.clone()/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The browser bundle a page at `path` loads.
///
/// A stamped build (`scripts/site.sh`) has two: `latchkey` for every signed-in page (the page
/// script of server-drawn dialogs, the filters, relative times) and `latchkey-entry`, the page
/// script alone, for the entry pages (invite, reset, portal), which have no shell. An unstamped
/// build (`cargo leptos watch`) has the one bundle with every island.
pub fn bundle_for(path: &str) -> &'static str {
    if option_env!("LATCHKEY_BUILD_ID").is_none() {
        return "latchkey";
    }
    area_bundle(path)
}

fn area_bundle(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "invite" | "reset" | "portal" => "latchkey-entry",
        _ => "latchkey",
    }
}

/// Loads the page's bundle and brings its islands to life: Leptos's `HydrationScripts` for
/// islands, except that it starts at once rather than when the browser is next idle (which a
/// busy or framed page may not be for seconds, buttons doing nothing meanwhile).
#[component]
fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    // As `HydrationScripts` does in islands mode: the page itself is not hydrated, only islands.
    if let Some(sc) = Owner::current_shared_context() {
        sc.set_is_hydrating(false);
    }
    #[cfg(feature = "ssr")]
    let path = use_context::<http::request::Parts>()
        .map(|p| p.uri.path().to_owned())
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let path = String::new();
    let bundle = bundle_for(&path);
    let pkg = format!("/{}", options.site_pkg_dir);
    let nonce = leptos::nonce::use_nonce();
    let script = include_str!("island_script.js").trim_end();
    view! {
        <link rel="modulepreload" href=format!("{pkg}/{bundle}.js") crossorigin=nonce.clone()/>
        <link
            rel="preload"
            href=format!("{pkg}/{bundle}.wasm")
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=""
        />
        <script type="module" nonce=nonce>
            {format!("{script}(\"\", {:?}, {bundle:?}, {bundle:?});", options.site_pkg_dir)}
        </script>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Latchkey"/>
        // `Hydrated`, last in the page, sets `data-hydrated` once every island before it has
        // come to life: the moment the page answers clicks, which end-to-end tests wait for.
        <div data-testid="app" data-hydrated="false">
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/invite") view=AcceptInvitePage/>
                <Route path=path!("/reset") view=ResetPasswordPage/>
                <Route path=path!("/portal") view=PortalPage/>
                <ParentRoute path=path!("") view=Shell ssr=SsrMode::Async>
                    <Route path=path!("") view=Home/>
                    <Route path=path!("keys") view=KeysPage/>
                    <Route path=path!("keys/:id") view=KeyDetailPage/>
                    <Route path=path!("audit") view=AuditPage/>
                    <Route path=path!("members") view=MembersPage/>
                    <Route path=path!("webhooks") view=WebhooksPage/>
                    <Route path=path!("billing") view=BillingPage/>
                    <Route path=path!("account") view=AccountPage/>
                </ParentRoute>
            </Routes>
        </Router>
        <Enhancer/>
        <Hydrated/>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <main class="centered">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to Latchkey"</a></p>
        </main>
    }
}

/// `/` sends each role to the first page it may use.
#[component]
fn Home() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let target = match session.await {
                    Ok(Some(s)) if Action::ViewKeys.allowed_for(s.role) => "/keys",
                    Ok(Some(_)) => "/billing",
                    _ => "/signin",
                };
                view! { <Redirect path=target/> }
            })}
        </Suspense>
    }
}

/// Header, navigation and the page. Anyone without a session is sent to sign in.
///
/// The page (`Outlet`) sits outside the session's `Suspense` on purpose: components created
/// inside a suspended branch may be built more than once while rendering on the server, and
/// their resources would then be serialised out of step with the browser's.
#[component]
fn Shell() -> impl IntoView {
    let session: SessionResource = Resource::new(|| (), |_| current_session());
    provide_context(session);
    view! {
        <Suspense fallback=|| view! { <header class="topbar"><span class="brand">"Latchkey"</span></header> }>
            <Loaded resource=session on_error=sign_in_again let:signed_in>
                {match signed_in {
                    Some(s) => {
                        let suspended = s.tenant_status == TenantStatus::Suspended;
                        view! {
                            <Header session=s/>
                            {suspended.then(|| view! { <SuspendedBanner/> })}
                        }
                            .into_any()
                    }
                    None => view! { <Redirect path="/signin"/> }.into_any(),
                }}
            </Loaded>
        </Suspense>
        <div class="layout">
            <Suspense>
                // The header says what went wrong; the navigation just stays away.
                <Loaded resource=session on_error=silent let:signed_in>
                    {signed_in.map(|s| view! { <Nav role=s.role/> })}
                </Loaded>
            </Suspense>
            <main class="content" id="main">
                <PostedNotice/>
                <Outlet/>
            </main>
        </div>
    }
}

/// An expired or missing session means signing in again, not an error notice.
fn sign_in_again(error: AppError) -> Option<AnyView> {
    (error == AppError::Unauthorized).then(|| view! { <Redirect path="/signin"/> }.into_any())
}

#[component]
fn Header(session: SessionInfo) -> impl IntoView {
    view! {
        <header class="topbar">
            // Out of the frame too, when the SaaS embeds these pages.
            {session.return_url.clone().map(|url| view! {
                <a class="back-link" href=url target="_top" data-testid="back-to-product">
                    "← Back to " {session.product_name.clone()}
                </a>
            })}
            <a class="brand" href="/">"Latchkey"</a>
            <TenantSwitcher session=session.clone()/>
            <HeaderMenu>
                <span class="plan-pill" data-testid="header-plan">{session.plan.label()}</span>
                <UserMenu
                    name=session.user_name.clone()
                    email=session.email.clone()
                    role=session.role
                    pinned=session.pinned
                />
            </HeaderMenu>
        </header>
    }
}

/// The header's second half (plan, person, sign out): in line on wide screens, behind one
/// "Menu" button on a phone, so the header stays one row. The page script opens it
/// (`data-toggle`).
#[component]
fn HeaderMenu(children: Children) -> impl IntoView {
    view! {
        <button
            type="button"
            class="btn btn-small header-menu-toggle"
            aria-controls="header-more"
            aria-expanded="false"
            data-toggle
        >
            "Menu"
        </button>
        <div id="header-more" class="header-more">
            {children()}
        </div>
    }
}

#[component]
fn Nav(role: latchkey_domain::Role) -> impl IntoView {
    let nav = [
        ("API Keys", "/keys", "nav-keys", Action::ViewKeys),
        ("Audit log", "/audit", "nav-audit", Action::ViewAudit),
        ("Members", "/members", "nav-members", Action::ViewMembers),
        (
            "Webhooks",
            "/webhooks",
            "nav-webhooks",
            Action::ManageWebhooks,
        ),
        ("Billing", "/billing", "nav-billing", Action::ViewBilling),
    ];
    view! {
        <nav class="sidenav" aria-label="Settings">
            <ul>
                {nav
                    .into_iter()
                    .filter(|(_, _, _, action)| action.allowed_for(role))
                    .map(|(label, href, testid, _)| {
                        view! { <li><A href=href attr:data-testid=testid>{label}</A></li> }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// The organisation's name, or a switcher when the person belongs to several.
#[component]
fn TenantSwitcher(session: SessionInfo) -> impl IntoView {
    if session.tenants.len() < 2 {
        return view! {
            <span class="tenant-name" data-testid="tenant-name">{session.tenant_name}</span>
        }
        .into_any();
    }
    view! { <TenantSelect tenants=session.tenants current=session.tenant_id/> }.into_any()
}

/// Switching reloads the whole app in the chosen organisation: a plain form posting to
/// `switch_tenant`, sent as soon as an organisation is chosen (the shared `FilterForm` island).
#[component]
fn TenantSelect(tenants: Vec<TenantChoice>, current: i64) -> impl IntoView {
    view! {
        <FilterForm>
            <form method="post" action=SwitchTenant::PATH class="tenant-switcher">
                <label>
                    <span class="sr-only">"Organisation"</span>
                    <select
                        name="tenant_id"
                        data-testid="tenant-switcher"
                        data-apply="change"
                        aria-label="Organisation"
                    >
                        {tenants
                            .into_iter()
                            .map(|t| {
                                view! {
                                    <option value=t.id.to_string() selected=t.id == current>
                                        {t.name}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </form>
        </FilterForm>
    }
}

/// The person, and signing out: plain forms whose posts land on `/signin`.
#[component]
fn UserMenu(
    name: String,
    email: String,
    role: latchkey_domain::Role,
    /// A portal session: the account itself (password, other devices) is the SaaS's business.
    pinned: bool,
) -> impl IntoView {
    view! {
        <div class="user-menu">
            {if pinned {
                view! { <span class="user-name" data-testid="user-name" title=email>{name}</span> }
                    .into_any()
            } else {
                view! { <a class="user-name" href="/account" data-testid="user-name" title=email>{name}</a> }
                    .into_any()
            }}
            <span class="role-pill" data-testid="user-role">{role.label()}</span>
            <form method="post" action=SignOut::PATH class="inline-form">
                <button type="submit" class="btn btn-ghost" data-testid="sign-out">
                    "Sign out"
                </button>
            </form>
            {(!pinned).then(|| view! {
                <form method="post" action=SignOutEverywhere::PATH class="inline-form">
                    <button
                        type="submit"
                        class="btn btn-ghost"
                        data-testid="sign-out-everywhere"
                        title="End your sessions on every device and browser"
                    >
                        "Sign out everywhere"
                    </button>
                </form>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::area_bundle;

    #[test]
    fn each_page_loads_its_area_bundle() {
        for (path, bundle) in [
            ("/keys", "latchkey"),
            ("/keys/key_123", "latchkey"),
            ("/members", "latchkey"),
            ("/webhooks", "latchkey"),
            ("/invite", "latchkey-entry"),
            ("/reset", "latchkey-entry"),
            ("/portal", "latchkey-entry"),
            ("/audit", "latchkey"),
            ("/billing", "latchkey"),
            ("/account", "latchkey"),
            ("/signin", "latchkey"),
            ("/", "latchkey"),
            ("/keysmith", "latchkey"),
        ] {
            assert_eq!(area_bundle(path), bundle, "{path}");
        }
    }
}
