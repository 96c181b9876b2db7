"""Many `facenet serve` processes on one PostgreSQL gallery (run by
tests/test_serve_pg.sh for each build).  Issue 14's "many servers, one
gallery", each step against an independent oracle:

  * a PostgreSQL started by the test (scripts/pg-test-server.sh: initdb in a
    temp dir, a unix socket); 8 Film people enrolled by the CLI, then 3
    servers on free loopback ports;
  * a newcomer enrolled through server 1 is named by servers 2 and 3 within
    1 s (polled every 50 ms; the delay is printed), with the names and
    distances `facenet identify --json` gives on a SQLite gallery of the same
    people (the oracle), and server 3's people list shows the newcomer;
  * server 3 stopped (SIGTERM, exit 0): servers 1 and 2 keep answering;
  * a face enrolled and deleted through server 1 leaves server 2's list
    within 1 s and is gone from PostgreSQL (psql);
  * server 2 killed with SIGKILL in the middle of a stream of enrolments:
    every image it answered 201 for is in PostgreSQL (psql, not facenet, is
    the judge), no image lacks its embedding, no person lacks images,
    `facenet gallery check` passes; server 1 lists the same faces; a new
    server started in its place reads them all;
  * PostgreSQL stopped under the running servers: identify keeps answering
    from each server's mirror, enrol answers 503 with a sentence and
    Retry-After, health answers 200 "degraded" (still serving) and says the
    database is unreachable; PostgreSQL started again: both servers connect
    again by themselves (pg_stat_activity, no request sent), enrol again and
    see each other's enrolments within 1 s (LISTEN re-issued);
  * SIGTERM stops both with exit 0 (ASan: no leak).
Exit 0 passed, 1 a check failed, 77 nothing could run."""
import io, json, os, shutil, signal, subprocess, sys, threading, time, urllib.error, urllib.parse, urllib.request

from PIL import Image

BIN, VARIANT = sys.argv[1], sys.argv[2]
SHARED = os.environ.get("SHARED", "../shared")
MODELS = os.environ.get("MODELS", "models")
FILM = os.path.join(SHARED, "fixtures/film")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
checks = failures = 0


def check(cond, msg):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", msg, flush=True)
    return cond


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


if not os.path.isfile(os.path.join(MODELS, "MobileFaceNet.tflite")):
    skip("no model bundle in %s (make models)" % MODELS)
if not os.path.isdir(os.path.join(FILM, "Film/Test")):
    skip("needs the Film photos in %s/Film/Test (SHARED=%s, absent)" % (FILM, SHARED))
if not os.access(os.path.join(PG_BIN, "initdb"), os.X_OK):
    skip("PostgreSQL's binaries are absent (%s/initdb; apt-get install postgresql-15)" % PG_BIN)

pgdir = "/tmp/fn-pg-serve-%d" % os.getpid()   # reachable by the postgres user when run as root
r = subprocess.run(["bash", "scripts/pg-test-server.sh", "start", pgdir], capture_output=True, text=True)
if r.returncode != 0:
    subprocess.run(["bash", "scripts/pg-test-server.sh", "stop", pgdir], capture_output=True)
    shutil.rmtree(pgdir, ignore_errors=True)
    skip("no PostgreSQL server could be started: %s" % r.stderr.strip())
URL = r.stdout.strip()
tmp = os.path.join(pgdir, "work")
os.makedirs(tmp, exist_ok=True)
env = dict(os.environ, OMP_WAIT_POLICY="passive", TMPDIR=tmp)
servers = []


def pg(cmd):
    return subprocess.run(["bash", "scripts/pg-test-server.sh", cmd, pgdir], capture_output=True, text=True).returncode


def psql(sql):
    r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-At", "-d", URL, "-c", sql], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("psql %s: %s" % (sql, r.stderr))
    return r.stdout.split()


def cleanup():
    for s in servers:
        if s["proc"].poll() is None:
            s["proc"].kill()
            s["proc"].wait()
    pg("stop")
    shutil.rmtree(pgdir, ignore_errors=True)


import atexit
atexit.register(cleanup)


