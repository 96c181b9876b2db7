#!/usr/bin/python3
"""make_seeds.py — writes the fuzz seed corpora: small valid inputs of every
format a fuzz target parses, one directory per target under OUT.

Run by scripts/fuzz-seeds.sh with Debian's /usr/bin/python3 (standard
library only).  Images and clips come from the ffmpeg CLI; .pt files are
written with the standard pickle/zipfile modules (stand-in 'torch' classes
give the same opcodes PyTorch's writer emits); the gallery uses the schema
copied out of src/gallery/gallery_open.c; the TFLite seed is the bundle's
pnet.tflite when MODELS has it, plus a minimal flatbuffer built here.
Nothing is taken from ../shared.  Usage: make_seeds.py OUT [MODELS]
"""
import collections, io, os, pickle, re, sqlite3, struct, subprocess, sys, types, zipfile

OUT = sys.argv[1]
MODELS = sys.argv[2] if len(sys.argv) > 2 else "models"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ffmpeg(args, path):
    r = subprocess.run(["ffmpeg", "-v", "error", "-y"] + args + [path],
                       stdin=subprocess.DEVNULL, capture_output=True)
    return r.returncode == 0 and os.path.exists(path)


# ---------------------------------------------------------------- images
def exif_app1(order, orientation):
    """APP1 segment with a TIFF header in byte order 'II' or 'MM' and one
    IFD0 entry: Orientation (0x0112, SHORT, 1)."""
    e = "<" if order == "II" else ">"
    tiff = order.encode() + struct.pack(e + "HI", 42, 8)
    tiff += struct.pack(e + "H", 1) + struct.pack(e + "HHI", 0x0112, 3, 1)
    tiff += struct.pack(e + "H", orientation) + b"\0\0" + struct.pack(e + "I", 0)
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def images(tmp):
    src = ["-f", "lavfi", "-i", "testsrc=size=12x8:rate=1", "-frames:v", "1"]
    jpegs = {}
    for pix in ["yuvj420p", "yuvj444p", "yuvj422p", "gray"]:
        p = os.path.join(tmp, pix + ".jpg")
        if ffmpeg(src + ["-pix_fmt", pix, "-q:v", "8"], p):
            jpegs[pix] = open(p, "rb").read()
            put("fuzz_image", "jpeg_" + pix + ".jpg", jpegs[pix])
    for pix in ["rgb24", "rgba", "gray", "ya8", "pal8", "gray16be", "rgb48be", "rgba64be", "monob"]:
        p = os.path.join(tmp, pix + ".png")
        if ffmpeg(src + ["-pix_fmt", pix], p):
            put("fuzz_image", "png_" + pix + ".png", open(p, "rb").read())
    base = jpegs.get("yuvj420p")
    if base:
        # EXIF orientation in both byte orders, right after SOI (before JFIF's APP0)
        for order in ("II", "MM"):
            for o in (1, 3, 6, 8) if order == "II" else (2, 5, 7):
                put("fuzz_image", "exif_%s_%d.jpg" % (order, o), base[:2] + exif_app1(order, o) + base[2:])
        put("fuzz_image", "truncated.jpg", base[: len(base) * 2 // 3])


# -------------------------------------------------------------------- .pt
def torch_standins():
    """Classes and functions whose pickled names are PyTorch's."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    torch._utils = utils

    class FloatStorage:
        pass
    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"

    def _rebuild_tensor_v2(*a):
        pass
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"

    def _rebuild_parameter(*a):
        pass
    _rebuild_parameter.__module__, _rebuild_parameter.__qualname__ = "torch._utils", "_rebuild_parameter"
    torch.FloatStorage = FloatStorage
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    utils._rebuild_parameter = _rebuild_parameter
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch


class Storage:
    def __init__(self, key, values):
        self.key, self.values = key, values


class Tensor:
    def __init__(self, storage, offset, size, stride, param=False):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())
        self.param = param

    def __reduce__(self):
        torch = sys.modules["torch"]
        t = (torch._utils._rebuild_tensor_v2, self.args)
        if self.param:
            return (torch._utils._rebuild_parameter, (PickledReduce(t), True, collections.OrderedDict()))
        return t


class PickledReduce:
    def __init__(self, r):
        self.r = r

    def __reduce__(self):
        return self.r


def pt_files():
    torch = torch_standins()
    a = Storage("0", [float(i) - 1.5 for i in range(6)])
    b = Storage("1", [0.25, -0.5, 4.0])
    sd = collections.OrderedDict()
    sd["conv.weight"] = Tensor(a, 0, [1, 2, 3], [6, 3, 1])
    sd["conv.bias"] = Tensor(b, 1, [2], [1])
    sd["prelu.weight"] = Tensor(b, 0, [3], [1], param=True)
    sd["view.weight"] = Tensor(a, 2, [2, 2], [1, 2])          # strided view of a shared storage

    def raw(s):
        return struct.pack("<%df" % len(s.values), *s.values)

    class ZipPickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", torch.FloatStorage, obj.key, "cpu", len(obj.values))
            return None

    class LegacyPickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", torch.FloatStorage, obj.key, "cpu", len(obj.values), None)
            return None

    for proto in (2, 4):
        f = io.BytesIO()
        ZipPickler(f, protocol=proto).dump(sd)
        z = io.BytesIO()
        with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("archive/data.pkl", f.getvalue())
            zf.writestr("archive/data/0", raw(a))
            zf.writestr("archive/data/1", raw(b))
            zf.writestr("archive/version", "3\n")
        put("fuzz_pt", "zip_proto%d.pt" % proto, z.getvalue())

    f = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True,
                 "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
    LegacyPickler(f, protocol=2).dump(sd)
    pickle.dump(["0", "1"], f, protocol=2)
    for s in (a, b):
        f.write(struct.pack("<q", len(s.values)) + raw(s))
    put("fuzz_pt", "legacy.pt", f.getvalue())
    empty = io.BytesIO()
    ZipPickler(empty, protocol=2).dump(collections.OrderedDict())
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("m/data.pkl", empty.getvalue())
    put("fuzz_pt", "zip_empty.pt", z.getvalue())


# ----------------------------------------------------------------- TFLite
class FB:
    """A tiny flatbuffer builder that lays tables out front to back (offsets
    forward only, as the format allows): enough for a minimal Model."""

    def __init__(self):
        self.b = bytearray()

    def align(self, n):
        while len(self.b) % n:
            self.b.append(0)

    def here(self):
        return len(self.b)


def tflite_minimal(w_shape=(2,)):
    """Model{version 3, operator_codes [ADD], subgraphs [{tensors [in(float32
    [1,2]), w(float32 [2], buffer 1), out], inputs [0], outputs [2],
    operators [ADD(0,1)->2]}], buffers [{}, {data 8 bytes}]} built by hand."""
    out = bytearray()
    fix = []   # (position of a uoffset, target label)
    labels = {}

    def u32(v):
        out.extend(struct.pack("<I", v))

    def i32(v):
        out.extend(struct.pack("<i", v))

    def ref(label):
        fix.append((len(out), label))
        u32(0)

    def label(name):
        while len(out) % 4:
            out.append(0)
        labels[name] = len(out)

    def table(name, fields):
        """fields: list of (kind, value) in field-id order; kind 'u32'/'i32'/'u8'/'ref'/None."""
        # vtable first, then the table (soffset back to it)
        while len(out) % 4:
            out.append(0)
        vt = len(out)
        n = len(fields)
        layout, off = [], 4
        for kind, _ in fields:
            if kind is None:
                layout.append(0)
            else:
                layout.append(off)
                off += 4
        out.extend(struct.pack("<HH", 4 + 2 * n, off))
        for o in layout:
            out.extend(struct.pack("<H", o))
        while len(out) % 4:
            out.append(0)
        labels[name] = len(out)
        out.extend(struct.pack("<i", len(out) - vt))
        for kind, v in fields:
            if kind in ("u32", "u8"):
                u32(v)
            elif kind == "i32":
                i32(v)
            elif kind == "ref":
                ref(v)

    def vec_refs(name, items):
        label(name)
        u32(len(items))
        for it in items:
            ref(it)

    def vec_i32(name, items):
        label(name)
        u32(len(items))
        for v in items:
            i32(v)

    def string(name, s):
        label(name)
        u32(len(s))
        out.extend(s.encode() + b"\0")

    def vec_bytes(name, data):
        while (len(out) + 4) % 16:
            out.append(0)
        labels[name] = len(out)
        u32(len(data))
        out.extend(data)

    out.extend(b"\0\0\0\0TFL3")     # root uoffset (fixed below), file identifier
    # Model fields: version, operator_codes, subgraphs, description, buffers
    table("model", [("u32", 3), ("ref", "opcodes"), ("ref", "subgraphs"), ("ref", "desc"), ("ref", "buffers")])
    vec_refs("opcodes", ["opc_add"])
    # OperatorCode: deprecated_builtin_code(byte), custom_code, version, builtin_code
    table("opc_add", [("u8", 0), (None, None), ("u32", 1), ("u32", 0)])
    vec_refs("subgraphs", ["sg"])
    # SubGraph: tensors, inputs, outputs, operators, name
    table("sg", [("ref", "tensors"), ("ref", "sg_in"), ("ref", "sg_out"), ("ref", "ops"), ("ref", "sg_name")])
    vec_refs("tensors", ["t_in", "t_w", "t_out"])
    # Tensor: shape, type, buffer, name
    table("t_in", [("ref", "shape_12"), ("u8", 0), ("u32", 0), ("ref", "n_in")])
    table("t_w", [("ref", "shape_2"), ("u8", 0), ("u32", 1), ("ref", "n_w")])
    table("t_out", [("ref", "shape_12"), ("u8", 0), ("u32", 0), ("ref", "n_out")])
    vec_i32("shape_12", [1, 2])
    vec_i32("shape_2", list(w_shape))
    string("n_in", "input")
    string("n_w", "layer/weight")
    string("n_out", "output")
    vec_i32("sg_in", [0])
    vec_i32("sg_out", [2])
    vec_refs("ops", ["op0"])
    # Operator: opcode_index, inputs, outputs
    table("op0", [("u32", 0), ("ref", "op_in"), ("ref", "op_out")])
    vec_i32("op_in", [0, 1])
    vec_i32("op_out", [2])
    string("sg_name", "main")
    string("desc", "facenet fuzz seed")
    vec_refs("buffers", ["buf0", "buf1"])
    table("buf0", [])
    table("buf1", [("ref", "buf1_data")])
    vec_bytes("buf1_data", struct.pack("<2f", 0.5, -2.0))
    for pos, lab in fix:
        struct.pack_into("<I", out, pos, labels[lab] - pos)
    struct.pack_into("<I", out, 0, labels["model"])
    return bytes(out)


def tflite_files():
    put("fuzz_tflite", "minimal.tflite", tflite_minimal())
    # Crash 5 (fuzz/README.md): a weight whose element count fits in int64
    # but times 4 bytes does not; the size check's message multiplied them.
    put("fuzz_tflite", "regress-shape-times-size-overflow.tflite", tflite_minimal((2147483647, 2147483647)))
    p = os.path.join(MODELS, "pnet.tflite")
    if os.path.exists(p):
        put("fuzz_tflite", "pnet.tflite", open(p, "rb").read())


# ------------------------------------------------------------------- Haar
def haar_files():
    src = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
    if not os.path.exists(src):
        return
    xml = open(src).read()
    body = xml[xml.index("<cascade"):]
    head, rest = body.split("<stages>", 1)
    stages_txt, feats_txt = rest.split("</stages>", 1)
    feats_body = feats_txt.split("<features>", 1)[1].split("</features>", 1)[0]
    stages = re.findall(r"<_>\s*<maxWeakCount>.*?</weakClassifiers></_>", stages_txt, re.S)
    feats = re.findall(r"<_>\s*<rects>.*?</rects>(?:\s*<tilted>\d</tilted>)?</_>", feats_body, re.S)
    for nstages in (1, 2):
        keep = stages[:nstages]
        used = [int(m) for s in keep for m in re.findall(r"<internalNodes>\s*\S+ \S+ (\d+)", s)]
        h = re.sub(r"<stageNum>\d+</stageNum>", "<stageNum>%d</stageNum>" % nstages, head)
        out = ('<?xml version="1.0"?>\n<opencv_storage>\n' + h + "<stages>\n" + "\n".join(keep) +
               "</stages>\n<features>\n" + "\n".join(feats[: max(used) + 1]) + "</features></cascade>\n</opencv_storage>\n")
        put("fuzz_haar", "frontal_%dstage.xml" % nstages, out.encode())


# ------------------------------------------------------------------ pairs
def pairs_files():
    v1 = "2\nAaron_Peirsol\t1\t2\nAbel_Pacheco\t1\t4\nAbdullah\t1\tAbel_Pacheco\t2\nAkhmed_Zakayev\t3\tAl_Gore\t1\n"
    v2 = "2 1\nA\t1\t2\nB\t1\tC\t2\nD\t3\t4\nE\t1\tF\t9999\n"
    put("fuzz_pairs", "view1.txt", v1.encode())
    put("fuzz_pairs", "view2.txt", v2.encode())
    put("fuzz_pairs", "view2_crlf.txt", v2.replace("\n", "\r\n").encode())


# ---------------------------------------------------------------- gallery
def gallery_files(tmp):
    c = open(os.path.join(ROOT, "src/gallery/gallery_open.c")).read()
    m = re.search(r"static const char \*SCHEMA =(.*?);\n", c, re.S)
    schema = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
    appid = int(re.search(r"FN_GALLERY_APP_ID (0x[0-9A-Fa-f]+)", open(os.path.join(ROOT, "src/gallery/gallery_impl.h")).read()).group(1), 16)
    for name, people, wal in (("gallery_empty.db", 0, False), ("gallery_3.db", 3, False), ("gallery_wal.db", 2, True)):
        p = os.path.join(tmp, name)
        if os.path.exists(p):
            os.remove(p)
        db = sqlite3.connect(p)
        db.execute("PRAGMA page_size = 512")
        db.executescript(schema)
        db.execute("PRAGMA application_id = %d" % appid)
        db.execute("PRAGMA user_version = 1")
        dim = 4
        for k, v in (("schema_version", "1"), ("model_id", "fuzz@sha256:00"), ("dim", str(dim)),
                     ("preprocess_id", "fuzz"), ("threshold", "1.1")):
            db.execute("INSERT INTO meta(key, value) VALUES(?, ?)", (k, v))
        img = 0
        for i in range(people):
            db.execute("INSERT INTO people(name) VALUES(?)", ("person %d" % i,))
            pid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
            for j in range(2):
                img += 1
                db.execute("INSERT INTO images(person_id, path, sha256, x1, y1, x2, y2, prob, added_at)"
                           " VALUES(?, ?, ?, 1, 2, 30, 40, 0.99, 1700000000)",
                           (pid, "p%d_%d.jpg" % (i, j), "%064x" % img))
                v = [0.0] * dim
                v[(i + j) % dim] = 1.0
                db.execute("INSERT INTO embeddings(image_id, vec) VALUES(?, ?)",
                           (img, struct.pack("<%df" % dim, *v)))
        db.commit()
        if wal:
            db.execute("PRAGMA journal_mode = WAL")
        db.close()
        put("fuzz_gallery", name, open(p, "rb").read())


# ------------------------------------------------------------------ cache
def cache_files(tmp):
    c = open(os.path.join(ROOT, "src/eval/cache.c")).read()
    m = re.search(r"static const char \*SCHEMA =(.*?);\n", c, re.S)
    schema = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
    appid = int(re.search(r"CACHE_APP_ID (0x[0-9A-Fa-f]+)", c).group(1), 16)
    ver = int(re.search(r"CACHE_VERSION (\d+)", c).group(1))
    p = os.path.join(tmp, "cache.db")
    if os.path.exists(p):
        os.remove(p)
    db = sqlite3.connect(p)
    db.execute("PRAGMA page_size = 512")
    db.executescript(schema)
    db.execute("PRAGMA application_id = %d" % appid)
    db.execute("PRAGMA user_version = %d" % ver)
    db.execute("INSERT INTO embedding VALUES ('k0', 'm', 1, 1, 2, 3, 4, 0.9, 4, ?)", (struct.pack("<4f", 0.5, 0.5, 0.5, 0.5),))
    db.execute("INSERT INTO embedding VALUES ('k1', 'm', 0, NULL, NULL, NULL, NULL, NULL, 0, NULL)")
    db.execute("INSERT INTO embedding VALUES ('k2', 'other', 1, 1, 2, 3, 4, 0.9, 2, ?)", (struct.pack("<2f", 1, 0),))
    db.commit()
    db.close()
    put("fuzz_cache", "cache.db", open(p, "rb").read())
    put("fuzz_cache", "empty", b"")


# ------------------------------------------------------------------ video
def video_files(tmp):
    src = ["-f", "lavfi", "-i", "testsrc=size=16x16:rate=5", "-frames:v", "2"]
    clips = [
        ("clip.mp4", ["-c:v", "mpeg4", "-q:v", "20"]),
        ("clip_h264.mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "45"]),
        ("clip_rot90.mp4", ["-c:v", "mpeg4", "-q:v", "20", "-metadata:s:v:0", "rotate=90"]),
        ("clip.mkv", ["-c:v", "mjpeg", "-q:v", "20"]),
        ("clip.avi", ["-c:v", "mjpeg", "-q:v", "20"]),
        ("clip.gif", []),
        ("clip.y4m", ["-pix_fmt", "yuv420p"]),
        ("clip.webm", ["-c:v", "libvpx", "-b:v", "20k"]),
    ]
    for name, args in clips:
        p = os.path.join(tmp, name)
        if ffmpeg(src + args, p):
            put("fuzz_video", name, open(p, "rb").read())


def multipart_files():
    """facenet serve's request bodies: the Content-Type line, then the body."""
    b = "fnB0undary"
    ct = "multipart/form-data; boundary=%s\n" % b
    one = ("--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
           "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xd9\r\n--%s--\r\n" % (b, b))
    two = ("--%s\r\nContent-Disposition: form-data; name=\"person\"\r\n\r\nAnn Lee\r\n"
           "--%s\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x.png\"\r\n\r\n\x89PNG\r\n--%s--\r\n" % (b, b, b))
    put("fuzz_multipart", "one_file.txt", (ct + one).encode("latin-1"))
    put("fuzz_multipart", "field_and_file.txt", (ct + two).encode("latin-1"))
    put("fuzz_multipart", "quoted_boundary.txt", ('multipart/form-data; boundary="%s"; charset=utf-8\n' % b + one).encode("latin-1"))
    put("fuzz_multipart", "truncated.txt", (ct + one[:-12]).encode("latin-1"))


def main():
    tmp = os.path.join(OUT, ".tmp")
    os.makedirs(tmp, exist_ok=True)
    images(tmp)
    pt_files()
    tflite_files()
    haar_files()
    pairs_files()
    gallery_files(tmp)
    cache_files(tmp)
    video_files(tmp)
    multipart_files()
    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    os.rmdir(tmp)
    for t in sorted(os.listdir(OUT)):
        n = len(os.listdir(os.path.join(OUT, t)))
        print("seeds: %-14s %d files" % (t, n))


main()
