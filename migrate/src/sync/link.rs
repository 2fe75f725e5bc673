//! The replica link: the handshake a replica makes (`syncWithMaster` in Redis's
//! replication.c), then two threads. The receiver copies the snapshot and the stream to the
//! spool as fast as the socket delivers; the ACK writer, on the same socket, sends
//! `REPLCONF ACK <applied offset>` every second (at once on `REPLCONF GETACK` or when a
//! diskless snapshot ends, which the master waits for before streaming). Neither waits on the
//! target, so back-pressure never reaches the source and the link never hits `repl-timeout`.
//! The socket is TCP, a unix socket or TLS (`--sni` included), through Sentinel to the master
//! where the URL names one (`Endpoint::open_socket`).
//!
//! ```text
//! -> AUTH [user] password                 (when the URL has one)
//! -> PING                                 <- +PONG
//! -> REPLCONF listening-port <our port>   <- +OK
//! -> REPLCONF capa eof capa psync2        <- +OK   (no rdb-channel, no dual-channel)
//! -> PSYNC <replid> <offset+1> | ? -1     <- +FULLRESYNC <replid> <offset> | +CONTINUE [<replid>]
//!    (or SYNC where PSYNC is refused)
//! <- "\n"*                                keepalives while the master prepares the snapshot
//! <- $<len>\r\n<len bytes>                | $EOF:<40-byte mark>\r\n <bytes> <mark>
//! <- the command stream (RESP arrays) ... -> REPLCONF ACK <offset> every second
//! ```

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::spool::{segment, spool_error, Shared, Spool, SEGMENT};
use crate::conn::{Endpoint, Socket};
use crate::error::{fatal, Fatal, Result};

/// The length of a diskless snapshot's end mark (`RDB_EOF_MARK_SIZE`).
const EOF_MARK: usize = 40;
const CHUNK: usize = 1 << 16;

/// How the source answered the sync request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A snapshot follows; the stream after it starts at `offset` + 1.
    Full { replid: String, offset: u64 },
    /// The stream continues at `offset` + 1 (the backlog held it); `replid` is the current one.
    Continue { replid: String, offset: u64 },
    /// An old-style `SYNC`: a snapshot, no replication id or offset.
    Sync,
}

/// A socket with its own read buffer: what the handshake read past a reply stays there.
struct Wire {
    /// Shared with the ACK writer: `&Socket` reads in one thread while another writes, which
    /// for TLS means one session written from two threads. `TlsStream` makes that sound by
    /// holding its session under a mutex never held across a blocking socket read (so ACKs
    /// go out while the receiver waits for the master), and by writing each message whole
    /// under it (an ACK never lands inside another write; only the handshake writes before).
    sock: Arc<Socket>,
    buf: Vec<u8>,
    who: String,
    /// The handshake waits in short reads, so that a signal stops it (a master may take
    /// seconds to answer PSYNC: `repl-diskless-sync-delay`, a BGSAVE in progress).
    stop: Arc<AtomicBool>,
    timeout: Duration,
}

impl Wire {
    fn send(&mut self, args: &[&[u8]]) -> Result<()> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        (&*self.sock)
            .write_all(&out)
            .map_err(|e| fatal(format!("{}: {e}", self.who)))
    }

    fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 4096];
        let since = Instant::now();
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Err(fatal(format!("{}: stopped by a signal", self.who)));
            }
            match (&*self.sock).read(&mut chunk) {
                Ok(0) => {
                    return Err(fatal(format!(
                        "{}: the source closed the connection",
                        self.who
                    )))
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) && since.elapsed() < self.timeout => {}
                Err(e) => return Err(fatal(format!("{}: {e}", self.who))),
            }
        }
    }

    /// One reply line without its line end (a master's keepalive "\n" is an empty line).
    fn line(&mut self) -> Result<String> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=nl).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buf.len() > 64 << 10 {
                return Err(fatal(format!("{}: a reply line over 64 KiB", self.who)));
            }
            self.fill()?;
        }
    }

    /// The next reply line that is not a keepalive.
    fn reply(&mut self) -> Result<String> {
        for _ in 0..100_000 {
            let l = self.line()?;
            if !l.is_empty() {
                return Ok(l);
            }
        }
        Err(fatal(format!("{}: only keepalives", self.who)))
    }
}

