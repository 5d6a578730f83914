//! A TCP proxy a test can partition: connections pass, go silent (bytes swallowed, the socket
//! left open: a black hole, not a close), are cut, or are refused at accept.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Default)]
struct State {
    /// Every connection, old and new, swallows what it gets.
    all_silent: AtomicBool,
    /// Connections numbered below this swallow what they get.
    silent_below: AtomicU64,
    next: AtomicU64,
    /// New connections are closed at once.
    refusing: AtomicBool,
}

pub struct Proxy {
    pub base: String,
    state: Arc<State>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    /// Listens on a loopback port in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let target = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State::default());
        let (cut, cuts) = watch::channel(0u64);
        let s = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if s.refusing.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let n = s.next.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(pipe(client, target.clone(), n, s.clone(), cuts.clone()));
            }
        });
        Proxy { base, state, cut }
    }

    /// Open connections go silent; new ones pass.
    pub fn silence_existing(&self) {
        let next = self.state.next.load(Ordering::SeqCst);
        self.state.silent_below.store(next, Ordering::SeqCst);
    }

    /// Every connection, open or new, goes silent: Latchkey is unreachable.
    pub fn silence_all(&self) {
        self.state.all_silent.store(true, Ordering::SeqCst);
    }

    /// New connections pass again (silenced ones stay dead, as after a real partition).
    pub fn heal(&self) {
        self.state.all_silent.store(false, Ordering::SeqCst);
        self.state.refusing.store(false, Ordering::SeqCst);
    }

    /// Closes every open connection and refuses new ones until [`Proxy::heal`].
    pub fn cut_and_refuse(&self) {
        self.state.refusing.store(true, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }
}

async fn pipe(
    mut client: TcpStream,
    target: String,
    n: u64,
    s: Arc<State>,
    mut cuts: watch::Receiver<u64>,
) {
    cuts.borrow_and_update();
    let silent = |s: &State| {
        s.all_silent.load(Ordering::SeqCst) || n < s.silent_below.load(Ordering::SeqCst)
    };
    let mut upstream = if silent(&s) {
        None
    } else {
        TcpStream::connect(&target).await.ok()
    };
    let (mut a, mut b) = ([0u8; 16384], [0u8; 16384]);
    loop {
        tokio::select! {
            got = client.read(&mut a) => {
                let Ok(len) = got else { return };
                if len == 0 { return; }
                if silent(&s) { continue; }
                let Some(up) = upstream.as_mut() else { continue };
                if up.write_all(&a[..len]).await.is_err() { return; }
            }
            got = async {
                match upstream.as_mut() {
                    Some(up) => up.read(&mut b).await,
                    None => std::future::pending().await,
                }
            } => {
                let Ok(len) = got else { return };
                if len == 0 { return; }
                if silent(&s) { continue; }
                if client.write_all(&b[..len]).await.is_err() { return; }
            }
            _ = cuts.changed() => return,
        }
    }
}
