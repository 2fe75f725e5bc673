//! Reading keys from a live server: the transactions a chunk of keys is read in (`OBJECT`, the
//! expiry, `DUMP`, one `TIME` each), their replies taken apart into rows, expiries moved onto
//! the client's clock with a bound on the two clocks' difference, and cluster redirects.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use redis::{Connection, Value};

use crate::conn::{self, as_int, error_text};
use crate::error::{fatal, Result};

/// A key's expiry on the client's clock. `when` is the `PEXPIRETIME` reply (with `source_now`
/// 0) or the `PTTL` reply (with the source's `TIME` just before it); `t0` is the source's
/// `TIME` at the start of the transaction, `sent` the client's clock when it was sent.
pub(super) fn expiry_of(when: Option<i64>, source_now: Option<i64>, t0: i64, sent: i64) -> Expiry {
    match (when, source_now) {
        (Some(-2), _) => Expiry::Gone,
        (Some(t), _) if t < 0 => Expiry::Never,
        // Absolute on the source's clock, then relative to its TIME, then on ours.
        (Some(t), Some(now)) => Expiry::At(sent.saturating_add(t.saturating_add(now) - t0)),
        _ => Expiry::Never,
    }
}

/// What each key's read sends: `OBJECT IDLETIME|FREQ` (unless `--no-lru`), then its expiry as
/// `PEXPIRETIME` (7.0+) or as `TIME` + `PTTL` (older), then `DUMP`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub(super) lru: Option<&'static str>,
    pub(super) pexpiretime: bool,
}

impl Layout {
    pub(super) fn per_key(self) -> usize {
        usize::from(self.lru.is_some()) + if self.pexpiretime { 1 } else { 2 } + 1
    }
}

/// A key's expiry, on the client's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    Never,
    /// The key is gone (deleted or expired since SCAN).
    Gone,
    At(i64),
}

/// One key's replies.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) obj: Option<Value>,
    pub(super) expiry: Expiry,
    pub(super) expiry_error: Option<String>,
    pub(super) dump: Value,
    /// How much later the true expiry may be (see `Batch::expiry_slack_ms`).
    pub(super) slack: i64,
}

/// Where a cluster node sent a key: `MOVED` (the slot's owner) or `ASK` (a slot migrating to
/// that node: read it there after `ASKING`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Redirect {
    pub(super) ask: bool,
    pub(super) addr: String,
}

pub(super) fn redirect_of(v: &Value) -> Option<Redirect> {
    let text = error_text(v)?;
    let mut words = text.split_whitespace();
    let ask = match words.next()? {
        "MOVED" => false,
        "ASK" => true,
        _ => return None,
    };
    let _slot = words.next()?;
    Some(Redirect {
        ask,
        addr: words.next()?.to_string(),
    })
}

/// Keys a node sent elsewhere, by their index in the keys read.
pub(super) type Redirects = Vec<(usize, Redirect)>;

/// Unix ms of a `TIME` reply.
pub(super) fn time_ms(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Array(t)) if t.len() == 2 => {
            Some(as_int(&t[0])? * 1000 + as_int(&t[1])? / 1000)
        }
        _ => None,
    }
}

/// Sends one `MULTI` … `EXEC` per group of keys (after `ASKING` when `asking`), pipelined.
/// Each transaction starts with `TIME`. Returns a row per key, in order (`None` for a key
/// redirected elsewhere), and the redirects.
///
/// Expiries are moved to the client's clock: a key's remaining time, measured on the source's
/// clock (its absolute expiry, or `TIME` + `PTTL` per key before 7.0, minus the transaction's
/// `TIME`), is added to the client's clock when the transaction was sent (or to the tighter
/// lower bound of [`Sent::floor`]). The target writes
/// that with `ABSTTL`, so the copy carries a relative TTL as MIGRATE does: clock skew between
/// source and target no longer shifts it, and the time between sending and the source's
/// reading only shortens it (a copy never outlives its source by more than the clocks'
/// drift during the run).
pub(super) fn read_txs(
    con: &mut Connection,
    who: &str,
    layout: Layout,
    groups: &[&[Vec<u8>]],
    asking: bool,
) -> Result<(Vec<Option<Row>>, Redirects)> {
    let sent = send_txs(con, layout, groups, asking)
        .map_err(|e| fatal(format!("{who}: reading keys: {e}")))?;
    recv_txs(con, who, groups, &sent).map(|(rows, redirects, _)| (rows, redirects))
}

