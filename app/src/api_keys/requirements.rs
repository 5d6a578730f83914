//! The operator's minting gates on the list page: "New key" only once every requirement is
//! met, and until then the checklist of what is still pending.

use crate::api_keys::api::ScopeInfo;
use crate::api_keys::create_dialog::NewKeyButton;
use crate::api_keys::gates::KeyGates;
use crate::components::{silent, Loaded, RequirementsChecklist};
use crate::error::AppError;
use leptos::prelude::*;

/// The page's gates, read beside the list.
pub type GatesResource = Resource<Result<KeyGates, AppError>>;

/// "New key", for people who may create keys, once nothing is pending. When the gates could
/// not be read there is no button (the checklist's place says why).
#[component]
pub fn NewKey(gates: GatesResource, tenant: i64, catalogue: Vec<ScopeInfo>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            <Loaded resource=gates on_error=silent let:g>
                {g
                    .all_met()
                    .then(|| {
                        view! {
                            <NewKeyButton
                                tenant=tenant
                                catalogue=catalogue.clone()
                                resource_groups=g.resource_groups
                            />
                        }
                    })}
            </Loaded>
        </Transition>
    }
}

/// The checklist in place of "New key" while a requirement is unmet.
#[component]
pub fn PendingRequirements(gates: GatesResource) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            <Loaded resource=gates let:g>
                {(!g.all_met())
                    .then(|| view! { <RequirementsChecklist requirements=g.requirements/> })}
            </Loaded>
        </Transition>
    }
}
