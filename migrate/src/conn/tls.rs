//! TLS sessions the client opens itself (rustls), for what redis-rs cannot do: present a server
//! name other than the URL's host (`--sni`), and carry the replica link of `sync`. redis-rs
//! takes the name it sends and verifies from the URL host, with no override; connections with
//! `--sni` reach redis-rs through a local relay (`relay.rs`) over one of these sessions.
//!
//! The trust settings are redis-rs's, so that a connection verifies the same with or without
//! `--sni`: the `--cacert`/`--cacert-dir` certificates when given, else the system's trust
//! store; `--cert`/`--key` for mutual TLS; `--insecure` accepts any certificate (the name is
//! still sent: it is what `--sni` is for).
//!
//! A [`TlsStream`] is read by one thread while another writes (the relay's two directions, the
//! link's receiver and ACK writer): the rustls state sits under a mutex that is never held
//! across a blocking socket call, so a reader waiting for the server never holds up a writer.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redis::TlsCertificates;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore};

use crate::error::{usage, Result};

/// How one end's TLS connections are made: trust, client certificate, the name presented.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    /// The name sent (SNI) and verified; `None`: the host connected to.
    name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("name", &self.name)
            .finish()
    }
}

/// A server name as `--sni` takes it: a DNS name or an IP address.
pub fn server_name(name: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(name.to_string())
        .map_err(|_| usage(format!("--sni {name:?}: not a DNS name or an IP address")))
}

impl TlsClient {
    /// The TLS settings of an end (PEM files already read, as redis-rs takes them).
    pub fn new(
        certs: &TlsCertificates,
        insecure: bool,
        name: Option<ServerName<'static>>,
    ) -> Result<TlsClient> {
        // The process's provider (ring, installed in `main`); ring's own where none is (unit
        // tests), for the reason `main` gives.
        #[allow(deprecated)]
        let provider = CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| usage(format!("TLS: {e}")))?;
        let builder = if insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        } else {
            builder.with_root_certificates(roots(certs.root_cert.as_deref())?)
        };
        let config = match &certs.client_tls {
            Some(c) => {
                let chain = CertificateDer::pem_slice_iter(&c.client_cert)
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| usage(format!("--cert: {e}")))?;
                let key = PrivateKeyDer::from_pem_slice(&c.client_key)
                    .map_err(|e| usage(format!("--key: {e}")))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| usage(format!("--cert/--key: {e}")))?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(TlsClient {
            config: Arc::new(config),
            name,
        })
    }

    /// The name presented to `host`: `--sni`'s, else the host itself.
    fn name_for(&self, host: &str) -> io::Result<ServerName<'static>> {
        match &self.name {
            Some(n) => Ok(n.clone()),
            None => ServerName::try_from(host.to_string())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e)),
        }
    }

    /// Connects to `host:port` and completes the handshake, so that a certificate the name
    /// does not match is reported here, as a connection error. `timeout` bounds the connection,
    /// the handshake and every write; reads wait as long as the caller sets.
    pub fn connect(&self, host: &str, port: u16, timeout: Duration) -> io::Result<TlsStream> {
        let tcp = connect_tcp(host, port, timeout)?;
        let _ = tcp.set_nodelay(true);
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        let mut conn = ClientConnection::new(self.config.clone(), self.name_for(host)?)
            .map_err(io::Error::other)?;
        let mut sock = &tcp;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)?;
        }
        tcp.set_read_timeout(None)?;
        Ok(TlsStream {
            tcp,
            state: Mutex::new(State {
                conn,
                raw: Vec::new(),
            }),
        })
    }
}

/// The first address of `host:port` that accepts a connection within `timeout`.
pub fn connect_tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host}: no address to connect to"),
        )
    }))
}

/// The CA certificates given, else the system's (as redis-rs does).
fn roots(pem: Option<&[u8]>) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| usage(format!("--cacert: {e}")))?;
                store
                    .add(cert)
                    .map_err(|e| usage(format!("--cacert: {e}")))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            if let Some(e) = found.errors.first() {
                return Err(usage(format!("the system's trust store: {e}")));
            }
            let (_added, _unusable) = store.add_parsable_certificates(found.certs);
        }
    }
    Ok(store)
}

/// `--insecure`: any certificate for any name. The handshake's signatures are still checked
/// (they prove the peer holds the key of the certificate it sent, whatever that is).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What the mutex guards: the session, and received bytes not yet given to it.
struct State {
    conn: ClientConnection,
    /// Bytes read from the socket that rustls has not taken yet (it takes no more while
    /// decrypted bytes wait to be read).
    raw: Vec<u8>,
}

/// A TLS session over TCP, handshake done; `&TlsStream` reads and writes, from two threads if
/// need be (see the file's comment).
pub struct TlsStream {
    tcp: TcpStream,
    state: Mutex<State>,
}

