//! The mailer against a tiny SMTP sink that runs in the test itself on 127.0.0.1: what arrives
//! (envelope and data), header injection through the free text, bad addresses, a refusing relay.
#![allow(clippy::unwrap_used)]

use std::mem::take;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use latchkey_store::mail::Mailer;
use latchkey_store::AppError;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// One message as the sink took it: the envelope and the DATA, dot-stuffing undone.
#[derive(Debug)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

struct Sink {
    url: String,
    messages: mpsc::UnboundedReceiver<Received>,
    connections: Arc<AtomicUsize>,
}

/// Starts a sink on a free port. With `refuse_rcpt` it answers 550 to every RCPT TO.
async fn sink(refuse_rcpt: bool) -> Sink {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, messages) = mpsc::unbounded_channel();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(session(stream, refuse_rcpt, tx.clone()));
        }
    });
    Sink {
        url: format!("smtp://127.0.0.1:{port}"),
        messages,
        connections,
    }
}

/// Just enough SMTP for lettre: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT.
async fn session(stream: TcpStream, refuse_rcpt: bool, tx: mpsc::UnboundedSender<Received>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    reply(&mut write, "220 sink ESMTP ready\r\n").await;
    let (mut mail_from, mut rcpt_to) = (String::new(), Vec::new());
    let mut line = String::new();
    while next_line(&mut lines, &mut line).await {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            reply(&mut write, "250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await;
        } else if upper.starts_with("HELO") || upper.starts_with("RSET") {
            reply(&mut write, "250 ok\r\n").await;
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = line[10..].trim().to_owned();
            reply(&mut write, "250 ok\r\n").await;
        } else if upper.starts_with("RCPT TO:") && refuse_rcpt {
            reply(&mut write, "550 5.1.1 no such user here\r\n").await;
        } else if upper.starts_with("RCPT TO:") {
            rcpt_to.push(line[8..].trim().to_owned());
            reply(&mut write, "250 ok\r\n").await;
        } else if upper.starts_with("DATA") {
            reply(&mut write, "354 go ahead\r\n").await;
            let mut data = String::new();
            while next_line(&mut lines, &mut line).await && line != ".\r\n" {
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            reply(&mut write, "250 queued\r\n").await;
            let (mail_from, rcpt_to) = (take(&mut mail_from), take(&mut rcpt_to));
            let _ = tx.send(Received {
                mail_from,
                rcpt_to,
                data,
            });
        } else if upper.starts_with("QUIT") {
            reply(&mut write, "221 bye\r\n").await;
            return;
        } else {
            reply(&mut write, "502 not implemented\r\n").await;
        }
    }
}

/// Reads one line into `line`; false at the end of the stream.
async fn next_line(lines: &mut BufReader<OwnedReadHalf>, line: &mut String) -> bool {
    line.clear();
    lines.read_line(line).await.unwrap() > 0
}

async fn reply(write: &mut OwnedWriteHalf, text: &str) {
    write.write_all(text.as_bytes()).await.unwrap();
}

/// The unfolded header lines and the decoded body (7bit or quoted-printable) of one message.
fn parse(data: &str) -> (Vec<String>, String) {
    let (head, body) = data.split_once("\r\n\r\n").unwrap();
    let mut headers: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        match headers.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
            _ => headers.push(line.to_owned()),
        }
    }
    let encoding = header(&headers, "Content-Transfer-Encoding").unwrap_or_default();
    let body = match encoding.as_str() {
        "" | "7bit" => body.to_owned(),
        "quoted-printable" => unquote(body),
        other => panic!("unexpected body encoding {other}"),
    };
    (headers, body.replace("\r\n", "\n"))
}