def cli(*args, models=True):
    r = subprocess.run([BIN, *args] + (["--models-dir", MODELS] if models else []), capture_output=True, text=True, env=env)
    return r.returncode, [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")], r.stderr


def start_server(label):
    log = open(os.path.join(tmp, "server-%s.log" % label), "w+")
    proc = subprocess.Popen([BIN, "serve", "--gallery", URL, "--models-dir", MODELS, "--listen", "127.0.0.1:0"],
                            stderr=log, env=env)
    text = ""
    for _ in range(1200):
        log.seek(0)
        text = log.read()
        if "listening on http://127.0.0.1:" in text:
            port = int(text.split("listening on http://127.0.0.1:")[1].split("/")[0])
            s = {"label": label, "proc": proc, "log": log, "base": "http://127.0.0.1:%d" % port}
            servers.append(s)
            return s
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    print("FAIL: server %s did not start: %s" % (label, text[-3000:]))
    sys.exit(1)


def stop_server(s):
    s["proc"].send_signal(signal.SIGTERM)
    try:
        rc = s["proc"].wait(timeout=60)
    except subprocess.TimeoutExpired:
        s["proc"].kill()
        rc = -1
    s["log"].seek(0)
    check(rc == 0, "server %s's exit after SIGTERM: %d\n%s" % (s["label"], rc, s["log"].read()[-3000:]))


opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # loopback only, never a proxy


def call(s, method, path, body=None, ctype=None, timeout=120):
    h = {"Content-Type": ctype} if ctype else {}
    req = urllib.request.Request(s["base"] + path, data=body, method=method, headers=h)
    try:
        with opener.open(req, timeout=timeout) as r:
            data, status, hdrs = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        data, status, hdrs = e.read(), e.code, e.headers
    try:
        return status, json.loads(data), hdrs
    except ValueError:
        return status, data, hdrs


def read(p):
    with open(p, "rb") as f:
        return f.read()


def identify_all(s, path):
    st, j, _ = call(s, "POST", "/v1/identify", read(path), "image/jpeg")
    return st, (j.get("faces") or []) if isinstance(j, dict) else []


def identify(s, path):
    st, faces = identify_all(s, path)
    return st, (faces or [{}])[0]


def enrol(s, person, data, timeout=120):
    """Adds a photo to person, creating them with it when they are new
    (.../faces answers 404 for an unknown person, POST /v1/people?name= 409
    for a known one; another server may create them in between)."""
    path = "/v1/people/%s/faces" % urllib.parse.quote(person)
    st, j, h = call(s, "POST", path, data, "image/jpeg", timeout=timeout)
    if st == 404:
        st, j, h = call(s, "POST", "/v1/people?name=%s" % urllib.parse.quote(person), data, "image/jpeg", timeout=timeout)
        if st == 409:
            st, j, h = call(s, "POST", path, data, "image/jpeg", timeout=timeout)
    return st, j, h


def faces_of(s, person):
    st, j, _ = call(s, "GET", "/v1/people/%s/faces" % urllib.parse.quote(person))
    return sorted(f["id"] for f in j["faces"]) if st == 200 else None


# ------------------------------------------------------------ the galleries
test_dir = os.path.join(FILM, "Film/Test")
people = sorted(d for d in os.listdir(test_dir) if os.path.isdir(os.path.join(test_dir, d))
                and os.path.isdir(os.path.join(FILM, "Predict", d)))
if len(people) < 4:
    skip("fewer than 4 Film people with both Test and Predict photos in %s" % FILM)
newcomer, latecomer = people[-1], people[-2]
base = os.path.join(tmp, "base")
os.makedirs(base)
for p in people[:-2]:
    os.symlink(os.path.abspath(os.path.join(test_dir, p)), os.path.join(base, p))
rc, _, err = cli("enroll", "--gallery", URL, "--json", base)
if not check(rc == 0, "enroll into PostgreSQL: exit %d: %s" % (rc, err)):
    sys.exit(1)
oracle_db = os.path.join(tmp, "oracle.db")   # the same people in a SQLite gallery, all of them
rc, _, err = cli("enroll", "--gallery", oracle_db, "--json", test_dir)
check(rc == 0, "enroll the SQLite oracle: exit %d: %s" % (rc, err))


def probes(person):
    d = os.path.join(FILM, "Predict", person)
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.lower().endswith((".jpg", ".jpeg", ".png"))]


