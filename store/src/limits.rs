//! Every plan's limits, with the operator's overrides applied: the one place they are read
//! (Billing shows them, key creation and the verifier enforce them).

use latchkey_domain::{Plan, PlanLimits};

/// Per-key requests per minute on the paid plans; defaults come from the plan table, the
/// operator may override them (e.g. a benchmark that must never trip them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub professional_rpm: u32,
    pub enterprise_rpm: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            professional_rpm: Plan::Professional.limits().requests_per_minute,
            enterprise_rpm: Plan::Enterprise.limits().requests_per_minute,
        }
    }
}

impl Limits {
    /// The plan's limits as enforced here.
    pub fn of(&self, plan: Plan) -> PlanLimits {
        PlanLimits {
            requests_per_minute: self.per_minute(plan),
            ..plan.limits()
        }
    }

    /// Per-key requests per minute (0 on Starter, which has no keys).
    pub fn per_minute(&self, plan: Plan) -> u32 {
        match plan {
            Plan::Starter => 0,
            Plan::Professional => self.professional_rpm,
            Plan::Enterprise => self.enterprise_rpm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_only_to_the_rate() {
        let l = Limits {
            professional_rpm: 60,
            ..Limits::default()
        };
        assert_eq!(l.of(Plan::Professional).requests_per_minute, 60);
        assert_eq!(
            l.of(Plan::Professional).max_active_keys,
            Plan::Professional.limits().max_active_keys
        );
        assert_eq!(l.of(Plan::Enterprise), Plan::Enterprise.limits());
        assert_eq!(l.per_minute(Plan::Starter), 0);
    }
}