/// The transactions of a chunk: one per key on a cluster (a transaction holds one slot), one
/// for them all elsewhere (chunks are bounded by `--batch-bytes` and `CHUNK_KEYS`).
pub(super) fn groups_of(keys: &[Vec<u8>], cluster: bool) -> Vec<&[Vec<u8>]> {
    if cluster {
        keys.chunks(1).collect()
    } else {
        vec![keys]
    }
}

/// Transactions sent, their replies to come.
pub(super) struct Sent {
    pub(super) layout: Layout,
    pub(super) asking: bool,
    pub(super) replies: usize,
    /// The client's clock when they were sent (see [`read_txs`]).
    pub(super) at: i64,
    /// Our clock minus the source's, measured on this connection by a round trip that
    /// started at our `a` and read the source's `s`: `a - s` (the largest of the last seconds',
    /// set when the replies are read). The source read `s` after we sent, so at a later source
    /// time `t` our clock was at least `t + a - s`. A chunk sent ahead waits behind the ones
    /// before, so `at` alone would shorten its TTLs by that wait; the larger of the two lower
    /// bounds is the tighter, and neither can lengthen a TTL.
    pub(super) floor: Option<i64>,
}

/// Sends [`read_txs`]'s transactions without waiting for their replies.
pub(super) fn send_txs(
    con: &mut Connection,
    layout: Layout,
    groups: &[&[Vec<u8>]],
    asking: bool,
) -> redis::RedisResult<Sent> {
    let key_bytes: usize = groups
        .iter()
        .flat_map(|g| g.iter())
        .map(|k| (k.len() + 30) * 3)
        .sum();
    let mut pipe = conn::Packed::with_capacity(key_bytes + groups.len() * 64);
    for keys in groups {
        if asking {
            pipe.add("ASKING", &[]);
        }
        pipe.add("MULTI", &[]);
        pipe.add("TIME", &[]);
        for k in keys.iter() {
            if let Some(l) = layout.lru {
                pipe.add("OBJECT", &[l.as_bytes(), k]);
            }
            if layout.pexpiretime {
                pipe.add("PEXPIRETIME", &[k]);
            } else {
                pipe.add("TIME", &[]);
                pipe.add("PTTL", &[k]);
            }
            pipe.add("DUMP", &[k]);
        }
        pipe.add("EXEC", &[]);
    }
    let at = super::now_ms();
    pipe.send(con)?;
    Ok(Sent {
        layout,
        asking,
        replies: pipe.count(),
        at,
        floor: None,
    })
}

/// Receives [`send_txs`]'s replies: a row per key, in order (`None` for a key redirected
/// elsewhere), the redirects, and the tightest lower bound of our clock minus the source's
/// that the transactions' `TIME`s give (each was read after `sent.at`).
pub(super) fn recv_txs(
    con: &mut Connection,
    who: &str,
    groups: &[&[Vec<u8>]],
    sent: &Sent,
) -> Result<(Vec<Option<Row>>, Redirects, Option<i64>)> {
    let (layout, asking) = (sent.layout, sent.asking);
    let replies = conn::Packed::recv(con, sent.replies)
        .map_err(|e| fatal(format!("{who}: reading keys: {e}")))?;
    let received = super::now_ms();
    let mut replies = replies.into_iter();
    let mut rows = Vec::new();
    let mut redirects = Vec::new();
    let mut observed: Option<i64> = None;
    for keys in groups {
        let queued = 1 + keys.len() * layout.per_key();
        let head: Vec<Value> = replies
            .by_ref()
            .take(usize::from(asking) + 1 + queued)
            .collect();
        let exec = replies.next();
        let redirect = head.iter().chain(exec.as_ref()).find_map(redirect_of);
        let items = match (exec, redirect) {
            (_, Some(r)) if keys.len() == 1 => {
                redirects.push((rows.len(), r));
                rows.push(None);
                continue;
            }
            (Some(Value::Array(items)), None) => items,
            (other, _) => {
                let why = head
                    .iter()
                    .chain(other.as_ref())
                    .find_map(error_text)
                    .unwrap_or_else(|| format!("{other:?}"));
                return Err(fatal(format!("{who}: MULTI/EXEC: {why}")));
            }
        };
        let mut it = items.into_iter();
        let t0 = it.next();
        let Some(t0) = time_ms(t0.as_ref()) else {
            return Err(fatal(format!("{who}: TIME: {t0:?}")));
        };
        observed = observed.max(Some(sent.at - t0));
        for _ in keys.iter() {
            let obj = if layout.lru.is_some() {
                it.next()
            } else {
                None
            };
            let (when, source_now) = if layout.pexpiretime {
                (it.next().unwrap_or(Value::Nil), Some(0))
            } else {
                let t = it.next();
                (it.next().unwrap_or(Value::Nil), time_ms(t.as_ref()))
            };
            let dump = it.next().unwrap_or(Value::Nil);
            let expiry_error = error_text(&when);
            let ours = sent.floor.map_or(sent.at, |f| sent.at.max(t0 + f));
            let expiry = expiry_of(as_int(&when), source_now, t0, ours);
            rows.push(Some(Row {
                slack: received - ours,
                obj,
                expiry,
                expiry_error,
                dump,
            }));
        }
    }
    Ok((rows, redirects, observed))
}

