"""kill -9 of `facenet serve` during enrolment loses nothing committed
(run by tests/test_serve_kill.sh for each build).

Two clients enrol Film photos (fixtures/film/Predict/PERSON/N.jpg, each under
its own person) over HTTP, POST /v1/people/{name}/faces, one request after
another; after a few answers the server gets SIGKILL while both clients have
a request in flight.  Twice: the second round goes on with the stream on the
restarted gallery and is killed after more answers.  The oracle is what the clients were told:
  * after a restart on the same gallery, every enrolment answered 201 is
    listed (GET /v1/people/{name}/faces) under its person with the image id
    it was given, and each person's count in GET /v1/people is what the
    faces list says;
  * no half-written record: every face enrolled over HTTP has its thumbnail
    (the face and its thumbnail are one transaction), and no face is there
    that was neither answered nor in flight at the kill;
  * a request in flight at the kill is all there or not at all: enrolling
    its photo again answers 200 "duplicate" if it is listed, 201 if not;
  * `facenet gallery --gallery G check` passes (SQLite's integrity check,
    one embedding of the right size per image, the labels) after the kill.
Exit 0 passed, 1 a check failed, 77 nothing could run."""
import json, os, signal, subprocess, sys, tempfile, threading, time, urllib.error, urllib.parse, urllib.request

BIN, VARIANT = sys.argv[1], sys.argv[2]
SHARED = os.environ.get("SHARED", "../shared")
MODELS = os.environ.get("MODELS", "models")
PREDICT = os.path.join(SHARED, "fixtures/film/Predict")
checks = failures = 0


def check(cond, msg):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", msg, flush=True)
    return cond


if not os.path.isfile(os.path.join(MODELS, "MobileFaceNet.tflite")):
    print("SKIP: no model bundle in %s (make models)" % MODELS)
    sys.exit(77)
if not os.path.isdir(PREDICT):
    print("SKIP: the Film photos are absent (%s; pass SHARED=/abs/path/to/shared)" % PREDICT)
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="fn-serve-kill-")
gallery = os.path.join(tmp, "g.db")
env = dict(os.environ, OMP_WAIT_POLICY="passive")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start(tag):
    log = open(os.path.join(tmp, "server-%s.log" % tag), "w+")
    p = subprocess.Popen([BIN, "serve", "--gallery", gallery, "--models-dir", MODELS, "--listen", "127.0.0.1:0",
                          "--max-busy", "8"], stderr=log, env=env)
    for _ in range(600):
        log.seek(0)
        text = log.read()
        if "listening on http://127.0.0.1:" in text:
            return p, int(text.split("listening on http://127.0.0.1:")[1].split("/")[0])
        if p.poll() is not None:
            break
        time.sleep(0.1)
    print("FAIL: the server did not start:", text)
    sys.exit(1)


