//! The audit log's vocabulary: every action name Latchkey records, in one table that the store
//! writes from, the page's action filter lists and the API documents; and the CSV cell rule
//! that keeps an exported log inert in a spreadsheet.

// The one list. Names never change once shipped (stored rows and saved filters use them).
#[rustfmt::skip]
named_enum! {
/// Everything the audit log records. The stored name is [`AuditAction::as_str`].
pub enum AuditAction {
    KeyCreated = "api_key.created": "An API key was created (its mode and scopes, never the secret).",
    KeyUpdated = "api_key.updated": "A key's name, description or allowlist changed (before → after).",
    KeyRevoked = "api_key.revoked": "A key was revoked, with the reason given.",
    KeyRolled = "api_key.rolled": "A key was replaced by a new secret, with the old one's overlap.",
    KeyDisabled = "api_key.disabled": "A key was switched off (it can be switched back on).",
    KeyEnabled = "api_key.enabled": "A disabled key was switched back on.",
    KeyLeaked = "api_key.leaked": "A key was reported exposed (with the report's address) and revoked or disabled by the organisation's policy.",
    WebhookCreated = "webhook.created": "A webhook endpoint was added (its address and events, never its signing secret).",
    WebhookUpdated = "webhook.updated": "A webhook endpoint's address, description or events changed.",
    WebhookSecretRolled = "webhook.secret_rolled": "A webhook endpoint's signing secret was replaced (the old one signs for 24 more hours).",
    WebhookRemoved = "webhook.removed": "A webhook endpoint was removed.",
    WebhookTestSent = "webhook.test_sent": "A test event was sent to a webhook endpoint (its address's scheme and host only).",
    KeySafetyChanged = "tenant.key_safety_changed": "What happens to a leaked key, or when an unused key is reported, changed.",
    SignedIn = "user.signed_in": "Someone signed in (`method`: `password`, `portal_link` or `oidc`).",
    SignInFailed = "user.sign_in_failed": "A sign-in failed (kept outside any organisation, with the email's SHA-256, never the password).",
    SignedOut = "user.signed_out": "Someone signed out.",
    SignedOutEverywhere = "user.signed_out_everywhere": "Someone ended all their sessions on every device.",
    TenantSwitched = "user.tenant_switched": "Someone switched to this organisation.",
    UserCreated = "user.created": "The operator created a user.",
    TenantCreated = "tenant.created": "The operator created an organisation.",
    PlanChanged = "tenant.plan_changed": "The organisation's plan changed.",
    TenantUpdated = "tenant.updated": "The operator changed the organisation's name, limits or metadata (before → after).",
    TenantSuspended = "tenant.suspended": "The operator suspended the organisation: every key is refused until it is active again.",
    TenantReactivated = "tenant.reactivated": "The operator made a suspended organisation active again.",
    TenantDeleted = "tenant.deleted": "The operator deleted the organisation: every key revoked, every session ended.",
    RequirementsSet = "tenant.requirements_set": "The operator set what must be done before keys can be created (each requirement and whether it is met).",
    ResourcePut = "resource.put": "The operator added or renamed a resource keys can be limited to.",
    OperatorTokenCreated = "operator_token.created": "The operator created a token for the operator API (its name and scopes, never the token; kept outside any organisation).",
    OperatorTokenRevoked = "operator_token.revoked": "The operator revoked a token of the operator API (kept outside any organisation).",
    ResourceRemoved = "resource.removed": "The operator removed a resource (and it from every key limited to it).",
    MemberAdded = "member.added": "A person joined the organisation, with a role.",
    MemberRoleChanged = "member.role_changed": "A member's role changed.",
    MemberRemoved = "member.removed": "A member was removed from the organisation.",
    MemberInvited = "member.invited": "Someone was invited to join with a role (the link itself is never kept).",
    MemberJoined = "member.joined": "An invited person accepted and joined.",
    InvitationRevoked = "invitation.revoked": "A pending invitation was withdrawn: by someone, or because its inviter was demoted below its role or removed (`reason`: `inviter_demoted` / `inviter_removed`, recorded with the demotion or removal).",
    PasswordChanged = "user.password_changed": "Someone changed their own password (their other sessions ended, their outstanding reset links were spent).",
    PasswordResetIssued = "user.password_reset_issued": "The operator issued a single-use password-reset link.",
    PasswordReset = "user.password_reset": "A password was set through a reset link (every session ended).",
    AuditExported = "audit.exported": "The audit log was exported as CSV (with the filter used).",
    PortalLinkCreated = "portal_link.created": "The operator minted a portal link for a member (the operator token's name, the user, read-only or not; never the link).",
    PortalLinkRefused = "portal_link.refused": "A portal link was refused (`reason`: `used`, `expired` or `unknown`; unknown ones are kept outside any organisation), with the address and user agent.",
    PortalSessionsExpired = "portal_sessions.expired": "The operator ended portal sessions at once (the whole organisation's, or one user's).",
    SsoLinked = "user.sso_linked": "A person's account was linked to their identity at the OpenID provider (issuer and subject) on their first single sign-on.",
    AuditPruned = "audit.pruned": "Events older than the retention period were removed (cut-off and last hash kept).",
}
}

impl AuditAction {
    /// Every action, in the table's order (the filter's options).
    pub fn all() -> impl Iterator<Item = AuditAction> {
        TABLE.iter().map(|(a, _, _)| *a)
    }

    /// Every name, comma-separated (the API's parameter description).
    pub fn names() -> String {
        TABLE
            .iter()
            .map(|(_, n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A CSV cell that a spreadsheet will not run: a cell starting with `=`, `+`, `-`, `@`, tab or
/// CR is a formula (or becomes one) in Excel, Sheets and LibreOffice, so it gets a leading `'`
/// (OWASP's advice). Quoting is the CSV writer's job, not this.
pub fn inert_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_one_row_and_a_unique_name() {
        let all: Vec<_> = AuditAction::all().collect();
        assert_eq!(all.len(), TABLE.len());
        for a in &all {
            assert_eq!(
                all.iter().filter(|b| *b == a).count(),
                1,
                "{a:?} listed twice"
            );
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
            assert_eq!(a.row().0, *a, "the table is in declaration order");
            assert!(a.describe().ends_with('.'));
        }
        assert_eq!(AuditAction::parse("api_key.deleted"), None);
    }

    #[test]
    fn the_docs_list_every_action_as_the_table_does() {
        let docs = include_str!("../../docs/audit-log.md");
        for (_, name, meaning) in TABLE {
            assert!(
                docs.contains(&format!("| `{name}` | {meaning} |")),
                "docs/audit-log.md lacks or differs on {name}"
            );
        }
        let listed = docs.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(
            listed,
            TABLE.len(),
            "docs/audit-log.md lists an action the code does not"
        );
    }

    #[test]
    fn formula_cells_are_neutralised_row_by_row() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(inert_cell(cell), want, "{cell:?}");
        }
    }
}