/// Lower bounds of our clock minus the source's from the last few seconds (a round trip that
/// started at our `a` and read the source's `s` gives `a - s`), for [`Sent::floor`]: the
/// largest is the tightest. Older ones are dropped, so clocks drifting apart over a long run
/// cannot turn a lower bound into an upper one.
#[derive(Default)]
pub(super) struct ClockBound {
    pub(super) samples: VecDeque<(Instant, i64)>,
}

/// How long a clock sample counts (drift at 10 ppm: 0.05 ms).
pub(super) const CLOCK_WINDOW: Duration = Duration::from_secs(5);

impl ClockBound {
    pub(super) fn observe(&mut self, offset: i64) {
        let now = Instant::now();
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > CLOCK_WINDOW)
        {
            self.samples.pop_front();
        }
        // A sample below a later one is never the largest again.
        while self.samples.back().is_some_and(|(_, o)| *o <= offset) {
            self.samples.pop_back();
        }
        self.samples.push_back((now, offset));
    }

    pub(super) fn best(&self) -> Option<i64> {
        let now = Instant::now();
        self.samples
            .iter()
            .find(|(t, _)| now.duration_since(*t) <= CLOCK_WINDOW)
            .map(|(_, o)| *o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_keep_the_time_left_on_the_source_whatever_its_clock() {
        // The source's clock is an hour ahead of the client's: PEXPIRETIME 10 s after its TIME.
        let hour = 3_600_000;
        let sent = 1_000_000;
        let t0 = sent + hour;
        assert_eq!(
            expiry_of(Some(t0 + 10_000), Some(0), t0, sent),
            Expiry::At(sent + 10_000)
        );
        // Before 7.0: PTTL 10 s, read 2 s into the transaction (its own TIME).
        assert_eq!(
            expiry_of(Some(10_000), Some(t0 + 2_000), t0, sent),
            Expiry::At(sent + 12_000)
        );
        assert_eq!(expiry_of(Some(-1), Some(0), t0, sent), Expiry::Never);
        assert_eq!(expiry_of(Some(-2), Some(0), t0, sent), Expiry::Gone);
    }

    #[test]
    fn the_clock_bound_is_the_largest_recent_sample() {
        let mut c = ClockBound::default();
        assert_eq!(c.best(), None);
        c.observe(-40);
        c.observe(-3);
        c.observe(-25);
        assert_eq!(c.best(), Some(-3));
        c.observe(-1);
        assert_eq!(c.best(), Some(-1));
        assert_eq!(c.samples.len(), 1);
    }

    #[test]
    fn redirects_name_the_node_and_say_whether_to_ask() {
        let reply = |s: &str| redis::parse_redis_value(s.as_bytes()).unwrap();
        assert_eq!(
            redirect_of(&reply("-MOVED 3999 127.0.0.1:6381\r\n")),
            Some(Redirect {
                ask: false,
                addr: "127.0.0.1:6381".into()
            })
        );
        assert_eq!(
            redirect_of(&reply("-ASK 3999 10.0.0.2:7000\r\n")),
            Some(Redirect {
                ask: true,
                addr: "10.0.0.2:7000".into()
            })
        );
        for other in [
            "-EXECABORT Transaction discarded\r\n",
            "-MOVED\r\n",
            "+OK\r\n",
        ] {
            assert_eq!(redirect_of(&reply(other)), None, "{other}");
        }
    }
}
