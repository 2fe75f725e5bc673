//! A private relay that lets redis-rs speak through a TLS session the client opened itself
//! (`--sni`): redis-rs connects only to addresses, so it is given a unix socket whose other end
//! pumps bytes to and from the session.
//!
//! ```text
//! redis-rs ──unix socket──> relay: [uplink thread]   socket -> session (encrypt, send)
//!                                  [downlink thread] session -> socket (receive, decrypt)
//! ```
//!
//! The socket lives in a directory only this user can enter (mode 0700), is accepted once and
//! removed at once, so nothing else can take the connection. Either side closing ends both
//! threads: redis-rs dropping its connection closes the session (`close_notify`), the server
//! closing its end closes the socket, which redis-rs reports as a connection error. The
//! session's own error (a TLS alert: a server refusing the client's certificate says so only
//! after the handshake, in TLS 1.3) is kept in [`Failure`] before the socket closes, for the
//! connection's first round trip to report, and printed on stderr with the endpoint's name.

use std::io::{self, Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::tls::TlsStream;

/// Why the session ended, when it failed: set before redis-rs sees its socket close.
pub type Failure = Arc<OnceLock<String>>;

/// A relay waiting for redis-rs to connect to `path`.
pub struct Relay {
    dir: PathBuf,
    pub path: PathBuf,
    pub failure: Failure,
}

impl Drop for Relay {
    /// The socket and its directory go once redis-rs has connected or given up.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A new directory of mode 0700 under the temporary directory (`create` fails on a name that
/// exists, so no one can slip one in first).
fn private_dir() -> io::Result<PathBuf> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    // A socket path has at most 107 bytes: a long TMPDIR gives way to /tmp.
    let base = Some(std::env::temp_dir())
        .filter(|d| d.as_os_str().len() <= 60)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let mut last = None;
    for _ in 0..16 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!(
            "restore-migrate-tls-{}-{}-{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no private directory")))
}

/// Starts a relay for `session`: the returned path takes one connection within `timeout`.
pub fn start(session: TlsStream, who: String, timeout: Duration) -> io::Result<Relay> {
    let dir = private_dir()?;
    let path = dir.join("s");
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            let _ = std::fs::remove_dir(&dir);
            return Err(e);
        }
    };
    let failure = Failure::default();
    let relay = Relay {
        dir,
        path: path.clone(),
        failure: failure.clone(),
    };
    std::thread::Builder::new()
        .name("tls-relay".into())
        .spawn(move || {
            let Some(sock) = accept_one(&listener, &path, timeout) else {
                session.close(); // redis-rs never came: the session is not left open
                return;
            };
            pump(sock, Arc::new(session), &who, &failure);
        })?;
    Ok(relay)
}

/// The one connection, or `None` after `timeout` (redis-rs failed before connecting). The
/// listener polls rather than blocks so that this thread always ends.
fn accept_one(listener: &UnixListener, path: &Path, timeout: Duration) -> Option<UnixStream> {
    listener.set_nonblocking(true).ok()?;
    let since = Instant::now();
    loop {
        match listener.accept() {
            Ok((sock, _)) => {
                let _ = std::fs::remove_file(path);
                sock.set_nonblocking(false).ok()?;
                return Some(sock);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && since.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(_) => return None,
        }
    }
}

/// Runs both directions until either side closes.
fn pump(sock: UnixStream, session: Arc<TlsStream>, who: &str, failure: &Failure) {
    let up = match sock.try_clone() {
        Ok(up) => up,
        Err(e) => {
            eprintln!("restore-migrate: {who}: TLS relay: {e}");
            session.close();
            return;
        }
    };
    let s = session.clone();
    let uplink = std::thread::Builder::new()
        .name("tls-relay-up".into())
        .spawn(move || {
            let r = copy(&mut &up, &mut &*s);
            // redis-rs closed its connection (or the session failed): end the session, which
            // also ends the downlink's read.
            s.close();
            let _ = up.shutdown(std::net::Shutdown::Both);
            r
        });
    let down = copy(&mut &*session, &mut &sock);
    if let Err(e) = &down {
        if !is_close(e) {
            let _ = failure.set(format!("TLS: {e}"));
        }
    }
    // The server closed (or the socket failed): redis-rs sees its connection closed.
    let _ = sock.shutdown(std::net::Shutdown::Both);
    session.close();
    let up = match uplink {
        Ok(h) => h.join().unwrap_or(Ok(())),
        Err(e) => Err(e),
    };
    // An error after the other side closed is that close, not news.
    if let Err(e) = down.and(up) {
        if !is_close(&e) {
            eprintln!("restore-migrate: {who}: TLS relay: {e}");
        }
    }
}

/// An error that only says the other side closed.
fn is_close(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof
    )
}

/// Copies until `from` ends; each read is written whole before the next.
fn copy(from: &mut impl Read, to: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tls::testing::{certs, echo_server};
    use super::super::tls::{server_name, TlsClient};
    use super::*;

    #[test]
    fn bytes_go_both_ways_and_nothing_is_left_behind() {
        let t = Duration::from_secs(10);
        let name = Some(server_name("redis.test").unwrap());
        let session = TlsClient::new(&certs(), false, name)
            .unwrap()
            .connect("127.0.0.1", echo_server(), t)
            .unwrap();
        let relay = start(session, "test".into(), t).unwrap();
        let mode = std::fs::metadata(&relay.dir).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o700
        );
        let mut sock = UnixStream::connect(&relay.path).unwrap();
        sock.set_read_timeout(Some(t)).unwrap();
        let dir = relay.dir.clone();
        drop(relay);
        assert!(
            !dir.exists(),
            "the relay's directory outlives the connection"
        );
        sock.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
        let mut got = vec![0u8; 14];
        sock.read_exact(&mut got).unwrap();
        assert_eq!(got, b"*1\r\n$4\r\nPING\r\n");
        // redis-rs dropping its connection ends the session: the server sees it close.
        sock.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(sock.read(&mut got).unwrap(), 0);
    }
}
