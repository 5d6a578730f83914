//! Plans, roles and the one table that says who may do what (SPEC §2).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A tenant's subscription plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Starter,
    Professional,
    Enterprise,
}

/// What a plan allows. Kept in one table so the UI, the guard and the docs agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLimits {
    /// Whether the tenant may use API keys at all.
    pub api_keys: bool,
    /// Most active keys at once.
    pub max_active_keys: u32,
    /// Requests per minute allowed per key.
    pub requests_per_minute: u32,
}

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Starter, Plan::Professional, Plan::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Starter => "starter",
            Plan::Professional => "professional",
            Plan::Enterprise => "enterprise",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Plan::Starter => "Starter",
            Plan::Professional => "Professional",
            Plan::Enterprise => "Enterprise",
        }
    }

    /// The plan table. Starter has no API keys; its remaining keys are suspended, not deleted.
    pub fn limits(self) -> PlanLimits {
        match self {
            Plan::Starter => PlanLimits {
                api_keys: false,
                max_active_keys: 0,
                requests_per_minute: 0,
            },
            Plan::Professional => PlanLimits {
                api_keys: true,
                max_active_keys: 25,
                requests_per_minute: 600,
            },
            Plan::Enterprise => PlanLimits {
                api_keys: true,
                max_active_keys: 500,
                requests_per_minute: 6_000,
            },
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind}: {value:?}")]
pub struct ParseEnumError {
    kind: &'static str,
    value: String,
}

impl FromStr for Plan {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                kind: "plan",
                value: s.to_owned(),
            })
    }
}

/// A member's role in one tenant. Ordered from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
            Role::Viewer => "Viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                kind: "role",
                value: s.to_owned(),
            })
    }
}

/// Everything a signed-in user can ask for. The guard checks one of these on every server call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// See the tenant's shell: name, plan, own role. Every member, any plan.
    ViewTenant,
    /// See the Billing page (plan and limits), read-only.
    ViewBilling,
    ChangePlan,
    ViewKeys,
    /// Create and edit keys.
    ManageKeys,
    /// Revoke a key: also on a suspended (Starter) tenant, so keys can be cleaned up there.
    RevokeKey,
    ViewRequestLog,
    ViewAudit,
    ViewMembers,
    ManageMembers,
    /// Add, change and remove webhook endpoints; choose what happens to leaked keys.
    ManageWebhooks,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Denial {
    /// The role may not do this.
    Role,
    /// The role may, but the tenant's plan does not include it.
    Plan,
}

impl Action {
    /// The SPEC §2 role matrix.
    pub fn allowed_for(self, role: Role) -> bool {
        use Role::*;
        match self {
            Action::ViewTenant | Action::ViewBilling => true,
            Action::ChangePlan => role == Owner,
            Action::ViewKeys | Action::ViewRequestLog => matches!(role, Owner | Admin | Member),
            Action::ManageKeys | Action::RevokeKey | Action::ViewAudit => {
                matches!(role, Owner | Admin)
            }
            Action::ViewMembers | Action::ManageMembers | Action::ManageWebhooks => {
                matches!(role, Owner | Admin)
            }
        }
    }

    /// Whether the action needs a plan that includes API keys.
    pub fn needs_api_keys(self) -> bool {
        matches!(
            self,
            Action::ViewKeys
                | Action::ManageKeys
                | Action::RevokeKey
                | Action::ViewRequestLog
                | Action::ManageWebhooks
        )
    }

    /// What a suspended (Starter) tenant's owners and admins may still do with the keys they
    /// kept: list them and revoke them, nothing else.
    fn allowed_while_suspended(self, role: Role) -> bool {
        matches!(self, Action::ViewKeys | Action::RevokeKey)
            && matches!(role, Role::Owner | Role::Admin)
    }

    /// Role first, then plan: a member of a Starter tenant is told about their role, not the plan.
    pub fn check(self, role: Role, plan: Plan) -> Result<(), Denial> {
        if !self.allowed_for(role) {
            return Err(Denial::Role);
        }
        if self.needs_api_keys() && !plan.limits().api_keys && !self.allowed_while_suspended(role) {
            return Err(Denial::Plan);
        }
        Ok(())
    }
}

/// Admins manage members but not owners: they may neither touch an owner nor make one.
pub fn may_assign_role(actor: Role, target_current: Option<Role>, target_new: Role) -> bool {
    match actor {
        Role::Owner => true,
        Role::Admin => target_current != Some(Role::Owner) && target_new != Role::Owner,
        Role::Member | Role::Viewer => false,
    }
}

