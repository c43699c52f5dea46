#!/usr/bin/python3
"""queue_e2e.py ODET TINY_DET.onnx HEAD.cfg — odet worker / odet submit against a real redis-server.

A redis-server is started on 127.0.0.1 (random free port, a temporary folder, AOF with
appendfsync always) and stopped at the end; the test is skipped (exit 77) when redis-server is
absent or odet cannot load hiredis. Checked, each against what odet itself says elsewhere:
  1. N jobs (small JPEGs made here) through 3 worker processes, while one worker is SIGKILLed
     mid-run and redis-server is SIGKILLed and restarted on its AOF: every job id has exactly
     one entry in the result stream and one result key, the stream and the pending list end
     empty, the killed worker's jobs were reclaimed, and submit's COCO file equals
     `odet detect --json` on the same images in the same order;
  2. poison jobs (not an image, truncated JPEG, over --max-payload, malformed fields, a
     missing path) end in the dead-letter stream with their reason, after max-attempts
     deliveries for the missing file, and every other job still gets its result;
  3. SIGTERM: the worker finishes its batch and exits 0; nothing of it stays pending;
  4. unreachable Redis: exit 1 with a clear message at once, and after --retry-s with retries.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ODET, MODEL, HEAD = sys.argv[1], sys.argv[2], sys.argv[3]
N = int(os.environ.get("ODET_QUEUE_JOBS", "1000"))
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


REDIS = shutil.which("redis-server")
CLI = shutil.which("redis-cli")
if not REDIS or not CLI:
    print("SKIP: redis-server / redis-cli not installed (Debian's redis-server; scripts/deps.sh installs it)")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="odet-queue-")
port = free_port()
url = "redis://127.0.0.1:%d" % port
server = None
procs = []


def start_redis():
    p = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--appendonly", "yes",
                          "--appendfsync", "always", "--save", "", "--protected-mode", "yes",
                          "--logfile", os.path.join(tmp, "redis.log")])
    for _ in range(200):
        if subprocess.run([CLI, "-p", str(port), "PING"], capture_output=True, text=True).stdout.strip() == "PONG":
            return p
        time.sleep(0.05)
    raise SystemExit("redis-server did not start (see %s/redis.log)" % tmp)


def rcli(*args):
    r = subprocess.run([CLI, "-p", str(port), "--no-raw"] + [str(a) for a in args], capture_output=True, text=True)
    return r.stdout


def rcli_raw(*args):
    return subprocess.run([CLI, "-p", str(port), "--raw"] + [str(a) for a in args],
                          capture_output=True).stdout.decode("utf-8", "replace")


def xlen(stream):
    out = rcli_raw("XLEN", stream).strip()
    return int(out) if out.lstrip("-").isdigit() else -1


def stream_ids(stream):
    """the 'id' field of every entry (XRANGE in pages)"""
    ids, start = [], "-"
    while True:
        out = rcli_raw("XRANGE", stream, start, "+", "COUNT", 1000).split("\n")
        # --raw: entry id, then field, value, ... one a line; entries start with an id like 123-4
        entries, cur = [], None
        i = 0
        while i < len(out):
            line = out[i]
            if line and line.split("-")[0].isdigit() and line.count("-") == 1 and line.replace("-", "").isdigit():
                cur = {"_entry": line}
                entries.append(cur)
                i += 1
                continue
            if cur is not None and i + 1 < len(out):
                cur[line] = out[i + 1]
                i += 2
                continue
            i += 1
        if not entries:
            return ids
        for e in entries:
            ids.append(e.get("id"))
        if len(entries) < 1000:
            return ids
        ms, seq = entries[-1]["_entry"].split("-")
        start = "%s-%d" % (ms, int(seq) + 1)


def worker(name, *extra, log=None):
    f = open(os.path.join(tmp, "%s.log" % name), "w")
    p = subprocess.Popen([ODET, "worker", plan, "--redis", url, "--consumer", name, "--batch", "8",
                          "--visibility-ms", "2000", "--retry-s", "30", "--metrics-s", "1", "--score", "0.3",
                          "--threads", "1", "--read-threads", "1"] + list(extra), stdout=f, stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def log_of(name):
    with open(os.path.join(tmp, "%s.log" % name)) as f:
        return f.read()


try:
    # hiredis loadable? (odet built without it says so and exits 1 on a closed port either way)
    r = subprocess.run([ODET, "worker", MODEL, "--head", HEAD, "--redis", "redis://127.0.0.1:1"],
                       capture_output=True, text=True, timeout=120)
    if "cannot use Redis" in r.stderr:
        print("SKIP: " + r.stderr.strip())
        sys.exit(77)

    # ---- fixtures: a plan of the stand-in model (batch 8) and small JPEGs
    plan = os.path.join(tmp, "tiny.plan")
    subprocess.run([ODET, "build", MODEL, "-o", plan, "--head", HEAD, "--batch", "8", "--backend", "cpu"],
                   check=True, capture_output=True)
    from PIL import Image
    rng = random.Random(21)
    imgs = os.path.join(tmp, "img")
    os.makedirs(imgs)
    distinct = []
    for k in range(40):
        w, h = rng.randint(32, 96), rng.randint(32, 96)
        im = Image.new("RGB", (w, h), tuple(rng.randint(0, 255) for _ in range(3)))
        for _ in range(6):
            x, y = rng.randint(0, w - 8), rng.randint(0, h - 8)
            im.paste(tuple(rng.randint(0, 255) for _ in range(3)), (x, y, x + rng.randint(4, 30), y + rng.randint(4, 30)))
        p = os.path.join(imgs, "%06d.jpg" % (k + 1))
        im.save(p, quality=85)
        distinct.append(p)
    listing = os.path.join(tmp, "jobs.txt")
    order = [distinct[i % len(distinct)] for i in range(N)]
    with open(listing, "w") as f:
        f.write("\n".join(order) + "\n")
    ref = os.path.join(tmp, "ref.json")
    subprocess.run([ODET, "detect", plan, "@" + listing, "--json", ref, "--no-draw", "--quiet", "--score", "0.3",
                    "--threads", "1"], check=True, capture_output=True)

    server = start_redis()
    t0 = time.time()
    # ---- 1. N jobs, 3 workers, one SIGKILLed, redis-server SIGKILLed and restarted
    ws = [worker("w%d" % i) for i in range(3)]
    out_json = os.path.join(tmp, "out.json")
    sub = subprocess.Popen([ODET, "submit", "--redis", url, "@" + listing, "--json", out_json, "--quiet",
                            "--job-prefix", "main", "--retry-s", "30", "--max-in-flight", "200", "--timeout", "300"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = restarted = False
    while sub.poll() is None:
        done = xlen("odet:results")
        # killed mid-batch: stopped, and killed if it holds jobs it has read and not acknowledged
        if not killed and done >= N // 10:
            ws[0].send_signal(signal.SIGSTOP)
            held = rcli_raw("XPENDING", "odet:jobs", "odet", "-", "+", 100, "w0").count("w0")
            if held:
                ws[0].kill()
                killed = True
                print("SIGKILLed worker w0 at %d results, holding %d jobs" % (done, held), flush=True)
            else:
                ws[0].send_signal(signal.SIGCONT)
        if killed and not restarted and done >= N // 5:
            server.kill()
            server.wait()
            time.sleep(0.5)
            server = start_redis()
            restarted = True
            print("redis-server SIGKILLed and restarted (AOF) at %d results" % done, flush=True)
        time.sleep(0.05)
    so, se = sub.communicate()
    check(sub.returncode == 0, "submit --json of %d jobs exits 0 (got %d: %s)" % (N, sub.returncode, se.strip()[-500:]))
    check(killed and restarted, "a worker was killed and the server restarted during the run")
    ids = stream_ids("odet:results")
    want = ["main-%d" % i for i in range(N)]
    check(sorted(ids) == sorted(want), "every job has exactly one entry in the result stream (%d entries, %d unique, %d jobs)"
          % (len(ids), len(set(ids)), N))
    keys = int(rcli_raw("EVAL", "return #redis.call('KEYS', 'odet:results:main-*')", 0).strip() or -1)
    check(keys == N, "one result key per job (%d)" % keys)
    # leftovers (a job re-sent after the restart, the killed worker's jobs whose results another
    # worker wrote) are acknowledged with no second result, within a visibility timeout or two
    deadline = time.time() + 20
    while time.time() < deadline and (xlen("odet:jobs") != 0 or
                                      rcli_raw("XPENDING", "odet:jobs", "odet").split("\n")[0].strip() != "0"):
        time.sleep(0.2)
    ids = stream_ids("odet:results")
    check(sorted(ids) == sorted(want), "still exactly one result entry per job after the leftovers (%d)" % len(ids))
    check(xlen("odet:jobs") == 0, "the job stream is empty (workers delete what they acknowledge)")
    pend = rcli_raw("XPENDING", "odet:jobs", "odet").split("\n")[0].strip()
    check(pend == "0", "nothing pending in the group (%s)" % pend)
    with open(out_json) as f:
        got = json.load(f)
    with open(ref) as f:
        exp = json.load(f)
    check(got == exp, "submit's COCO results equal odet detect's on the same %d images (%d vs %d records)"
          % (N, len(got), len(exp)))
    elapsed = time.time() - t0
    print("phase 1: %d jobs in %.1f s" % (N, elapsed), flush=True)
    for p in ws[1:]:
        p.send_signal(signal.SIGTERM)
    for p in ws[1:]:
        check(p.wait(timeout=60) == 0, "SIGTERM: worker exits 0")
    logs = log_of("w1") + log_of("w2")
    import re
    stops = [l for l in logs.splitlines() if l.startswith("odet worker: stopped")]
    recl = sum(int(re.search(r"(\d+) reclaimed", l).group(1)) for l in stops)
    check(recl > 0, "the killed worker's pending jobs were reclaimed by the others (%d)" % recl)
    recon = sum(int(re.search(r"(\d+) reconnects", l).group(1)) for l in stops)
    check(recon >= 2, "both live workers reconnected after the restart (%d reconnects)" % recon)

    # ---- 2. poison jobs
    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "text.jpg"), "w") as f:
        f.write("not an image at all\n")
    with open(distinct[0], "rb") as f:
        head = f.read()
    with open(os.path.join(bad, "trunc.jpg"), "wb") as f:
        f.write(head[:len(head) // 3])
    big = Image.new("RGB", (900, 900))
    big.putdata([(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)) for _ in range(900 * 900)])
    big.save(os.path.join(bad, "big.png"))
    w = worker("p0", "--max-payload", "200000", "--max-attempts", "3", "--visibility-ms", "500")
    rcli("XADD", "odet:jobs", "*", "id", "poison-nofields", "foo", "bar")
    rcli("XADD", "odet:jobs", "*", "id", "poison-score", "path", distinct[1], "score", "high")
    rcli("XADD", "odet:jobs", "*", "id", "poison-missing", "path", os.path.join(tmp, "no-such-file.jpg"))
    mixed = [os.path.join(bad, "text.jpg"), distinct[2], os.path.join(bad, "trunc.jpg"), os.path.join(bad, "big.png"),
             distinct[3]]
    r = subprocess.run([ODET, "submit", "--redis", url] + mixed + ["--wait", "--job-prefix", "mix", "--timeout", "60"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 2, "submit of 3 poison + 2 good images exits 2 (got %d)" % r.returncode)
    check(r.stdout.count("detection(s)") == 2, "the 2 good images have results")
    for name in ("text.jpg", "trunc.jpg", "big.png"):
        check(any(name in l for l in r.stderr.splitlines()), "submit names the dead-lettered %s" % name)
    deadline = time.time() + 30
    while time.time() < deadline and xlen("odet:dead") < 6:
        time.sleep(0.2)
    dead = {}
    raw = rcli_raw("XRANGE", "odet:dead", "-", "+").split("\n")
    for i, line in enumerate(raw):
        if line == "id" and i + 1 < len(raw):
            cur = raw[i + 1]
        if line == "reason" and i + 1 < len(raw):
            dead[cur] = raw[i + 1]
    print("dead letters:", json.dumps(dead, indent=1))
    check(len(dead) == 6, "6 dead letters (%d)" % len(dead))
    check("neither an image nor a path" in dead.get("poison-nofields", ""), "no image field: reason given")
    check("score 'high'" in dead.get("poison-score", ""), "bad score: reason given")
    check("over the limit of 200000" in dead.get("mix-3", ""), "oversized payload: reason given")
    check(dead.get("mix-0", "").startswith("bad input"), "not an image: reason given")
    check(bool(dead.get("mix-2")), "truncated JPEG: reason given")
    check("no-such-file" in dead.get("poison-missing", "") and "deliveries" not in dead.get("poison-missing", "x"),
          "missing file: dead-lettered with the reason")
    dl = rcli_raw("XRANGE", "odet:dead", "-", "+").split("\n")
    k = [i for i, l in enumerate(dl) if l == "poison-missing"]
    delivered = dl[dl.index("deliveries", k[0]) + 1] if k else "?"
    check(delivered == "3", "missing file: dead-lettered at its 3rd delivery (max-attempts 3; %s)" % delivered)
    w.send_signal(signal.SIGTERM)
    check(w.wait(timeout=60) == 0, "poison worker still alive and exits 0 on SIGTERM")
    check(xlen("odet:jobs") == 0, "poison jobs do not stay in the queue")

    # ---- 3. SIGTERM mid-run: the batch finishes, nothing of the worker stays pending
    w = worker("t0", "--batch-timeout-ms", "200")
    sub = subprocess.Popen([ODET, "submit", "--redis", url, "@" + listing, "--job-prefix", "term", "--quiet"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while xlen("odet:results") < N + 5 + 3 + 40:
        time.sleep(0.02)
    w.send_signal(signal.SIGTERM)
    check(w.wait(timeout=60) == 0, "SIGTERM during a run: exit 0")
    sub.wait()
    info = rcli_raw("XPENDING", "odet:jobs", "odet", "-", "+", "10", "t0")
    check(info.strip() == "", "SIGTERM: the stopped worker left nothing pending")

    # ---- 5. odet video --publish: each frame's JSON line, also as a stream entry
    ffmpeg = shutil.which("ffmpeg")
    clip = os.path.join(tmp, "clip.mp4")
    if ffmpeg and subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=128x96:rate=10",
                                  "-frames:v", "12", "-pix_fmt", "yuv420p", clip]).returncode == 0:
        jl = os.path.join(tmp, "clip.jsonl")
        r = subprocess.run([ODET, "video", plan, clip, "--json", jl, "--publish", url + "/odet:frames", "--quiet",
                            "--score", "0.3"], capture_output=True, text=True)
        if "built without FFmpeg" in r.stderr:
            print("skip: odet video (no FFmpeg in this build)")
        else:
            with open(jl) as f:
                lines = f.read().splitlines()
            raw = subprocess.run([CLI, "-p", str(port), "--raw", "XRANGE", "odet:frames", "-", "+"],
                                 capture_output=True).stdout.decode().split("\n")
            msgs = [raw[i + 1] for i, l in enumerate(raw) if l == "msg" and i + 1 < len(raw)]
            check(r.returncode == 0 and len(lines) == 12 and msgs == lines,
                  "odet video --publish: 12 frames, the stream's messages equal the JSON lines (%d, %d; %s)"
                  % (len(lines), len(msgs), r.stderr.strip()[-300:]))
        r = subprocess.run([ODET, "video", plan, clip, "--json", jl, "--publish", url], capture_output=True, text=True)
        check(r.returncode == 2 and "no stream" in r.stderr, "--publish without a stream: exit 2 (%s)" % r.stderr.strip())
    else:
        print("skip: odet video --publish (no ffmpeg command to make a clip)")

    # ---- 4. unreachable Redis
    dead_port = free_port()
    t = time.time()
    r = subprocess.run([ODET, "worker", plan, "--redis", "redis://127.0.0.1:%d" % dead_port], capture_output=True, text=True)
    check(r.returncode == 1 and "cannot connect to Redis at 127.0.0.1:%d" % dead_port in r.stderr and time.time() - t < 10,
          "unreachable Redis: exit 1 at once: " + r.stderr.strip())
    t = time.time()
    r = subprocess.run([ODET, "worker", plan, "--redis", "redis://127.0.0.1:%d" % dead_port, "--retry-s", "1.5"],
                       capture_output=True, text=True)
    el = time.time() - t
    check(r.returncode == 1 and "retrying" in r.stderr and 1.4 <= el < 10,
          "unreachable Redis with --retry-s 1.5: retries, then exit 1 after %.1f s" % el)
    r = subprocess.run([ODET, "worker", plan, "--redis", "http://x"], capture_output=True, text=True)
    check(r.returncode == 2, "a bad URL is a usage error (exit 2)")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if server and server.poll() is None:
        server.terminate()
        server.wait()
    if failures:
        print("logs kept in", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)

print("%d check(s) failed" % len(failures) if failures else "all checks passed")
sys.exit(1 if failures else 0)
