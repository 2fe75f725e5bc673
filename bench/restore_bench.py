#!/usr/bin/env python3
"""Server-side cost of restoring one key: native RESTORE vs RESTORE.ASKING vs client replay.

Usage: bench/restore_bench.py [--server BIN] [--module SO] [--rounds N] [--scale X] [--classes a,b]

Starts one redis-server (free loopback port, temp dir, --save '' --appendonly no) with the
module loaded, builds one source key per payload class and DUMPs it, then restores every class
many times three ways, in alternating order round after round:

  native   RESTORE key 0 payload REPLACE
  module   RESTORE.ASKING key 0 payload REPLACE
  replay   the plain writes a migration tool sends: SET, one HSET/ZADD/SADD/RPUSH with all
           elements, or one XADD per stream entry (+ XGROUP CREATE, XCLAIM for the group)

The time is the server's own: `usec / calls` from INFO commandstats after CONFIG RESETSTAT, so
parsing, network and this client are excluded. For replay it is the sum over the write commands
of one key restore. Every restore targets one of a few fixed key names, DELeted (not timed)
before each restore, so no method pays for freeing the previous value and memory stays flat.
Memory per key is MEMORY USAGE (SAMPLES 0, i.e. exact) of the restored keys. A method that
replies an error for a class (RESTORE.ASKING on streams, until they land) shows n/a there.

Medians over the rounds. commandstats time is wall time inside the server, so a busy machine
shows up as noise: raise BENCH_ROUNDS there. The first round is a warm-up that also sizes the repetitions so each
(class, method, round) takes about CELL_SECONDS * scale of wall time.

Environment knobs (flags win): BENCH_ROUNDS (default 5), BENCH_SCALE (default 1.0),
REDIS_SERVER, MODULE. Python standard library only.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODULE = os.path.join(REPO, "target", "release", "librestore_asking.so")
VECTORS = os.path.join(REPO, "tests", "vectors")
CELL_SECONDS = 1.5  # wall time of one (class, method, round) at scale 1
MIN_REPS, MAX_REPS = 5, 20000
KEYS_PER_CLASS = 2  # fixed destination names, restored in turn
BATCH_BYTES = 4 << 20  # pipeline up to this many request bytes before reading replies
METHODS = ("native", "module", "replay")

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from resp import ReplyError, Resp, RespError, encode  # noqa: E402 (the project's RESP client)


def commandstats(client):
    """{command name: (calls, usec, failed_calls)} from INFO commandstats."""
    stats = {}
    for line in client.call("INFO", "commandstats").decode().splitlines():
        if not line.startswith("cmdstat_"):
            continue
        name, _, fields = line[len("cmdstat_"):].partition(":")
        kv = dict(f.split("=", 1) for f in fields.split(","))
        stats[name] = (int(kv["calls"]), int(kv["usec"]), int(kv.get("failed_calls", 0)))
    return stats


def stat_name(args):
    """The commandstats name of a command (subcommands count separately since 7.0)."""
    name = args[0].lower()
    if name in ("xgroup", "config", "memory", "object"):
        name += "|" + args[1].lower()
    return name


# ---------------------------------------------------------------------------------------------
# Payload classes: (name, description, source-building commands, replay commands for key K)
#
# Each class is built from explicit data so that its replay is exactly the data. The replay
# commands use the placeholder KEY, substituted per destination key.

KEY = "\0KEY\0"


def words(rng, n, lo=4, hi=12):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi))) for _ in range(n)]


def flat(pairs):
    return [x for p in pairs for x in p]


def make_classes(rng):
    classes = []

    def add(name, encoding, writes):
        classes.append({"name": name, "encoding": encoding, "writes": writes})

    def add_vector(name, encoding, rel):
        """A class whose payload is a real DUMP from another server (tests/vectors/REL), which
        this host may not write itself (or, on an older host, not even read natively: n/a)."""
        with open(os.path.join(VECTORS, rel + ".json")) as f:
            doc = json.load(f)
        with open(os.path.join(VECTORS, rel + ".dump"), "rb") as f:
            payload = f.read()

        def b(v):
            return bytes.fromhex(v["hex"]) if isinstance(v, dict) else v.encode()
        value = doc["value"]
        if doc["type"] == "hash":
            writes = [["HSET", KEY] + flat((b({"hex": k[4:]} if k.startswith("hex:") else k), b(v))
                                           for k, v in value.items())]
        elif doc["type"] == "set":
            writes = [["SADD", KEY] + [b(m) for m in value]]
        else:
            raise ValueError(rel)
        classes.append({"name": name, "encoding": encoding, "writes": writes, "payload": payload})

    add("string 16 B", "embstr", [["SET", KEY, "".join(words(rng, 1, 16, 16))]])
    add("string int", "int", [["SET", KEY, "1234567890123"]])
    vocab = words(rng, 64, 3, 9)
    text = ""
    while len(text) < 4096:
        text += rng.choice(vocab) + " "
    add("string 4 KB LZF", "raw", [["SET", KEY, text[:4096]]])
    add("string 100 KB incompressible", "raw", [["SET", KEY, rng.randbytes(100 * 1024)]])

    # The small classes that real datasets are made of draw from their own generator, so the
    # data of the classes measured before them stays the same.
    small = random.Random(7)

    def hash_writes(n, rng=rng):
        fields = ["field:%d:%s" % (i, w) for i, w in enumerate(words(rng, n))]
        values = [str(rng.randrange(10**9)) if i % 2 else w for i, w in enumerate(words(rng, n, 8, 24))]
        return [["HSET", KEY] + flat(zip(fields, values))]

    add("hash 10 listpack", "listpack", hash_writes(10, small))
    add_vector("hash 10 ziplist (6.2)", "listpack", "redis-6.2.14/hash_small")
    add("hash 100 listpack", "listpack", hash_writes(100))
    add("hash 10k hashtable", "hashtable", hash_writes(10000))

    def zset_writes(n, rng=rng):
        members = ["member:%d:%s" % (i, w) for i, w in enumerate(words(rng, n))]
        scores = [repr(rng.uniform(-1e6, 1e6)) if i % 3 else str(i) for i in range(n)]
        return [["ZADD", KEY] + flat(zip(scores, members))]

    add("zset 5 listpack", "listpack", zset_writes(5, small))
    add("zset 100 listpack", "listpack", zset_writes(100))
    add("zset 10k skiplist", "skiplist", zset_writes(10000))
    add("set 20 strings", "listpack", [["SADD", KEY] + ["m:%d:%s" % (i, w) for i, w in enumerate(words(small, 20))]])
    add_vector("set 8 listpack (7.2)", "listpack", "redis-7.2.6/set_listpack")
    add("set 500 intset", "intset", [["SADD", KEY] + [str(v) for v in rng.sample(range(-10**6, 10**6), 500)]])
    add("set 10k hashtable", "hashtable", [["SADD", KEY] + ["m:%d:%s" % (i, w) for i, w in enumerate(words(rng, 10000))]])
    elements = [w if i % 4 else str(rng.randrange(10**6)) for i, w in enumerate(words(rng, 10000, 4, 20))]
    add("list 10k quicklist", "quicklist", [["RPUSH", KEY] + elements])

    stream = []
    base_ms = 1700000000000
    ids = []
    for i in range(1000):
        entry_id = "%d-%d" % (base_ms + i // 3, i % 3)
        ids.append(entry_id)
        fields = ["sensor", "s%d" % (i % 17), "value", str(rng.randrange(10**6)), "note", "".join(words(rng, 1, 5, 15))]
        stream.append(["XADD", KEY, entry_id] + fields)
    # A consumer group that has read the first 100 entries, 10 of them still pending.
    stream.append(["XGROUP", "CREATE", KEY, "grp", ids[99]])
    stream.append(["XCLAIM", KEY, "grp", "consumer-1", "0"] + ids[90:100] + ["FORCE", "JUSTID"])
    add("stream 1k + group", "stream", stream)
    return classes


def substitute(args, key):
    return [key if a == KEY else a for a in args]


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, binary, module):
        self.dir = tempfile.mkdtemp(prefix="restore-bench.")
        self.proc = None
        for _ in range(5):
            self.port = free_port()
            log = os.path.join(self.dir, "server.log")
            cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                   "--save", "", "--appendonly", "no", "--logfile", log, "--loadmodule", module]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
            if self._wait_ready():
                return
            self.stop()
            try:
                with open(log, errors="replace") as f:
                    tail = f.read()[-2000:]
            except OSError:
                tail = "(no log)"
            if "Address already in use" not in tail:
                self.cleanup()
                sys.exit("bench: %s did not start:\n%s" % (binary, tail))
        self.cleanup()
        sys.exit("bench: could not find a free port")

    def _wait_ready(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                c = Resp(self.port)
                ok = c.call("PING") == "PONG"
                c.close()
                if ok:
                    return True
            except OSError:
                time.sleep(0.05)
            except ReplyError:  # still loading
                time.sleep(0.05)
        return False

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Measurement


class Bench:
    def __init__(self, client, cls, payload):
        self.c = client
        self.cls = cls
        self.keys = ["bench:%s:%d" % (cls["name"].replace(" ", "_"), i) for i in range(KEYS_PER_CLASS)]
        self.requests = {}
        self.stat_names = {}
        self.calls_per_restore = {}
        self.requests["native"] = [encode("RESTORE", k, "0", payload, "REPLACE") for k in self.keys]
        self.stat_names["native"] = {"restore"}
        self.calls_per_restore["native"] = 1
        self.requests["module"] = [encode("RESTORE.ASKING", k, "0", payload, "REPLACE") for k in self.keys]
        self.stat_names["module"] = {"restore.asking"}
        self.calls_per_restore["module"] = 1
        self.requests["replay"] = [b"".join(encode(*substitute(w, k)) for w in cls["writes"]) for k in self.keys]
        self.stat_names["replay"] = {stat_name(w) for w in cls["writes"]}
        self.calls_per_restore["replay"] = len(cls["writes"])
        self.dels = [encode("DEL", k) for k in self.keys]
        self.reps = MIN_REPS
        self.error = {}

    def run(self, method, reps):
        """Restores the class `reps` times with `method`; returns (server µs per key, wall s)."""
        reqs = self.requests[method]
        n_calls = self.calls_per_restore[method]
        stream, counts = [], []
        for i in range(reps):
            j = i % len(self.keys)
            stream += [self.dels[j], reqs[j]]
            counts += [1, n_calls]
        self.c.call("CONFIG", "RESETSTAT")
        start = time.monotonic()
        replies = self.c.pipeline(stream, counts, batch_bytes=BATCH_BYTES)
        wall = time.monotonic() - start
        stats = commandstats(self.c)
        errors = [r for r in replies if isinstance(r, RespError)]
        if errors:
            self.error[method] = str(errors[0])
            return None, wall
        calls = sum(stats.get(n, (0, 0, 0))[0] for n in self.stat_names[method])
        usec = sum(stats.get(n, (0, 0, 0))[1] for n in self.stat_names[method])
        if calls != reps * n_calls:
            raise RuntimeError("%s %s: expected %d calls, commandstats counted %d"
                               % (self.cls["name"], method, reps * n_calls, calls))
        return usec / reps, wall

    def memory_and_encoding(self):
        """Exact MEMORY USAGE averaged over the destination keys, and their encoding."""
        mem = [self.c.call("MEMORY", "USAGE", k, "SAMPLES", "0") for k in self.keys]
        enc = self.c.call("OBJECT", "ENCODING", self.keys[0]).decode()
        return statistics.mean(mem), enc


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=os.environ.get("REDIS_SERVER") or "/usr/bin/redis-server")
    ap.add_argument("--module", default=os.environ.get("MODULE") or DEFAULT_MODULE)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS") or 5))
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE") or 1.0))
    ap.add_argument("--classes", default="", help="comma-separated substrings of class names")
    opts = ap.parse_args()
    if not (os.path.isfile(opts.server) and os.access(opts.server, os.X_OK)):
        sys.exit("bench: server binary %s not found or not executable" % opts.server)
    if not os.path.isfile(opts.module):
        sys.exit("bench: module %s not found (run 'make build')" % opts.module)
    if opts.rounds < 1 or opts.scale <= 0:
        sys.exit("bench: --rounds must be >= 1 and --scale > 0")

    classes = make_classes(random.Random(20240601))
    if opts.classes:
        wanted = [w.strip() for w in opts.classes.split(",") if w.strip()]
        classes = [c for c in classes if any(w in c["name"] for w in wanted)]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = Server(opts.server, opts.module)
    try:
        run(server, classes, opts)
    finally:
        server.stop()
        server.cleanup()
    print("bench: %.0f s" % (time.monotonic() - START))


def run(server, classes, opts):
    c = Resp(server.port)
    info = dict(l.split(":", 1) for l in c.call("INFO", "server").decode().splitlines() if ":" in l)
    version = "%s %s" % (info.get("server_name", "redis"),
                         info.get("valkey_version") or info.get("redis_version", "?"))
    print("bench: %s (%s), pid %d, port %d; rounds %d, scale %g; load average %.2f"
          % (opts.server, version, server.proc.pid, server.port, opts.rounds, opts.scale, os.getloadavg()[0]))

    benches = []
    for cls in classes:
        src = "src:" + cls["name"].replace(" ", "_")
        for w in cls["writes"]:
            c.call(*substitute(w, src))
        enc = c.call("OBJECT", "ENCODING", src).decode()
        payload = cls.get("payload") or c.call("DUMP", src)
        if enc != cls["encoding"] and "payload" not in cls:
            print("bench: warning: %s is %s on this server, not %s" % (cls["name"], enc, cls["encoding"]))
        if cls["name"].startswith("string 4 KB") and payload[1] != 0xC3:
            print("bench: warning: %s is not LZF-compressed in its payload" % cls["name"])
        cls["payload_len"] = len(payload)
        benches.append(Bench(c, cls, payload))

    # Warm-up round: checks every method and sizes the repetitions.
    for b in benches:
        slowest = 0.0
        for m in METHODS:
            if m in b.error:
                continue
            _, wall = b.run(m, MIN_REPS)
            slowest = max(slowest, wall / MIN_REPS)
        b.reps = int(min(MAX_REPS, max(MIN_REPS, CELL_SECONDS * opts.scale / max(slowest, 1e-6))))
        if b.error:
            for m, e in b.error.items():
                print("bench: %s: %s replied %s -> n/a" % (b.cls["name"], m, e))

    usec = {(b.cls["name"], m): [] for b in benches for m in METHODS}
    mem = {(b.cls["name"], m): [] for b in benches for m in METHODS}
    enc = {}
    for r in range(opts.rounds):
        order = METHODS[r % 3:] + METHODS[:r % 3]  # alternate which method goes first
        for b in benches:
            for m in order:
                if m in b.error:
                    continue
                us, _ = b.run(m, b.reps)
                if us is None:
                    continue
                usec[(b.cls["name"], m)].append(us)
                mb, e = b.memory_and_encoding()
                mem[(b.cls["name"], m)].append(mb)
                enc[(b.cls["name"], m)] = e
        print("bench: round %d/%d done (%.0f s)" % (r + 1, opts.rounds, time.monotonic() - START), flush=True)
    c.close()

    def med(d, key):
        return statistics.median(d[key]) if d.get(key) else None

    header = ("class", "payload B", "reps", "native µs", "replay µs", "module µs",
              "mod/nat", "mod/rep", "mem mod/nat")
    rows = []
    notes = []
    for b in benches:
        n = b.cls["name"]
        nat, rep, mod = (med(usec, (n, m)) for m in ("native", "replay", "module"))
        mnat, mmod = med(mem, (n, "native")), med(mem, (n, "module"))
        rows.append((n, str(b.cls["payload_len"]), str(b.reps), fmt(nat, ".1f"), fmt(rep, ".1f"), fmt(mod, ".1f"),
                     fmt(ratio(mod, nat), ".2f"), fmt(ratio(mod, rep), ".2f"), fmt(ratio(mmod, mnat), ".3f")))
        encs = {m: enc.get((n, m)) for m in METHODS}
        if encs["module"] is not None and encs["module"] != encs["native"]:
            notes.append("%s: module wrote %s, native %s" % (n, encs["module"], encs["native"]))
        if mmod is not None and mnat is not None and mmod != mnat:
            notes.append("%s: MEMORY USAGE module %d B, native %d B" % (n, mmod, mnat))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print()
    print("  ".join(h.ljust(widths[0]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(header)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(v.ljust(widths[0]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(r)))
    print()
    print("server time per restored key (INFO commandstats usec/calls), median of %d rounds" % opts.rounds)
    for note in notes:
        print("note: " + note)


START = time.monotonic()

if __name__ == "__main__":
    main()