def call(port, method, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body, method=method,
                                 headers={"Content-Type": "image/jpeg"} if body else {})
    try:
        with opener.open(req, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def faces_path(person):
    return "/v1/people/%s/faces" % urllib.parse.quote(person)


def enrol(port, person, body):
    """Adds a photo to person, creating them with it when they are new: .../faces
    answers 404 for an unknown person, POST /v1/people?name= 409 for a known
    one, and the other client may create them in between."""
    st, j = call(port, "POST", faces_path(person), body)
    if st == 404:
        st, j = call(port, "POST", "/v1/people?name=%s" % urllib.parse.quote(person), body)
        if st == 409:
            st, j = call(port, "POST", faces_path(person), body)
    return st, j


# the stream: photo k of every person in turn, so both clients enrol all the time
people = sorted(os.listdir(PREDICT))
stream = []
for k in range(10):
    for person in people:
        files = sorted(os.listdir(os.path.join(PREDICT, person)))
        if k < len(files):
            stream.append((person, os.path.join(PREDICT, person, files[k])))
lock = threading.Lock()
nxt = [0]          # the next photo of the stream, across rounds
present = {}       # photo -> (person, image id): known to be in the gallery


def client(port, answered, in_flight):
    while True:
        with lock:
            if nxt[0] >= len(stream):
                return
            person, path = stream[nxt[0]]
            nxt[0] += 1
            in_flight.add(path)
        try:
            st, j = enrol(port, person, open(path, "rb").read())
        except Exception:   # the server died under this request
            return
        with lock:
            in_flight.discard(path)
            answered[path] = (person, st, j)


def listing(port):
    """image id -> (person, face) for every face in the gallery, over HTTP."""
    st, j = call(port, "GET", "/v1/people")
    check(st == 200, "GET /v1/people after the restart: %s %s" % (st, j))
    listed = {}
    counts = {p["name"]: p["images"] for p in j.get("people", [])}
    for person in counts:
        st, f = call(port, "GET", faces_path(person))
        check(st == 200 and len(f["faces"]) == counts[person], "%s: %d faces listed, GET /v1/people says %d" %
              (person, len(f.get("faces", [])), counts[person]))
        for face in f.get("faces", []):
            listed[face["id"]] = (person, face)
    return listed


def kill_round(rnd, kill_after):
    """Enrol until kill_after more answers with two requests in flight, SIGKILL,
    restart, check, and settle the photos that were in flight."""
    srv, port = start("%da" % rnd)
    answered, in_flight = {}, set()
    ts = [threading.Thread(target=client, args=(port, answered, in_flight)) for _ in range(2)]
    [t.start() for t in ts]
    deadline = time.time() + 600   # never wait for ever: kill then anyway
    while True:
        with lock:
            if (len(answered) >= kill_after and len(in_flight) == 2) or time.time() > deadline or \
                    (nxt[0] >= len(stream) and not in_flight):
                srv.send_signal(signal.SIGKILL)
                break
        time.sleep(0.005)
    srv.wait()
    [t.join() for t in ts]
    check(len(answered) >= kill_after, "round %d: only %d enrolments answered before the kill" % (rnd, len(answered)))
    in_flight = set(in_flight)
    print("round %d: killed after %d answers (%d in flight)" % (rnd, len(answered), len(in_flight)))
    for path, (person, st, j) in answered.items():
        check(st == 201, "round %d: %s answered %s %s before the kill" % (rnd, path, st, j))
        if st == 201:
            present[path] = (person, j["image_id"])
    r = subprocess.run([BIN, "gallery", "--gallery", gallery, "check"], capture_output=True, text=True, env=env)
    check(r.returncode == 0, "round %d: gallery check after kill -9: exit %d: %s" % (rnd, r.returncode, r.stderr))

    srv, port = start("%db" % rnd)
    listed = listing(port)
    for path, (person, iid) in present.items():
        got = listed.get(iid)
        check(got and got[0] == person, "round %d: %s, enrolled as %s image %s, is not there after kill -9 (found %s)" %
              (rnd, path, person, iid, got and got[0]))
    for iid, (person, face) in listed.items():
        check(face.get("thumbnail", "").startswith("data:image/jpeg;base64,"),
              "round %d: face %d of %s has no thumbnail: half-written" % (rnd, iid, person))
    check(len(present) <= len(listed) <= len(present) + len(in_flight),
          "round %d: %d faces after the restart; %d known, %d in flight" % (rnd, len(listed), len(present), len(in_flight)))
    # the photos in flight: all there (a duplicate now) or not at all (added now)
    by_person = {}
    for iid, (person, face) in listed.items():
        by_person[person] = by_person.get(person, 0) + 1
    for path in sorted(in_flight):
        person = os.path.basename(os.path.dirname(path))
        before = by_person.get(person, 0)
        st, j = enrol(port, person, open(path, "rb").read())
        committed = j.get("result") == "duplicate"
        print("round %d: in flight at the kill: %s/%s: %s" % (rnd, person, os.path.basename(path),
                                                               "committed" if committed else "not committed"))
        check(st in (200, 201) and (st == 200) == committed, "round %d: re-enrolling %s: %s %s" % (rnd, path, st, j))
        st, f = call(port, "GET", faces_path(person))
        check(len(f["faces"]) == before + (0 if committed else 1), "round %d: %s: %d faces after re-enrolling, %d before" %
              (rnd, person, len(f["faces"]), before))
        by_person[person] = len(f["faces"])
        if "image_id" in j:
            present[path] = (person, j["image_id"])
    srv.send_signal(signal.SIGTERM)
    check(srv.wait(timeout=120) == 0, "round %d: the restarted server's exit after SIGTERM" % rnd)


# two kills at different points of the stream: more chances to land inside a commit
kill_round(1, 6)
kill_round(2, 11)
r = subprocess.run([BIN, "gallery", "--gallery", gallery, "check"], capture_output=True, text=True, env=env)
check(r.returncode == 0, "gallery check at the end: exit %d: %s" % (r.returncode, r.stderr))
print("%d checks, %d failed" % (checks, failures))
sys.exit(1 if failures else 0)
