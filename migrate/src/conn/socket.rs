//! A socket of the client's own to a server, whatever the URL says it is: TCP, a unix socket
//! or TLS. The replica link reads it in one thread and writes ACKs to it from another, so
//! `&Socket` reads and writes: both directions of a TCP or unix socket are independent, and a
//! TLS session takes care of its own (`tls.rs`).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::tls::{connect_tcp, TlsStream};

pub enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
    // Boxed: a session is a kilobyte, a socket four bytes.
    Tls(Box<TlsStream>),
}

impl Socket {
    /// A TCP connection, `timeout` for the connection and for every write.
    pub fn tcp(host: &str, port: u16, timeout: Duration) -> io::Result<Socket> {
        let s = connect_tcp(host, port, timeout)?;
        let _ = s.set_nodelay(true);
        s.set_write_timeout(Some(timeout))?;
        Ok(Socket::Tcp(s))
    }

    /// A unix socket connection, `timeout` for every write.
    pub fn unix(path: &Path, timeout: Duration) -> io::Result<Socket> {
        let s = UnixStream::connect(path)?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Socket::Unix(s))
    }

    /// Reads wait at most `d` (then fail with `WouldBlock` or `TimedOut`).
    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_read_timeout(d),
            Socket::Unix(s) => s.set_read_timeout(d),
            Socket::Tls(s) => s.tcp().set_read_timeout(d),
        }
    }

    /// Our port, as a replica names its listening port (0 on a unix socket).
    pub fn local_port(&self) -> u16 {
        let tcp = match self {
            Socket::Tcp(s) => s,
            Socket::Tls(s) => s.tcp(),
            Socket::Unix(_) => return 0,
        };
        tcp.local_addr().map_or(0, |a| a.port())
    }
}

impl Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => (&*s).read(buf),
            Socket::Unix(s) => (&*s).read(buf),
            Socket::Tls(s) => (&**s).read(buf),
        }
    }
}

impl Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => (&*s).write(buf),
            Socket::Unix(s) => (&*s).write(buf),
            Socket::Tls(s) => (&**s).write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => (&*s).write_all(buf),
            Socket::Unix(s) => (&*s).write_all(buf),
            Socket::Tls(s) => (&**s).write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => (&*s).flush(),
            Socket::Unix(s) => (&*s).flush(),
            Socket::Tls(s) => (&**s).flush(),
        }
    }
}