def oracle(paths):
    """The CLI's faces of each file, in its order (the server's order too)."""
    rc, lines, err = cli("identify", "--gallery", oracle_db, "--json", *paths)
    check(rc == 0, "oracle identify: %s" % err)
    out = {}
    for l in lines:
        if "name" in l:
            out.setdefault(l["file"], []).append(l)
    return out


def same_as_oracle(s, paths, want, what, skip_nearest=()):
    """Every face of the server's answer against the CLI's; faces whose
    nearest person in the oracle is in skip_nearest are left out (the
    latecomer is not in PostgreSQL until the end; the stream person below is
    a copy of people[0]'s face under another name)."""
    ok = True
    for p in paths:
        st, faces = identify_all(s, p)
        ok &= check(st == 200 and len(faces) == len(want.get(p, [])), "%s, server %s, %s: %s, %d faces, the CLI %d"
                    % (what, s["label"], os.path.basename(p), st, len(faces), len(want.get(p, []))))
        for f, w in zip(faces, want.get(p, [])):
            if w["nearest"] in skip_nearest:
                continue
            ok &= check(st == 200 and f.get("name") == w["name"] and f.get("nearest") == w["nearest"]
                    and abs(f.get("nearest_distance", 9) - w["nearest_distance"]) < 1e-4,
                    "%s, server %s, %s: %s %s %s %s against the CLI's %s %s %.5f"
                        % (what, s["label"], os.path.basename(p), st, f.get("name"), f.get("nearest"),
                           f.get("nearest_distance"), w["name"], w["nearest"], w["nearest_distance"]))
    return ok


# ------------------------------------------- the other commands on the URL
# identify, calibrate and watch take a PostgreSQL URL as enroll and serve do
# (they used to stat() the gallery path first and call every URL missing).
p0 = probes(people[0])[:3]
want0 = oracle(p0)
rc, lines, err = cli("identify", "--gallery", URL, "--json", *p0)
got0 = [l for l in lines if "name" in l]
ok = check(rc == 0 and len(got0) == sum(len(v) for v in want0.values()),
           "identify --gallery postgresql://...: exit %d, %d faces (SQLite oracle: %d): %s"
           % (rc, len(got0), sum(len(v) for v in want0.values()), err))
for g, w in zip(got0, [f for q in p0 for f in want0.get(q, [])]):
    if w["nearest"] in (newcomer, latecomer):
        continue
    ok &= check(g["nearest"] == w["nearest"] and abs(g["nearest_distance"] - w["nearest_distance"]) < 1e-4,
                "identify on PostgreSQL, %s: nearest %s %.5f, SQLite %s %.5f"
                % (os.path.basename(g["file"]), g["nearest"], g["nearest_distance"], w["nearest"], w["nearest_distance"]))
rc, _, err = cli("calibrate", "--gallery", URL, "--dry-run", models=False)
check(rc == 0, "calibrate --dry-run --gallery postgresql://...: exit %d: %s" % (rc, err))
rc, lines, err = cli("watch", "--gallery", URL, "--headless", "--json", "--detector", "mtcnn", p0[0])
named = [l["name"] for l in lines if l.get("event") == "identified"]
check(rc == 0 and named and all(n in [w["name"] for w in want0.get(p0[0], [])] for n in named),
      "watch --gallery postgresql://... on %s: exit %d, named %s, identify (SQLite) %s: %s"
      % (p0[0], rc, named, [w["name"] for w in want0.get(p0[0], [])], err))

S = [start_server("1"), start_server("2"), start_server("3")]
print("3 servers on %s: %s" % (URL, ", ".join(s["base"] for s in S)))