/// A handshake done: the socket, with what was read past the sync reply.
pub struct Link {
    wire: Wire,
    pub start: Start,
}

fn is_refusal(reply: &str) -> bool {
    reply.starts_with("-ERR unknown command") || reply.starts_with("-NOPERM")
}

/// Connects to the source and asks it to sync: continuing `from` (replid, last applied
/// offset) when given, else from scratch.
pub fn handshake(
    ep: &Endpoint,
    timeout: Duration,
    from: Option<(&str, u64)>,
    stop: Arc<AtomicBool>,
) -> Result<Link> {
    let who = format!("source {}", ep.display);
    let sock = ep.open_socket(timeout)?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| fatal(format!("{who}: {e}")))?;
    let local_port = sock.local_port();
    let mut w = Wire {
        sock: Arc::new(sock),
        buf: Vec::new(),
        who: who.clone(),
        stop,
        timeout,
    };
    let (user, password) = ep.credentials();
    if let Some(pass) = password {
        match user {
            Some(user) => w.send(&[b"AUTH", user.as_bytes(), pass.as_bytes()])?,
            None => w.send(&[b"AUTH", pass.as_bytes()])?,
        }
        let r = w.reply()?;
        if !r.starts_with("+OK") {
            return Err(fatal(format!(
                "{who}: authentication failed (wrong user or password): {}",
                &r[1..]
            )));
        }
    }
    w.send(&[b"PING"])?;
    let r = w.reply()?;
    if r.starts_with("-NOAUTH") {
        return Err(fatal(format!(
            "{who}: the server requires a password (redis://user:password@host:port)"
        )));
    }
    if !r.starts_with('+') {
        return Err(fatal(format!("{who}: PING: {}", &r[1..])));
    }
    // Errors here are an old master's: a real replica goes on too.
    w.send(&[
        b"REPLCONF",
        b"listening-port",
        local_port.to_string().as_bytes(),
    ])?;
    w.reply()?;
    w.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])?;
    w.reply()?;
    let (replid, next) = match from {
        Some((id, off)) => (id.to_string(), (off + 1).to_string()),
        None => ("?".to_string(), "-1".to_string()),
    };
    w.send(&[b"PSYNC", replid.as_bytes(), next.as_bytes()])?;
    let r = w.reply()?;
    let start = if let Some(rest) = r.strip_prefix("+FULLRESYNC ") {
        let mut it = rest.split(' ');
        match (it.next(), it.next().and_then(|o| o.parse().ok())) {
            (Some(id), Some(offset)) => Start::Full {
                replid: id.to_string(),
                offset,
            },
            _ => return Err(fatal(format!("{who}: PSYNC: {r}"))),
        }
    } else if let Some(rest) = r.strip_prefix("+CONTINUE") {
        // Only a PSYNC that named a replid may be continued; a source saying so to `PSYNC ? -1`
        // is answered with an error, not a panic.
        let Some((id, off)) = from else {
            return Err(fatal(format!(
                "{who}: PSYNC: +CONTINUE to a request for a full resync"
            )));
        };
        let rest = rest.trim();
        Start::Continue {
            replid: if rest.is_empty() { id } else { rest }.to_string(),
            offset: off,
        }
    } else if is_refusal(&r) {
        w.send(&[b"SYNC"])?;
        // SYNC answers with the snapshot itself: peek at its first line, then put it back.
        let s = w.reply()?;
        if let Some(e) = s.strip_prefix('-') {
            return Err(refused(&who, &r[1..], e));
        }
        let mut back = s.into_bytes();
        back.extend_from_slice(b"\r\n");
        back.extend_from_slice(&w.buf);
        w.buf = back;
        Start::Sync
    } else if r.starts_with("-NOMASTERLINK") || r.starts_with("-LOADING") {
        return Err(fatal(format!(
            "{who}: PSYNC: {}: the source cannot serve a replica right now; run again in a moment",
            &r[1..]
        )));
    } else {
        return Err(fatal(format!("{who}: PSYNC: {r}")));
    };
    Ok(Link { wire: w, start })
}

