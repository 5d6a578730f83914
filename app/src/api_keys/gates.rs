//! What the operator's backend decides about a tenant's keys (issue 24), as the keys page needs
//! it: the minting gates (requirements) and the resources a new key may be limited to.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// One requirement of the tenant, as the checklist shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementView {
    pub id: String,
    pub label: String,
    pub met: bool,
}

/// One resource a key can be limited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChoice {
    pub id: String,
    pub name: String,
}

/// The tenant's resources of one declared type (`account` = "Bank account").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGroup {
    pub kind: String,
    pub label: String,
    pub resources: Vec<ResourceChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyGates {
    /// In the order the operator set them.
    pub requirements: Vec<RequirementView>,
    /// Declared types that have resources, in declaration order; empty for anyone who may not
    /// create keys (they would have nothing to pick them for).
    pub resource_groups: Vec<ResourceGroup>,
}

impl KeyGates {
    /// No key can be created or rolled while this is false (the server refuses it anyway).
    pub fn all_met(&self) -> bool {
        self.requirements.iter().all(|r| r.met)
    }
}

#[cfg(feature = "ssr")]
impl From<store::operator::requirements::Requirement> for RequirementView {
    fn from(r: store::operator::requirements::Requirement) -> Self {
        Self {
            id: r.id,
            label: r.label,
            met: r.met.0,
        }
    }
}

/// The tenant's requirements, and (for those who may create keys) its resources by type.
#[server(endpoint = "keys/gates", input = Json)]
pub async fn get_key_gates(tenant: i64) -> Result<KeyGates, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewKeys, tenant).await?;
    let state = state()?;
    let requirements = store::operator::requirements::list(&state.db.pool, session.tenant_id)
        .await?
        .into_iter()
        .map(RequirementView::from)
        .collect();
    let types = &state.settings.resource_types;
    let may_create = Action::ManageKeys.check(session.role, session.plan).is_ok();
    let resource_groups = if may_create && !types.is_empty() {
        let all =
            store::operator::resources::list((&state).into(), session.tenant_id, None).await?;
        types
            .iter()
            .map(|t| ResourceGroup {
                kind: t.name.clone(),
                label: t.label.clone(),
                resources: all
                    .iter()
                    .filter(|r| r.kind == t.name)
                    .map(|r| ResourceChoice {
                        id: r.id.clone(),
                        name: r.name.clone(),
                    })
                    .collect(),
            })
            .filter(|g| !g.resources.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    Ok(KeyGates {
        requirements,
        resource_groups,
    })
}