# ------------------------------------------- enrol on 1, identify on 2 and 3
probe = probes(newcomer)[0]
st, f = identify(S[1], probe)
check(st == 200 and f.get("name") != newcomer, "before the enrolment server 2 names %s: %s %s" % (newcomer, st, f))
# servers 2 and 3 are asked for the newcomer's faces every 20 ms from before
# the enrolment (steady traffic: their 200 ms poll is anywhere in its cycle
# when the enrolment lands).  A list pulls like a search does and costs
# milliseconds even under ASan, so the delay is the gallery's, not an
# identify's computing time; then an identify must name the newcomer.
delays, named_at, t_enrolled, enrolled = {}, {}, [None], threading.Event()


def watch(s):
    while True:
        sent = time.monotonic()
        has = bool(faces_of(s, newcomer))
        if enrolled.is_set() and has:
            delays[s["label"]] = max(0.0, sent - t_enrolled[0])
            st, f = identify(s, probe)
            named_at[s["label"]] = time.monotonic() - t_enrolled[0] if f.get("name") == newcomer else None
            return
        if enrolled.is_set() and sent - t_enrolled[0] > 5:
            delays[s["label"]] = None
            return
        time.sleep(0.02)


ts = [threading.Thread(target=watch, args=(s,)) for s in S[1:]]
[t.start() for t in ts]
time.sleep(0.5)
for k, img in enumerate(sorted(os.listdir(os.path.join(test_dir, newcomer)))):
    st, j, _ = enrol(S[0], newcomer, read(os.path.join(test_dir, newcomer, img)))
    check(st == 201 and j.get("result") == "added", "enrol %s/%s through server 1: %s %s" % (newcomer, img, st, j))
    if k == 0:   # the first photo makes the newcomer nameable
        t_enrolled[0] = time.monotonic()
        enrolled.set()
        [t.join() for t in ts]
for s in S[1:]:
    d = delays[s["label"]]
    check(d is not None and d <= 1.0, "server %s had the newcomer after %s s (limit 1 s)" % (s["label"], d))
    check(named_at.get(s["label"]) is not None, "server %s's identify right after did not name the newcomer" % s["label"])
fmt = lambda v: "-" if v is None else "%.3f" % v
print("enrolled on server 1 (201 at t=0): in the lists of servers 2 and 3 at %s and %s s (a request every 20 ms),"
      " named by their identify at %s and %s s (%s build, load %s)"
      % (fmt(delays.get("2")), fmt(delays.get("3")), fmt(named_at.get("2")), fmt(named_at.get("3")),
         os.path.basename(VARIANT.rstrip("/")), open("/proc/loadavg").read().split()[0]))
want = oracle(probes(newcomer) + probes(people[0]) + probes(people[1]))
for s in S:
    same_as_oracle(s, probes(newcomer), want, "after the enrolment", (latecomer,))
st, j, _ = call(S[2], "GET", "/v1/people")
check(st == 200 and {"name": newcomer, "images": 2} in j.get("people", []) and j.get("count") == len(people) - 1,
      "server 3's people list after the enrolment on server 1: %s" % j)

# --------------------------------------------------- stop one, others answer
stop_server(S[2])
for s in S[:2]:
    same_as_oracle(s, probes(people[0]) + probes(newcomer), want, "after server 3 stopped", (latecomer,))

# ------------------------------- a face deleted on one server, gone on the other
extra = Image.open(os.path.join(test_dir, newcomer, sorted(os.listdir(os.path.join(test_dir, newcomer)))[0])).convert("RGB")
buf = io.BytesIO()
extra.transpose(Image.FLIP_LEFT_RIGHT).save(buf, "JPEG", quality=93)
st, j, _ = enrol(S[0], newcomer, buf.getvalue())
check(st == 201, "enrol a mirrored photo of the newcomer: %s %s" % (st, j))
extra_id = j.get("image_id", -1)
t0 = time.monotonic()
while time.monotonic() - t0 < 3 and extra_id not in (faces_of(S[1], newcomer) or []):
    time.sleep(0.05)