impl TlsStream {
    fn lock(&self) -> io::Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| io::Error::other("TLS session poisoned by a panic"))
    }

    /// The socket under the session: for timeouts and shutdown. Reading or writing it
    /// directly would break the session.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Sends what the session has queued (records, alerts, key updates), under the lock.
    fn flush_tls(&self, state: &mut State) -> io::Result<()> {
        let mut sock = &self.tcp;
        while state.conn.wants_write() {
            state.conn.write_tls(&mut sock)?;
        }
        Ok(())
    }

    /// Says goodbye (`close_notify`) and closes the socket both ways, which also ends a
    /// read waiting in another thread.
    pub fn close(&self) {
        if let Ok(mut s) = self.lock() {
            s.conn.send_close_notify();
            let _ = self.flush_tls(&mut s);
        }
        let _ = self.tcp.shutdown(std::net::Shutdown::Both);
    }
}

impl Read for &TlsStream {
    /// Decrypted bytes; `Ok(0)` when the server closed the connection. A read timeout set on
    /// [`TlsStream::tcp`] comes back as `WouldBlock`/`TimedOut`, as for a plain socket.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut raw = [0u8; 16 * 1024];
        loop {
            {
                let mut s = self.lock()?;
                match s.conn.reader().read(buf) {
                    Ok(n) => return Ok(n), // n == 0: close_notify received
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if !s.raw.is_empty() {
                    let State { conn, raw: pending } = &mut *s;
                    let took = conn.read_tls(&mut pending.as_slice())?;
                    pending.drain(..took);
                    conn.process_new_packets()
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    // A record may call for an answer (a key update, an alert).
                    self.flush_tls(&mut s)?;
                    continue;
                }
            }
            // Nothing buffered: wait for the server without the lock, so writers go on.
            let n = (&self.tcp).read(&mut raw)?;
            if n == 0 {
                // The socket closed without close_notify: to a RESP reader, as to redis-rs,
                // a truncated stream is a closed connection either way.
                return Ok(0);
            }
            self.lock()?.raw.extend_from_slice(&raw[..n]);
        }
    }
}

impl Write for &TlsStream {
    /// Encrypts and sends all of `buf` before returning (whole writes under the lock keep
    /// two writers' messages apart).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        let mut s = self.lock()?;
        while !buf.is_empty() {
            let n = s.conn.writer().write(buf)?;
            buf = &buf[n..];
            if n == 0 && !s.conn.wants_write() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the TLS session takes no more bytes",
                ));
            }
            self.flush_tls(&mut s)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut s = self.lock()?;
        self.flush_tls(&mut s)
    }
}

/// An in-process TLS echo server with the certificate of `testdata/` (`redis.test` only).
#[cfg(test)]
pub mod testing {
    use super::*;
    use redis::TlsCertificates;
    use std::net::TcpListener;

    pub const CA: &[u8] = include_bytes!("testdata/ca.pem");

    /// Trust in the test CA, no client certificate.
    pub fn certs() -> TlsCertificates {
        TlsCertificates {
            client_tls: None,
            root_cert: Some(CA.to_vec()),
        }
    }

    /// A server on a loopback port that sends back what it receives, for one connection.
    pub fn echo_server() -> u16 {
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = CertificateDer::pem_slice_iter(include_bytes!("testdata/server.pem"))
            .collect::<std::result::Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(include_bytes!("testdata/server.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            let mut s = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 4096];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        port
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{certs, echo_server};
    use super::*;

    const T: Duration = Duration::from_secs(10);

    fn client(name: Option<&str>) -> TlsClient {
        TlsClient::new(&certs(), false, name.map(|n| server_name(n).unwrap())).unwrap()
    }

    #[test]
    fn the_name_verified_is_sni_s_not_the_host_s() {
        let e = client(None)
            .connect("127.0.0.1", echo_server(), T)
            .err()
            .expect("127.0.0.1 is not in the certificate");
        assert!(e.to_string().contains("not valid for name"), "{e}");
        let e = client(Some("wrong.test"))
            .connect("127.0.0.1", echo_server(), T)
            .err()
            .expect("wrong.test is not in the certificate");
        assert!(e.to_string().contains("not valid for name"), "{e}");
        assert!(client(Some("redis.test"))
            .connect("127.0.0.1", echo_server(), T)
            .is_ok());
    }

    /// The design this file rests on: a read waiting for the server must not hold up a write
    /// from another thread. Here the server answers only what is written, so a read holding
    /// the session's lock while it waits would never return.
    #[test]
    fn one_thread_writes_while_another_waits_to_read() {
        let tls = client(Some("redis.test"))
            .connect("127.0.0.1", echo_server(), T)
            .unwrap();
        tls.tcp().set_read_timeout(Some(T)).unwrap();
        let tls = Arc::new(tls);
        let message = |i: usize| format!("message {i:05} {}\n", "x".repeat(i % 3000));
        let expected: Vec<u8> = (0..2000).flat_map(|i| message(i).into_bytes()).collect();
        let writer = {
            let tls = tls.clone();
            std::thread::spawn(move || {
                for i in 0..2000 {
                    (&*tls).write_all(message(i).as_bytes()).unwrap();
                }
            })
        };
        let mut got = Vec::new();
        let mut buf = [0u8; 7000];
        while got.len() < expected.len() {
            let n = (&*tls).read(&mut buf).unwrap();
            assert!(n > 0, "the server closed early");
            got.extend_from_slice(&buf[..n]);
        }
        writer.join().unwrap();
        assert!(got == expected, "the echo differs from what was written");
        tls.close();
    }
}
