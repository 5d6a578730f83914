//! The operator's minting gates on the list page: "New key" only once every requirement is
//! met, and until then the checklist of what is still pending.

use crate::api_keys::api::CreateKey;
use crate::api_keys::dialog::Dialog;
use crate::api_keys::gates::KeyGates;
use crate::components::{silent, Loaded, RequirementsChecklist};
use crate::error::AppError;
use leptos::prelude::*;

/// The page's gates: loaded beside the list, and again after each change the page makes.
pub type GatesResource = Resource<Result<KeyGates, AppError>>;

/// "New key", for people who may create keys, once nothing is pending. While the gates load
/// (or could not be read: the checklist's place says why) there is no button.
#[component]
pub fn NewKeyButton(
    gates: GatesResource,
    create: ServerAction<CreateKey>,
    dialog: RwSignal<Dialog>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            <Loaded resource=gates on_error=silent let:g>
                {g
                    .all_met()
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-primary"
                                data-testid="new-key"
                                on:click=move |_| {
                                    create.value().set(None);
                                    dialog.set(Dialog::Create);
                                }
                            >
                                "New key"
                            </button>
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