check(extra_id in (faces_of(S[1], newcomer) or []), "server 2 lists the face enrolled on server 1")
st, j, _ = call(S[0], "DELETE", "/v1/people/%s/faces/%d" % (urllib.parse.quote(newcomer), extra_id))
check(st == 200 and j.get("removed") == 1, "delete the face on server 1: %s %s" % (st, j))
t0 = time.monotonic()
gone = None
while time.monotonic() - t0 < 3:
    sent = time.monotonic() - t0
    if extra_id not in (faces_of(S[1], newcomer) or [extra_id]):
        gone = sent
        break
    time.sleep(0.05)
check(gone is not None and gone <= 1.0, "server 2 dropped the face deleted on server 1 after %s s" % gone)
check(psql("SELECT count(*) FROM images WHERE id = %d" % extra_id) == ["0"], "the deleted face is still in PostgreSQL")
print("a face deleted on server 1: a list request sent to server 2 %.3f s after the reply no longer has it"
      % (-1 if gone is None else gone))
for s in S[:2]:
    same_as_oracle(s, probes(newcomer), want, "after the delete", (latecomer,))

# ----------------------------------------------- kill -9 mid-enrolment stream
src = Image.open(os.path.join(test_dir, people[0], sorted(os.listdir(os.path.join(test_dir, people[0])))[0])).convert("RGB")
src.thumbnail((480, 480))


def variant(i):
    """The same face on a canvas shifted by i pixels: a new file (new SHA-256) each time."""
    c = Image.new("RGB", (src.width + 64, src.height + 64), (100 + i % 50, 110, 120))
    c.paste(src, (i % 64, (i * 7) % 64))
    b = io.BytesIO()
    c.save(b, "JPEG", quality=92)
    return b.getvalue()


answered, sent = [], [0]
stream_stop = threading.Event()


def stream():
    for i in range(400):
        if stream_stop.is_set():
            return
        sent[0] += 1
        try:
            st, j, _ = enrol(S[1], "Stream Person", variant(i), timeout=30)
        except Exception:
            return   # the server is gone
        if st == 201:
            answered.append(j["image_id"])


th = threading.Thread(target=stream)
th.start()
deadline = time.monotonic() + 120
while len(answered) < 4 and time.monotonic() < deadline and th.is_alive():
    time.sleep(0.02)
time.sleep(0.05 + (os.getpid() % 7) * 0.03)   # somewhere inside the next request
S[1]["proc"].kill()
S[1]["proc"].wait()
# a killed server cannot delete its private mirror (a temporary SQLite file the size of the gallery); the next
# process to open the gallery deletes those of processes that are gone
killed_pid = S[1]["proc"].pid
left = [f for f in os.listdir(tmp) if f.startswith("fn-pg-mirror-%d-" % killed_pid)]
check(left, "the killed server's mirror (fn-pg-mirror-%d-*) was not where the test looks: %s"
      % (killed_pid, sorted(os.listdir(tmp))))
stream_stop.set()
th.join()
ids = set(int(x) for x in psql("SELECT i.id FROM images i JOIN people p ON p.id = i.person_id"
                               " WHERE p.name = 'Stream Person'"))
lost = [i for i in answered if i not in ids]
check(len(answered) >= 4, "the stream got %d enrolments answered before the kill" % len(answered))
check(not lost, "answered 201 but not in PostgreSQL after kill -9: %s" % lost)
check(psql("SELECT count(*) FROM images i LEFT JOIN embeddings e ON e.image_id = i.id WHERE e.image_id IS NULL") == ["0"],
      "an image without its embedding after kill -9")
check(psql("SELECT count(*) FROM people p WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.person_id = p.id)") == ["0"],
      "a person without images after kill -9")
rc, _, err = cli("gallery", "check", "--gallery", URL, models=False)
check(rc == 0, "gallery check after kill -9: exit %d: %s" % (rc, err))
print("kill -9 during a stream of enrolments: %d requests sent, %d answered 201, %d images in PostgreSQL"
      % (sent[0], len(answered), len(ids)))
time.sleep(0.3)   # past the poll interval: server 1 takes server 2's last enrolments
check(faces_of(S[0], "Stream Person") == sorted(ids), "server 1's faces of the stream person: %s, PostgreSQL %s"
      % (faces_of(S[0], "Stream Person"), sorted(ids)))