fn refused(who: &str, psync: &str, sync: &str) -> Fatal {
    Fatal::Usage(format!(
        "{who} refuses replication: PSYNC ({psync}) and SYNC ({sync}) are renamed or blocked, as managed services do; copy it once with `restore-migrate migrate` instead"
    ))
}

/// The running link: the receiver and ACK threads (stopped through `shared.stop`).
pub struct Running {
    receiver: Option<JoinHandle<()>>,
    acker: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for h in [self.receiver.take(), self.acker.take()]
            .into_iter()
            .flatten()
        {
            let _ = h.join();
        }
    }
}

impl Link {
    /// Starts the receiver (snapshot first unless the sync continues) and the ACK writer.
    pub fn run(self, spool: &Spool, shared: Arc<Shared>, silence: Duration) -> Result<Running> {
        let snapshot = !matches!(self.start, Start::Continue { .. });
        let open =
            |p: std::path::PathBuf| std::fs::File::create(&p).map_err(|e| spool_error(&p, &e));
        let snap_file = open(spool.snapshot())?;
        let stream_file = open(spool.segment(0))?;
        let ack_sock = self.wire.sock.clone();
        // Short reads let the receiver see `stop`; silence is counted separately.
        let _ = self
            .wire
            .sock
            .set_read_timeout(Some(Duration::from_millis(200)));
        if !snapshot {
            shared.snap_done.store(true, Ordering::SeqCst);
            shared.streaming.store(true, Ordering::SeqCst);
        }
        let paths = (spool.snapshot(), spool.dir.clone());
        let sh = shared.clone();
        let mut wire = self.wire;
        let receiver = std::thread::Builder::new()
            .name("sync-receiver".into())
            .spawn(move || {
                let mut rx = Receiver {
                    shared: sh.clone(),
                    silence,
                    last_data: Instant::now(),
                };
                let r = (|| {
                    if snapshot {
                        rx.snapshot(&mut wire, snap_file, &paths.0)?;
                    }
                    rx.stream(&mut wire, stream_file, &paths.1)
                })();
                if let Err(e) = r {
                    sh.fail(e.to_string());
                }
            })
            .map_err(|e| fatal(format!("cannot start a thread: {e}")))?;
        let sh = shared.clone();
        let acker = std::thread::Builder::new()
            .name("sync-acker".into())
            .spawn(move || ack_loop(ack_sock, &sh))
            .map_err(|e| fatal(format!("cannot start a thread: {e}")))?;
        Ok(Running {
            receiver: Some(receiver),
            acker: Some(acker),
            shared,
        })
    }
}

struct Receiver {
    shared: Arc<Shared>,
    silence: Duration,
    last_data: Instant,
}

enum Got {
    Bytes(usize),
    Stopped,
}

impl Receiver {
    /// Reads the next bytes into `chunk`, waiting out short timeouts until `silence`.
    fn read(&mut self, wire: &mut Wire, chunk: &mut [u8]) -> Result<Got> {
        if self.shared.stop.load(Ordering::SeqCst) {
            return Ok(Got::Stopped);
        }
        if !wire.buf.is_empty() {
            let n = wire.buf.len().min(chunk.len());
            chunk[..n].copy_from_slice(&wire.buf[..n]);
            wire.buf.drain(..n);
            return Ok(Got::Bytes(n));
        }
        self.read_sock(wire, chunk)
    }

