"""Load client for bench/serve.sh: keep-alive HTTP/1.1 clients in threads
(http.client), each sending the next request when the last is answered.
Prints one JSON line per phase and the ratio against the CLI's one-shot
identify, measured here in the same run."""
import http.client, io, json, os, subprocess, sys, threading, time

from PIL import Image

port, pid, film, tmp, cli, models = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
DURATION = float(os.environ.get("DURATION", "60"))
PEERS = os.environ.get("PEERS", "1") != "0"   # PEERS=0: the server alone (trials)


def rss_mb(p=None):
    with open("/proc/%d/status" % (p or pid)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


def photo(path, size=(640, 480), quality=90, tweak=0):
    im = Image.open(path).convert("RGB")
    im.thumbnail(size)
    c = Image.new("RGB", size, (128 + tweak % 100, 128, 128))
    c.paste(im, ((size[0] - im.width) // 2, (size[1] - im.height) // 2))
    b = io.BytesIO()
    c.save(b, "JPEG", quality=quality)
    return b.getvalue()


person = sorted(os.listdir(os.path.join(film, "Predict")))[3]
src = os.path.join(film, "Predict", person, sorted(os.listdir(os.path.join(film, "Predict", person)))[0])
img = photo(src)
probe = os.path.join(tmp, "probe.jpg")
with open(probe, "wb") as f:
    f.write(img)
enrol_src = os.path.join(film, "Predict", sorted(os.listdir(os.path.join(film, "Predict")))[5])
enrol_src = os.path.join(enrol_src, sorted(os.listdir(enrol_src))[1])
enrols = [photo(enrol_src, tweak=i) for i in range(400)]   # distinct files: each enrolment adds a face


def cpu_s(p):
    """User + system CPU seconds of process p so far (/proc/PID/stat, all its threads)."""
    with open("/proc/%d/stat" % p) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def phase(name, clients, mix_enrol=0, path="/v1/identify", method="POST", body=img, duration=DURATION, to=None,
          pid_of=None, named=True):
    to = to or port
    if mix_enrol:   # .../faces adds to a person who exists (404 otherwise): make them first (409: already there)
        c = http.client.HTTPConnection("127.0.0.1", to, timeout=120)
        c.request("POST", "/v1/people?name=Bench%20Person", body=enrols[-1], headers={"Content-Type": "image/jpeg"})
        c.getresponse().read()
        c.close()
    lat, errors, counter = [], [0], [0]
    lock = threading.Lock()
    stop = time.time() + duration
    r0 = rss_mb(pid_of)
    c0 = cpu_s(pid_of or pid)

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", to, timeout=120)
        mine, errs = [], 0
        while time.time() < stop:
            with lock:
                k = counter[0]
                counter[0] += 1
            enrol = mix_enrol and k % mix_enrol == mix_enrol - 1
            p, b = ("/v1/people/Bench%20Person/faces", enrols[(k // mix_enrol) % len(enrols)]) if enrol else (path, body)
            t0 = time.perf_counter()
            try:
                conn.request(method, p, body=b, headers={"Content-Type": "image/jpeg"} if b else {})
                r = conn.getresponse()
                data = r.read()
                ok = r.status in (200, 201) and (enrol or method == "GET" or not named or b'"name":"%s"' % person.encode() in data)
            except Exception:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", to, timeout=120)
            mine.append(time.perf_counter() - t0)
            errs += not ok
        with lock:
            lat.extend(mine)
            errors[0] += errs

    t0 = time.time()
    ts = [threading.Thread(target=run) for _ in range(clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    wall = time.time() - t0
    cpu = cpu_s(pid_of or pid) - c0
    res = {"phase": name, "clients": clients, "seconds": round(wall, 1), "requests": len(lat),
           "requests_per_s": round(len(lat) / wall, 1), "p50_ms": round(1000 * pct(lat, 50), 1),
           "p95_ms": round(1000 * pct(lat, 95), 1), "p99_ms": round(1000 * pct(lat, 99), 1), "errors": errors[0],
           "server_cpu_ms_per_request": round(1000 * cpu / max(len(lat), 1), 1),
           "rss_start_mb": round(r0, 1), "rss_end_mb": round(rss_mb(pid_of), 1)}
    print(json.dumps(res), flush=True)
    return res


print("machine: %s, %d cores, load %s" % (open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": "),
                                          os.cpu_count(), open("/proc/loadavg").read().split()[0]))
phase("warm-up", 1, duration=2)
http_cost = phase("http overhead (GET /v1/health)", 1, path="/v1/health", method="GET", body=None, duration=3)
one = phase("identify", 1)
eight = phase("identify", 8)
phase("identify", 32)
for n in (1, 8, 32):
    phase("identify + enrol 1 in 10", n, mix_enrol=10)

print("serve identify, 8 clients: %.1f req/s, p99 %.0f ms, %.1f CPU-ms a request of the server's (the target on an idle "
      "machine: >= 50 req/s, p99 <= 200 ms)" % (eight["requests_per_s"], eight["p99_ms"], eight["server_cpu_ms_per_request"]))
if not PEERS:
    sys.exit(0)
# the peer: the CLI's one-shot identify, a process per photo, sequential
runs, t0 = 0, time.time()
cli_lat = []
while time.time() - t0 < min(DURATION, 15) or runs < 5:
    s = time.perf_counter()
    r = subprocess.run([cli, "identify", "--models-dir", models, "--gallery", os.path.join(tmp, "g.db"), "--json", probe],
                       capture_output=True, text=True)
    cli_lat.append(time.perf_counter() - s)
    runs += 1
    if r.returncode != 0 or person not in r.stdout:
        print("peer: the CLI failed: %s" % r.stderr)
cli_rate = runs / (time.time() - t0)
print(json.dumps({"phase": "peer: facenet identify one-shot (CLI process per photo)", "requests": runs,
                  "requests_per_s": round(cli_rate, 2), "p50_ms": round(1000 * pct(cli_lat, 50), 1)}))
# the Flask peer (bench/serve_peer.py), when bench/serve.sh could start it
peer = None
if os.environ.get("PEER_PORT"):
    pport, ppid = int(os.environ["PEER_PORT"]), int(os.environ["PEER_PID"])
    phase("peer warm-up", 1, path="/identify", duration=3, to=pport, pid_of=ppid, named=False)
    p1 = phase("peer: Flask + PyTorch MTCNN + InceptionResnetV1, identify", 1, path="/identify", to=pport, pid_of=ppid,
               named=False)
    p8 = phase("peer: Flask + PyTorch MTCNN + InceptionResnetV1, identify", 8, path="/identify", to=pport, pid_of=ppid,
               named=False)
    print("serve / Flask peer: %.1fx at 1 client, %.1fx at 8 clients (p99 %.0f ms vs %.0f ms); %.1fx less CPU a request "
          "at 8 clients (%.1f vs %.1f ms)"
          % (one["requests_per_s"] / max(p1["requests_per_s"], 1e-9), eight["requests_per_s"] / max(p8["requests_per_s"], 1e-9),
             eight["p99_ms"], p8["p99_ms"], p8["server_cpu_ms_per_request"] / max(eight["server_cpu_ms_per_request"], 1e-9),
             eight["server_cpu_ms_per_request"], p8["server_cpu_ms_per_request"]))
print("serve identify, 1 client: %.1f req/s = %.1fx the CLI's one-shot identify (%.2f req/s); 8 clients: %.1f req/s, "
      "p99 %.0f ms; HTTP's own cost %.2f ms a request" % (one["requests_per_s"], one["requests_per_s"] / cli_rate, cli_rate,
                                                         eight["requests_per_s"], eight["p99_ms"], http_cost["p50_ms"]))