fn header(headers: &[String], name: &str) -> Option<String> {
    headers.iter().find_map(|h| {
        let (n, v) = h.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

fn unquote(body: &str) -> String {
    let text = body.replace("=\r\n", "");
    let (bytes, mut out, mut i) = (text.as_bytes(), Vec::new(), 0);
    while i < bytes.len() {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => (out.push(b), i += 3),
            (b, _) => (out.push(b), i += 1),
        };
    }
    String::from_utf8(out).unwrap()
}

const LINK: &str = "https://latchkey.example.com/invitations/accept?token=k3Jx9_Qm2vB7wLp0cZr8sT4yN6uHdE1fA5gXoViWqM";

fn mailer(sink: &Sink) -> Mailer {
    Mailer::from_url(&sink.url, "Latchkey <noreply@latchkey.example.com>").unwrap()
}

/// Awaits a send (or anything) for at most ten seconds.
async fn within<T>(work: impl std::future::Future<Output = T>) -> T {
    timeout(Duration::from_secs(10), work).await.unwrap()
}

const BAD: &str = "Enter a valid email address.";

#[tokio::test]
async fn an_invitation_reaches_its_recipient_with_the_link() {
    let mut sink = sink(false).await;
    let m = mailer(&sink);
    within(m.send_invitation("bob@example.com", "Acme Ltd", "Alice", "admin", LINK))
        .await
        .unwrap();

    let message = within(sink.messages.recv()).await.unwrap();
    assert_eq!(message.mail_from, "<noreply@latchkey.example.com>");
    assert_eq!(message.rcpt_to, ["<bob@example.com>"]);
    let (headers, body) = parse(&message.data);
    let subject = header(&headers, "Subject").unwrap();
    assert_eq!(subject, "You're invited to an organisation on Latchkey");
    assert!(
        !subject.contains("Alice") && !subject.contains("Acme"),
        "{subject}"
    );
    assert_eq!(header(&headers, "To").unwrap(), "bob@example.com");
    assert!(header(&headers, "Message-ID").is_some(), "{headers:?}");
    let content_type = header(&headers, "Content-Type").unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(body.contains(LINK), "{body}");
    assert!(
        body.contains("Alice invited you to Acme Ltd as admin."),
        "{body}"
    );
    assert!(sink.messages.try_recv().is_err(), "exactly one message");
}

#[tokio::test]
async fn a_password_reset_carries_its_link() {
    let mut sink = sink(false).await;
    let m = mailer(&sink);
    within(m.send_password_reset(" carol@example.com ", LINK))
        .await
        .unwrap();
    let message = within(sink.messages.recv()).await.unwrap();
    assert_eq!(message.rcpt_to, ["<carol@example.com>"]);
    let (headers, body) = parse(&message.data);
    let subject = header(&headers, "Subject").unwrap();
    assert_eq!(subject, "Reset your Latchkey password");
    assert!(body.contains(LINK), "{body}");
}

#[tokio::test]
async fn line_breaks_in_the_free_text_inject_no_header_or_recipient() {
    let mut sink = sink(false).await;
    let (tenant, inviter) = (
        "Acme\r\nBcc: evil@x",
        "Mallory\nBcc: evil2@x\r\n\r\nfake body",
    );
    let m = mailer(&sink);
    within(m.send_invitation("bob@example.com", tenant, inviter, "member", LINK))
        .await
        .unwrap();

    let message = within(sink.messages.recv()).await.unwrap();
    assert_eq!(message.rcpt_to, ["<bob@example.com>"]);
    let (headers, body) = parse(&message.data);
    let lower: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    assert!(lower.iter().all(|h| !h.starts_with("bcc")), "{headers:?}");
    assert_eq!(
        lower.iter().filter(|h| h.starts_with("subject:")).count(),
        1
    );
    let raw = message.data.to_ascii_lowercase();
    assert!(!raw.contains("\nbcc:"), "{}", message.data);
    assert!(body.contains(LINK), "{body}");
}

#[tokio::test]
async fn a_bad_recipient_is_a_field_error_and_sends_nothing() {
    let mut sink = sink(false).await;
    let m = mailer(&sink);
    for to in [
        "not-an-address",
        "",
        "bob@example.com\r\nBcc: evil@x",
        "a@b, c@d",
    ] {
        let err = m.send_invitation(to, "Acme", "Alice", "admin", LINK).await;
        assert_eq!(err, Err(AppError::field("email", BAD)), "{to:?}");
        let err = m.send_password_reset(to, LINK).await.unwrap_err();
        assert_eq!(err.field_message("email").unwrap(), BAD, "{to:?}");
    }
    assert_eq!(sink.connections.load(Ordering::SeqCst), 0);
    assert!(sink.messages.try_recv().is_err());
}

#[tokio::test]
async fn a_refusing_relay_is_an_error_not_a_panic() {
    let mut sink = sink(true).await;
    let m = mailer(&sink);
    let sent = within(m.send_invitation("bob@example.com", "Acme", "Alice", "admin", LINK)).await;
    assert_eq!(sent, Err(AppError::Internal));
    assert_eq!(sink.connections.load(Ordering::SeqCst), 1);
    assert!(sink.messages.try_recv().is_err());
}

#[tokio::test]
async fn an_unreachable_relay_is_an_error() {
    // Bind then drop a listener, so the port is (almost certainly) closed.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    drop(listener);
    let m = Mailer::from_url(&url, "noreply@example.com").unwrap();
    let sent = within(m.send_password_reset("bob@example.com", LINK)).await;
    assert_eq!(sent, Err(AppError::Internal));
}

#[tokio::test]
async fn with_smtp_configured_an_invitation_goes_by_mail_with_the_public_link() {
    use latchkey_domain::Role;
    use latchkey_store::members::{deliver_invitation, invites, Manager};
    let dir = std::env::temp_dir().join(format!("latchkey-mail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join("m.db"));
    let db = latchkey_store::db::Db::connect(&format!("sqlite://{}/m.db", dir.display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    latchkey_store::audit::seal::install(&latchkey_domain::keys::Pepper::new(vec![7; 32]).unwrap());
    latchkey_store::demo::seed_demo(&db).await.unwrap();
    let (acme, _) = latchkey_store::tenants::by_slug(&db, "acme")
        .await
        .unwrap()
        .unwrap();
    let mut sink = sink(false).await;
    let settings = latchkey_store::Settings {
        mailer: Some(mailer(&sink)),
        public_url: Some("https://keys.example.com".into()),
        ..Default::default()
    };
    let pepper = latchkey_domain::keys::Pepper::new(vec![7; 32]).unwrap();
    let state = latchkey_store::AppState::new(db.clone(), settings, pepper);
    let owner = latchkey_store::audit::Actor::named("Olivia Owner");
    let (inv, token) = invites::invite(
        &db,
        acme,
        Manager::Role(Role::Owner),
        &owner,
        "nina@example.com",
        Role::Member,
    )
    .await
    .unwrap();
    let path = format!("/invite#{}", token.expose());
    assert!(
        within(deliver_invitation(&state, &inv, "Olivia Owner", &path))
            .await
            .unwrap(),
        "mailed"
    );
    let message = within(sink.messages.recv()).await.unwrap();
    assert_eq!(message.rcpt_to, ["<nina@example.com>"]);
    let (_, body) = parse(&message.data);
    assert!(
        body.contains(&format!("https://keys.example.com{path}")),
        "{body}"
    );
    assert!(body.contains("Acme Financial Group"), "{body}");
    // Without SMTP the link is not mailed (the inviter is shown it instead).
    let plain = latchkey_store::AppState::new(
        db.clone(),
        latchkey_store::Settings::default(),
        latchkey_domain::keys::Pepper::new(vec![7; 32]).unwrap(),
    );
    assert!(!deliver_invitation(&plain, &inv, "Olivia Owner", &path)
        .await
        .unwrap());
    db.pool.close().await;
}