    /// Reads from the socket itself (past `wire.buf`).
    fn read_sock(&mut self, wire: &mut Wire, chunk: &mut [u8]) -> Result<Got> {
        loop {
            if self.shared.stop.load(Ordering::SeqCst) {
                return Ok(Got::Stopped);
            }
            match (&*wire.sock).read(chunk) {
                Ok(0) => {
                    return Err(fatal(format!(
                        "{}: the source closed the replication link",
                        wire.who
                    )))
                }
                Ok(n) => {
                    self.last_data = Instant::now();
                    return Ok(Got::Bytes(n));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.last_data.elapsed() > self.silence {
                        return Err(fatal(format!(
                            "{}: nothing from the source for {} s (the master pings its replicas every 10 s by default): the link is lost; run again with the same --resume",
                            wire.who,
                            self.silence.as_secs()
                        )));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(fatal(format!("{}: {e}", wire.who))),
            }
        }
    }

    /// Reads the snapshot's framing and copies its bytes to the spool.
    fn snapshot(
        &mut self,
        wire: &mut Wire,
        mut file: std::fs::File,
        path: &std::path::Path,
    ) -> Result<()> {
        // Keepalives ("\n") until the master has its snapshot ready; one line, bounded.
        let mut chunk = vec![0u8; CHUNK];
        let header = loop {
            if let Some(nl) = wire.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = wire.buf.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line).trim_end().to_string();
                if line.is_empty() {
                    continue;
                }
                break line;
            }
            if wire.buf.len() > 1024 {
                return Err(fatal(format!("{}: no snapshot header", wire.who)));
            }
            let n = match self.read_sock(wire, &mut chunk[..1024])? {
                Got::Bytes(n) => n,
                Got::Stopped => return Ok(()),
            };
            wire.buf.extend_from_slice(&chunk[..n]);
        };
        self.last_data = Instant::now();
        let who = wire.who.clone();
        let bad = || fatal(format!("{who}: the snapshot begins with {header:?}"));
        if let Some(e) = header.strip_prefix('-') {
            return Err(fatal(format!(
                "{who}: the source could not send its snapshot: {e}"
            )));
        }
        let rest = header.strip_prefix('$').ok_or_else(bad)?;
        let mut write = |bytes: &[u8], shared: &Shared| -> Result<()> {
            file.write_all(bytes).map_err(|e| spool_error(path, &e))?;
            shared
                .snap_bytes
                .fetch_add(bytes.len() as u64, Ordering::SeqCst);
            Ok(())
        };
        if let Some(mark) = rest.strip_prefix("EOF:") {
            let mark = mark.as_bytes().to_vec();
            if mark.len() != EOF_MARK {
                return Err(bad());
            }
            // The last EOF_MARK bytes seen are held back: they may be the mark, which may
            // also arrive split across reads. A master sends nothing after the mark until our
            // first ACK, but should bytes follow it in the same read, they are the stream's.
            let mut held: Vec<u8> = Vec::with_capacity(CHUNK + EOF_MARK);
            // A substring search, not a comparison per window: comparing every 40-byte window
            // took a third of the client's CPU on a 143 MB snapshot (perf: memcmp).
            let finder = memchr::memmem::Finder::new(&mark);
            loop {
                let n = match self.read(wire, &mut chunk)? {
                    Got::Bytes(n) => n,
                    Got::Stopped => return Ok(()),
                };
                let from = held.len().saturating_sub(EOF_MARK - 1);
                held.extend_from_slice(&chunk[..n]);
                if let Some(at) = finder.find(&held[from..]) {
                    let at = from + at;
                    write(&held[..at], &self.shared)?;
                    let after = held[at + EOF_MARK..].to_vec();
                    wire.buf.splice(0..0, after);
                    break;
                }
                if held.len() > EOF_MARK {
                    let cut = held.len() - EOF_MARK;
                    write(&held[..cut], &self.shared)?;
                    held.drain(..cut);
                }
            }
        } else {
            let total: u64 = rest.parse().map_err(|_| bad())?;
            self.shared.snap_total.store(total, Ordering::SeqCst);
            let mut left = total;
            while left > 0 {
                let want = (left as usize).min(CHUNK);
                let n = match self.read(wire, &mut chunk[..want])? {
                    Got::Bytes(n) => n,
                    Got::Stopped => return Ok(()),
                };
                write(&chunk[..n], &self.shared)?;
                left -= n as u64;
            }
        }
        self.shared.snap_done.store(true, Ordering::SeqCst);
        self.shared.streaming.store(true, Ordering::SeqCst);
        self.shared.ack_now.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Copies the command stream to the spool, segment after segment, until stopped. The
    /// next segment is created before any byte of it is counted, so the reader finds it.
    fn stream(
        &mut self,
        wire: &mut Wire,
        mut file: std::fs::File,
        dir: &std::path::Path,
    ) -> Result<()> {
        let mut chunk = vec![0u8; CHUNK];
        let mut written = 0u64;
        loop {
            let n = match self.read(wire, &mut chunk)? {
                Got::Bytes(n) => n,
                Got::Stopped => return Ok(()),
            };
            let mut at = 0;
            while at < n {
                let room = (SEGMENT - written % SEGMENT) as usize;
                let part = (n - at).min(room);
                let path = segment(dir, written / SEGMENT);
                file.write_all(&chunk[at..at + part])
                    .map_err(|e| spool_error(&path, &e))?;
                written += part as u64;
                at += part;
                if written.is_multiple_of(SEGMENT) {
                    let next = segment(dir, written / SEGMENT);
                    file = std::fs::File::create(&next).map_err(|e| spool_error(&next, &e))?;
                }
                self.shared
                    .stream_bytes
                    .fetch_add(part as u64, Ordering::SeqCst);
            }
        }
    }
}

/// `REPLCONF ACK <applied offset>` every second once the stream has begun, and at once when
/// asked; on the socket directly (no lock but TLS's own, see `Wire::sock`), so nothing the
/// applier does can hold it up.
fn ack_loop(sock: Arc<Socket>, shared: &Shared) {
    let mut last = Instant::now() - Duration::from_secs(2);
    while !shared.stop.load(Ordering::SeqCst) {
        let now_asked = shared.ack_now.swap(false, Ordering::SeqCst);
        if shared.streaming.load(Ordering::SeqCst)
            && (now_asked || last.elapsed() >= Duration::from_secs(1))
        {
            let off = shared.applied.load(Ordering::SeqCst).to_string();
            let msg = format!(
                "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n${}\r\n{off}\r\n",
                off.len()
            );
            if let Err(e) = (&*sock).write_all(msg.as_bytes()) {
                shared.fail(format!(
                    "the replication link is lost (sending an ACK: {e})"
                ));
                return;
            }
            last = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::super::stream;
    use super::*;

    /// A master on a loopback port: answers the handshake, then `reply` to PSYNC (or, where
    /// that is an error, `sync_reply` to SYNC), then sends `chunks` one write at a time, with
    /// a pause between them so that the client reads them apart.
    fn fake_master(reply: &'static str, sync_reply: &'static str, chunks: Vec<Vec<u8>>) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let mut chunks = Some(chunks);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                while let Ok(Some(f)) = stream::parse(&buf) {
                    buf.drain(..f.len);
                    let out: &str = match f.argv[0].as_slice() {
                        b"PING" => "+PONG\r\n",
                        b"REPLCONF" if f.argv[1] == b"ACK" => continue,
                        b"REPLCONF" => "+OK\r\n",
                        b"PSYNC" => reply,
                        b"SYNC" => sync_reply,
                        _ => "-ERR what\r\n",
                    };
                    s.write_all(out.as_bytes()).unwrap();
                    let snapshot_next = (f.argv[0] == b"PSYNC" && !reply.starts_with('-'))
                        || (f.argv[0] == b"SYNC" && !sync_reply.starts_with('-'));
                    if snapshot_next {
                        for c in chunks.take().unwrap_or_default() {
                            s.write_all(&c).unwrap();
                            std::thread::sleep(Duration::from_millis(3));
                        }
                    }
                }
            }
        });
        port
    }

    fn run(port: u16) -> Result<(Start, Arc<Shared>, Spool, Running)> {
        let ep = Endpoint::parse(&format!("redis://127.0.0.1:{port}"), &Default::default())?;
        let stop = Arc::new(AtomicBool::new(false));
        let link = handshake(&ep, Duration::from_secs(5), None, stop)?;
        let spool = Spool::open(None)?;
        let shared = Arc::new(Shared::default());
        let start = link.start.clone();
        let running = link.run(&spool, shared.clone(), Duration::from_secs(5))?;
        Ok((start, shared, spool, running))
    }

    fn wait_for(what: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !what() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(what(), "timed out");
    }

    const MARK: &[u8; 40] = b"0123456789abcdef0123456789abcdef01234567";
    const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

    #[test]
    fn a_diskless_snapshot_whose_mark_is_split_across_reads() {
        let payload = b"REDIS0011 some snapshot bytes, 0123456789abcdef0123 (a mark's prefix)";
        let mut chunks: Vec<Vec<u8>> = vec![b"\n\n".to_vec(), b"$EOF:".to_vec()];
        chunks.push([&MARK[..], b"\r\n"].concat());
        chunks.extend(payload.chunks(7).map(<[u8]>::to_vec));
        chunks.push(MARK[..13].to_vec());
        // The rest of the mark and the stream's first command in one write.
        chunks.push([&MARK[13..], PING].concat());
        let reply = "+FULLRESYNC 8de9a0a9c7e1e7f8b1c1e6a3e55c2c7b0f8e4a11 100\r\n";
        let port = fake_master(reply, "", chunks);
        let (start, shared, spool, _running) = run(port).unwrap();
        assert_eq!(
            start,
            Start::Full {
                replid: "8de9a0a9c7e1e7f8b1c1e6a3e55c2c7b0f8e4a11".into(),
                offset: 100
            }
        );
        wait_for(|| shared.stream_bytes.load(Ordering::SeqCst) == PING.len() as u64);
        assert!(shared.snap_done.load(Ordering::SeqCst));
        assert_eq!(std::fs::read(spool.snapshot()).unwrap(), payload);
        assert_eq!(std::fs::read(spool.segment(0)).unwrap(), PING);
    }

    #[test]
    fn a_snapshot_with_a_length_and_the_stream_in_the_same_read() {
        let payload = b"REDIS0009 xyz";
        let mut first = format!("${}\r\n", payload.len()).into_bytes();
        first.extend_from_slice(&payload[..4]);
        let rest = [&payload[4..], PING].concat();
        let reply = "+FULLRESYNC 8de9a0a9c7e1e7f8b1c1e6a3e55c2c7b0f8e4a11 7\r\n";
        let port = fake_master(reply, "", vec![first, rest]);
        let (_, shared, spool, _running) = run(port).unwrap();
        wait_for(|| shared.stream_bytes.load(Ordering::SeqCst) == PING.len() as u64);
        assert_eq!(
            shared.snap_total.load(Ordering::SeqCst),
            payload.len() as u64
        );
        assert_eq!(std::fs::read(spool.snapshot()).unwrap(), payload);
    }

    #[test]
    fn a_master_without_psync_is_followed_with_sync() {
        let reply = "-ERR unknown command 'PSYNC', with args beginning with: '?' '-1'\r\n";
        let port = fake_master(reply, "$3\r\n", vec![b"abc".to_vec(), PING.to_vec()]);
        let (start, shared, spool, _running) = run(port).unwrap();
        assert_eq!(start, Start::Sync);
        wait_for(|| shared.stream_bytes.load(Ordering::SeqCst) == PING.len() as u64);
        assert_eq!(std::fs::read(spool.snapshot()).unwrap(), b"abc");
    }

    #[test]
    fn a_master_refusing_both_is_named_with_migrate_as_the_alternative() {
        let reply = "-ERR unknown command 'PSYNC', with args beginning with: '?' '-1'\r\n";
        let sync = "-NOPERM this user has no permissions to run the 'sync' command\r\n";
        let port = fake_master(reply, sync, Vec::new());
        let e = run(port).err().expect("refused").to_string();
        assert!(
            e.contains("refuses replication")
                && e.contains("PSYNC (ERR unknown command")
                && e.contains("SYNC (NOPERM")
                && e.contains("restore-migrate migrate"),
            "{e}"
        );
    }
}
