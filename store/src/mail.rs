//! Optional outgoing mail: invitation links and password-reset links, sent through an SMTP relay
//! with lettre. Everything that reaches a header is parsed or encoded by lettre; the free text
//! (tenant names, inviter names) also loses its control characters before it goes anywhere. The
//! links are secrets: they go only into the message body, never into a log line or an error.

use std::fmt;
use std::time::Duration;

use anyhow::Context as _;
use latchkey_domain::error::{AppError, AppResult};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Every invitation's subject, whoever sends it and to whatever organisation.
pub const INVITATION_SUBJECT: &str = "You're invited to an organisation on Latchkey";

/// How long one SMTP command may take before the send gives up (lettre's default is 60 s).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// Where mail goes: an SMTP relay given as a URL, e.g. `smtp://user:pass@relay:25`,
/// `smtp://127.0.0.1:2525` (plain, for a local relay or tests), `smtps://relay` (TLS from the
/// first byte) or `smtp://relay?tls=required` (STARTTLS) — whatever lettre's
/// [`AsyncSmtpTransport::from_url`] accepts. Cheap to clone: the transport is shared.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The relay URL without its password, for `Debug`.
    relay: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the relay URL and the sender (`noreply@example.com` or
    /// `Latchkey <noreply@example.com>`). Connects to nothing: a wrong host shows at the first send.
    pub fn from_url(url: &str, from: &str) -> anyhow::Result<Self> {
        let relay = redact(url).context("the mail relay URL is not a valid URL")?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .with_context(|| format!("the mail relay URL {relay} is not one lettre accepts"))?
            .timeout(Some(COMMAND_TIMEOUT))
            .build();
        let from: Mailbox = from
            .trim()
            .parse()
            .with_context(|| format!("the sender address {from:?} is not a valid mailbox"))?;
        Ok(Mailer {
            transport,
            from,
            relay,
        })
    }

    /// An invitation: a fixed subject, and "<inviter> invited you to <tenant> as <role>" with
    /// the link in the plain-text body. The subject carries nothing an inviter or owner chose:
    /// it is what a mail client shows before anyone opens the message, so it must not be a
    /// place to write "Your account is locked, click here" under Latchkey's sender.
    pub async fn send_invitation(
        &self,
        to: &str,
        tenant_name: &str,
        inviter: &str,
        role: &str,
        link: &str,
    ) -> AppResult<()> {
        let to = recipient(to)?;
        let (tenant, inviter, role) = (one_line(tenant_name), one_line(inviter), one_line(role));
        let body = format!(
            "{inviter} invited you to {tenant} as {role}.\n\n\
             Accept the invitation here:\n\n{link}\n\n\
             If you weren't expecting this, you can ignore this message.\n",
            link = one_line(link),
        );
        self.send(to, INVITATION_SUBJECT, body, "invitation").await
    }

    /// A password-reset link.
    pub async fn send_password_reset(&self, to: &str, link: &str) -> AppResult<()> {
        let to = recipient(to)?;
        let body = format!(
            "Someone asked to reset the password of your Latchkey account.\n\n\
             Choose a new password here:\n\n{link}\n\n\
             If it wasn't you, ignore this message: your password stays as it is.\n",
            link = one_line(link),
        );
        self.send(to, "Reset your Latchkey password", body, "password reset")
            .await
    }

    /// Builds and sends one plain-text message. `kind` names it in logs; the body never is.
    async fn send(&self, to: Mailbox, subject: &str, body: String, kind: &str) -> AppResult<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| AppError::internal(format!("building the {kind} mail: {e}")))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| AppError::internal(format!("sending the {kind} mail: {e}")))?;
        tracing::info!(kind, relay = %self.relay, "mail sent");
        Ok(())
    }
}

/// The one recipient, as a bare address that lettre has parsed (so no display name, no second
/// address, no line break can ride along).
fn recipient(to: &str) -> AppResult<Mailbox> {
    to.trim()
        .parse::<Address>()
        .map(|address| Mailbox::new(None, address))
        .map_err(|_| AppError::field("email", "Enter a valid email address."))
}

/// Free text for a subject or a body line: control characters (CR and LF above all) become
/// spaces, so nothing can start a header or a line of its own.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The relay URL with any password replaced, fit for logs and `Debug`.
fn redact(url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url.split_once("://").context("no scheme")?;
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    Ok(format!("{scheme}://{authority}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let mailer = Mailer::from_url("smtp://alice:s3cret@relay:25", "noreply@example.com");
        let text = format!("{:?}", mailer.map_err(|e| e.to_string()));
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("alice:***@relay:25"), "{text}");
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Mailer::from_url("not a url", "noreply@example.com").is_err());
        assert!(Mailer::from_url("ftp://relay", "noreply@example.com").is_err());
        assert!(Mailer::from_url("smtp://relay", "no at sign").is_err());
        assert!(Mailer::from_url("smtp://relay", "a@b.c\r\nBcc: evil@x").is_err());
    }
}