/// What switching from `from` to `to` would take away, one sentence each, with the tenant's
/// `active` keys counted in; empty when nothing is lost (the switch needs no confirmation).
pub fn plan_change_consequences(from: PlanLimits, to: PlanLimits, active: i64) -> Vec<String> {
    let keys = |n: i64| {
        if n == 1 {
            "1 active key".to_owned()
        } else {
            format!("{n} active keys")
        }
    };
    let mut out = Vec::new();
    if from.api_keys && !to.api_keys {
        out.push(if active > 0 {
            format!(
                "{} will be suspended: every call with them is refused until you upgrade again. \
                 Nothing is deleted.",
                keys(active)
            )
        } else {
            "API keys will be unavailable until you upgrade again. Nothing is deleted.".to_owned()
        });
        return out;
    }
    if to.api_keys && to.max_active_keys < from.max_active_keys {
        let over = active - i64::from(to.max_active_keys);
        out.push(if over > 0 {
            format!(
                "You have {}, {over} more than the {} this plan allows: they keep working, \
                 but no new key can be created until fewer are active.",
                keys(active),
                to.max_active_keys
            )
        } else {
            format!(
                "At most {} active keys (now {}).",
                to.max_active_keys, from.max_active_keys
            )
        });
    }
    if to.api_keys && to.requests_per_minute < from.requests_per_minute {
        out.push(format!(
            "Each key may make {} requests a minute (now {}); calls beyond that are refused with 429.",
            to.requests_per_minute, from.requests_per_minute
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_matrix_matches_the_spec() {
        use Action::*;
        // (action, owner, admin, member, viewer)
        let table = [
            (ViewKeys, true, true, true, false),
            (ManageKeys, true, true, false, false),
            (RevokeKey, true, true, false, false),
            (ViewRequestLog, true, true, true, false),
            (ViewAudit, true, true, false, false),
            (ChangePlan, true, false, false, false),
            (ManageMembers, true, true, false, false),
            (ManageWebhooks, true, true, false, false),
            (ViewBilling, true, true, true, true),
        ];
        for (action, o, a, m, v) in table {
            assert_eq!(action.allowed_for(Role::Owner), o, "{action:?} owner");
            assert_eq!(action.allowed_for(Role::Admin), a, "{action:?} admin");
            assert_eq!(action.allowed_for(Role::Member), m, "{action:?} member");
            assert_eq!(action.allowed_for(Role::Viewer), v, "{action:?} viewer");
        }
    }

    #[test]
    fn starter_plan_gates_keys_but_not_billing() {
        // A suspended tenant's owners and admins may list and revoke what they kept; no more.
        let suspended = [
            (Action::ViewKeys, Role::Owner, Ok(())),
            (Action::ViewKeys, Role::Admin, Ok(())),
            (Action::RevokeKey, Role::Owner, Ok(())),
            (Action::RevokeKey, Role::Admin, Ok(())),
            (Action::ViewKeys, Role::Member, Err(Denial::Plan)),
            (Action::ManageKeys, Role::Owner, Err(Denial::Plan)),
            (Action::ViewRequestLog, Role::Owner, Err(Denial::Plan)),
        ];
        for (action, role, want) in suspended {
            assert_eq!(
                action.check(role, Plan::Starter),
                want,
                "{action:?} {role:?}"
            );
        }
        assert_eq!(
            Action::ManageKeys.check(Role::Owner, Plan::Professional),
            Ok(())
        );
        assert_eq!(Action::ChangePlan.check(Role::Owner, Plan::Starter), Ok(()));
        assert_eq!(
            Action::ManageKeys.check(Role::Member, Plan::Starter),
            Err(Denial::Role)
        );
    }

    #[test]
    fn plan_limits_grow_with_the_plan() {
        let p = Plan::Professional.limits();
        let e = Plan::Enterprise.limits();
        assert_eq!(p.max_active_keys, 25);
        assert!(e.max_active_keys > p.max_active_keys);
        assert!(e.requests_per_minute > p.requests_per_minute);
        assert!(!Plan::Starter.limits().api_keys);
    }

    #[test]
    fn names_round_trip() {
        for p in Plan::ALL {
            assert_eq!(p.as_str().parse::<Plan>(), Ok(p));
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("gold".parse::<Plan>().is_err());
        assert!("Owner".parse::<Role>().is_err());
    }

    #[test]
    fn admins_cannot_touch_owners() {
        assert!(may_assign_role(Role::Owner, Some(Role::Owner), Role::Admin));
        assert!(may_assign_role(
            Role::Admin,
            Some(Role::Member),
            Role::Admin
        ));
        assert!(!may_assign_role(
            Role::Admin,
            Some(Role::Owner),
            Role::Admin
        ));
        assert!(!may_assign_role(Role::Admin, None, Role::Owner));
        assert!(!may_assign_role(Role::Member, None, Role::Viewer));
    }

    #[test]
    fn a_downgrade_names_what_it_takes_away() {
        let pro = Plan::Professional.limits();
        let starter = Plan::Starter.limits();
        let ent = Plan::Enterprise.limits();
        let to_starter = plan_change_consequences(pro, starter, 3);
        assert_eq!(to_starter.len(), 1);
        assert!(to_starter[0].starts_with("3 active keys will be suspended"));
        assert!(to_starter[0].ends_with("Nothing is deleted."));
        assert!(plan_change_consequences(pro, starter, 1)[0].starts_with("1 active key will"));
        // An upgrade takes nothing away: no confirmation.
        assert!(plan_change_consequences(starter, pro, 0).is_empty());
        assert!(plan_change_consequences(pro, ent, 5).is_empty());
        // Enterprise to Professional: fewer keys and a lower rate.
        let down = plan_change_consequences(ent, pro, i64::from(pro.max_active_keys) + 2);
        assert_eq!(down.len(), 2);
        assert!(down[0].contains("2 more than"), "{down:?}");
        assert!(down[1].contains("requests a minute"), "{down:?}");
    }
}