S4 = start_server("4")   # in place of the killed one: rebuilds its mirror from the database
left = [f for f in os.listdir(tmp) if f.startswith("fn-pg-mirror-%d-" % killed_pid)]
check(not left, "the killed server's mirror is still there after a new server opened the gallery: %s" % left)
check(faces_of(S4, "Stream Person") == sorted(ids), "a new server's faces of the stream person")
same_as_oracle(S4, probes(newcomer), want, "a server started after the kill", (latecomer, people[0]))

# ------------------------------------- PostgreSQL stopped under the servers
late = sorted(os.listdir(os.path.join(test_dir, latecomer)))
check(pg("down") == 0, "stopping PostgreSQL")
live = [S[0], S4]
for s in live:
    same_as_oracle(s, probes(newcomer), want, "PostgreSQL down", (latecomer, people[0]))
    st, j, h = enrol(s, latecomer, read(os.path.join(test_dir, latecomer, late[0])))
    check(st == 503 and "PostgreSQL" in j.get("error", "") and h.get("Retry-After"),
          "enrol on server %s while PostgreSQL is down: %s %s" % (s["label"], st, j))
    st, j, _ = call(s, "GET", "/v1/health")
    check(st == 200 and j.get("status") == "degraded" and j.get("database") == "unreachable"
          and "PostgreSQL" in j.get("database_error", ""), "health on server %s, PostgreSQL down: %s %s" % (s["label"], st, j))
check(pg("up") == 0, "starting PostgreSQL again")
t_up = time.monotonic()
# no request is sent: each server reconnects by itself (its 200 ms refresh)
back = None
while time.monotonic() - t_up < 5:
    n = psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'facenet' AND backend_type = 'client backend'"
             " AND pid <> pg_backend_pid()")
    if n == ["2"]:
        back = time.monotonic() - t_up
        break
    time.sleep(0.05)
check(back is not None and back <= 2.0, "both servers reconnected without a request within 2 s: %s" % back)
st, j, _ = enrol(S4, latecomer, read(os.path.join(test_dir, latecomer, late[0])))
check(st == 201, "enrol through server 4 after PostgreSQL came back: %s %s" % (st, j))
t0 = time.monotonic()
d1 = None
while time.monotonic() - t0 < 5:
    sent = time.monotonic() - t0
    if faces_of(S[0], latecomer):
        d1 = sent
        break
    time.sleep(0.02)
check(d1 is not None and d1 <= 1.0, "server 1 had the latecomer (enrolled on 4) after %s s" % d1)
st, f = identify(S[0], probes(latecomer)[0])
check(st == 200 and f.get("name") == latecomer, "server 1 names the latecomer: %s %s" % (st, f))
st, j, _ = enrol(S[0], latecomer, read(os.path.join(test_dir, latecomer, late[1])))
check(st == 201, "enrol through server 1 after PostgreSQL came back: %s %s" % (st, j))
t0 = time.monotonic()
d4 = None
while time.monotonic() - t0 < 5:
    sent = time.monotonic() - t0
    if len(faces_of(S4, latecomer) or []) == 2:   # a list pulls other servers' changes itself
        d4 = sent
        break
    time.sleep(0.05)
check(d4 is not None and d4 <= 1.0, "server 4 saw server 1's enrolment after %s s" % d4)
want_late = oracle(probes(latecomer))
for s in live:
    same_as_oracle(s, probes(latecomer), want_late, "after PostgreSQL came back", (people[0],))
    st, j, _ = call(s, "GET", "/v1/health")
    check(st == 200 and j.get("status") == "ok", "health on server %s after PostgreSQL came back: %s %s" % (s["label"], st, j))
print("PostgreSQL restarted under servers 1 and 4: both connected again %.3f s after it was up, with no request;"
      " enrolments answered again; a request sent to the other server %.3f s and %.3f s after the 201 saw them"
      % (-1 if back is None else back, -1 if d1 is None else d1, -1 if d4 is None else d4))

for s in live:
    stop_server(s)
print("%d checks, %d failed" % (checks, failures))
sys.exit(1 if failures else 0)
