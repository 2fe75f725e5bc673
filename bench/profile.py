#!/usr/bin/env python3
"""Instructions per restore, native RESTORE vs RESTORE.ASKING vs client replay, under callgrind
(repeatable where wall time is not).

Usage: bench/profile.py [--server BIN] [--module SO] [--classes a,b] [--reps N] [--keep DIR]

Builds the payload classes of restore_bench.py on a plain server, then, once per method,
starts the server under `valgrind --tool=callgrind` collecting only inside `call()` (the
execution of a command, propagation included), and restores each class N times into fresh key
names (nothing to delete, so nothing else runs), zeroing and dumping the counters around each
class with callgrind_control. Prints instructions per restore and the ratios. With --keep, the
callgrind files stay in DIR for callgrind_annotate.
"""

import argparse
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import restore_bench as rb  # noqa: E402

# "module" is RESTORE.ASKING as shipped (handed to the server's RESTORE by the command filter
# where it can be); "rmcall" is RESTORE.ASKING with `restore.handover off`: the handler calls the
# server's RESTORE through RM_Call (the path before the handover, and still the fallback).
METHODS = ("native", "module", "rmcall", "replay")
# Where counting starts and stops: one command's processing, processCommand(): the command filter
# (where the handover validates the payload) runs there before call(), so a toggle on call() would
# miss it. Replay's argument parsing is not counted (it happens before processCommand).
TOGGLE = "processCommand"


def payloads(server, module, classes):
    srv = rb.Server(server, module)
    try:
        c = rb.Resp(srv.port)
        out = {}
        for cls in classes:
            if "payload" in cls:  # a real DUMP from another server
                out[cls["name"]] = cls["payload"]
                continue
            for w in cls["writes"]:
                c.call(*rb.substitute(w, "src"))
            out[cls["name"]] = c.call("DUMP", "src")
            c.call("DEL", "src")
        c.close()
        return out
    finally:
        srv.stop()
        srv.cleanup()


def total_ir(out_file):
    with open(out_file) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return 0


def profile(server, module, method, classes, dumps, reps, keep):
    work = tempfile.mkdtemp(prefix="restore-profile.")
    port = rb.free_port()
    out = os.path.join(work, "callgrind.out.%p")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
           "--toggle-collect=" + TOGGLE, server, "--port", str(port), "--bind", "127.0.0.1",
           "--dir", work, "--save", "", "--appendonly", "no", "--loadmodule", module]
    if method == "rmcall":
        cmd += ["handover", "off"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                c = rb.Resp(port)
                if c("PING") == "PONG":
                    break
            except (OSError, rb.ReplyError):
                time.sleep(0.2)
        else:
            sys.exit("profile: server under valgrind did not start")
        result = {}
        for ci, cls in enumerate(classes):
            payload = dumps[cls["name"]]
            n = reps if len(payload) < 10000 else max(3, reps // 20)

            def restore(key):
                if method == "replay":
                    for w in cls["writes"]:
                        reply = c(*rb.substitute(w, key))
                else:
                    command = "RESTORE" if method == "native" else "RESTORE.ASKING"
                    reply = c(command, key, "0", payload)
                if isinstance(reply, rb.RespError) or reply is None:
                    raise RuntimeError("%s %s: %r" % (cls["name"], method, reply))

            # Warm up (first-call costs: config lookups, OnceLock), then measure. A payload this
            # host's RESTORE refuses (a newer server's) is n/a for native.
            try:
                restore("warm:%d" % ci)
            except RuntimeError as e:
                print("profile: %s" % e, file=sys.stderr)
                result[cls["name"]] = None
                continue
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True)
            for i in range(n):
                restore("k:%d:%d" % (ci, i))
            tag = re.sub(r"[^a-z0-9]+", "_", cls["name"].lower())
            subprocess.run(["callgrind_control", "-d", method + "_" + tag, str(proc.pid)],
                           capture_output=True)
            files = glob.glob(os.path.join(work, "callgrind.out.%d.*" % proc.pid))
            newest = max(files, key=os.path.getmtime) if files else None
            result[cls["name"]] = total_ir(newest) / n if newest else None
            if newest and keep:
                os.makedirs(keep, exist_ok=True)
                shutil.copy(newest, os.path.join(keep, "callgrind.%s.%s" % (method, tag)))
            c.call("FLUSHALL")
        c.close()
        return result
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    global TOGGLE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=os.environ.get("REDIS_SERVER") or "/usr/bin/redis-server")
    ap.add_argument("--module", default=os.environ.get("MODULE") or rb.DEFAULT_MODULE)
    ap.add_argument("--classes", default="")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--keep", default="")
    ap.add_argument("--toggle", default=TOGGLE, help="function whose execution is counted")
    ap.add_argument("--methods", default=",".join(METHODS),
                    help="comma-separated subset of native,module,rmcall,replay (others show n/a)")
    opts = ap.parse_args()
    classes = rb.make_classes(random.Random(42))
    if opts.classes:
        wanted = [w.strip() for w in opts.classes.split(",")]
        classes = [c for c in classes if any(w in c["name"] for w in wanted)]
    dumps = payloads(opts.server, opts.module, classes)
    TOGGLE = opts.toggle
    chosen = [m for m in opts.methods.split(",") if m in METHODS]
    ir = {m: (profile(opts.server, opts.module, m, classes, dumps, opts.reps, opts.keep)
              if m in chosen else {}) for m in METHODS}
    print("%-30s %13s %13s %13s %13s %8s %8s %8s" % (
        "class", "native Ir", "replay Ir", "rmcall Ir", "module Ir", "call/nat", "mod/nat",
        "mod/rep"))
    for cls in classes:
        n, r, c, m = (ir[x].get(cls["name"]) for x in ("native", "replay", "rmcall", "module"))
        print("%-30s %13s %13s %13s %13s %8s %8s %8s" % (
            cls["name"], rb.fmt(n, ",.0f"), rb.fmt(r, ",.0f"), rb.fmt(c, ",.0f"),
            rb.fmt(m, ",.0f"), rb.fmt(rb.ratio(c, n), ".2f"), rb.fmt(rb.ratio(m, n), ".2f"),
            rb.fmt(rb.ratio(m, r), ".2f")))


if __name__ == "__main__":
    main()
