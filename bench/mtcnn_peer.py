#!/usr/bin/python3
"""MTCNN peer for bench_mtcnn: facenet-pytorch's detect_face re-implemented in
plain PyTorch (torchvision is not needed; its NMS is reproduced here).

Written from the algorithm's description to measure the C detector against
the reference in the same run, and to debug parity stage by stage.

  mtcnn_peer.py time SHARED [--threads 2] [--reps 5]   timings, key=value lines
  mtcnn_peer.py big SHARED [--threads 2]      12000x8000 image: time, peak RSS
  mtcnn_peer.py detect SHARED IMAGE...|@LIST  detections as JSON lines
  mtcnn_peer.py refine SHARED IMAGE X1 Y1 X2 Y2  O-Net alone on one box
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 3)
        self.prelu1 = nn.PReLU(10)
        self.conv2 = nn.Conv2d(10, 16, 3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, 3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = F.max_pool2d(self.prelu1(self.conv1(x)), 2, 2, ceil_mode=True)
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), F.softmax(self.conv4_1(x), dim=1)


class RNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, 3)
        self.prelu1 = nn.PReLU(28)
        self.conv2 = nn.Conv2d(28, 48, 3)
        self.prelu2 = nn.PReLU(48)
        self.conv3 = nn.Conv2d(48, 64, 2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = F.max_pool2d(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = self.prelu3(self.conv3(x))
        x = x.permute(0, 3, 2, 1).contiguous().flatten(1)   # (W, H, C) order, as trained
        x = self.prelu4(self.dense4(x))
        return self.dense5_2(x), F.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.prelu1 = nn.PReLU(32)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.prelu2 = nn.PReLU(64)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.prelu3 = nn.PReLU(64)
        self.conv4 = nn.Conv2d(64, 128, 2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = F.max_pool2d(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = F.max_pool2d(self.prelu3(self.conv3(x)), 2, 2, ceil_mode=True)
        x = self.prelu4(self.conv4(x))
        x = x.permute(0, 3, 2, 1).contiguous().flatten(1)
        x = self.prelu5(self.dense5(x))
        return self.dense6_2(x), self.dense6_3(x), F.softmax(self.dense6_1(x), dim=1)


def load_nets(shared):
    nets = []
    for cls, name in ((PNet, "pnet"), (RNet, "rnet"), (ONet, "onet")):
        net = cls()
        net.load_state_dict(torch.load(os.path.join(shared, "fixtures/mtcnn", name + ".pt")))
        nets.append(net.eval())
    return nets


def nms_union(boxes, scores, thr):
    """torchvision.ops.nms semantics in float32: visit by descending score
    (ties: earlier first), areas without +1, drop IoU > thr."""
    b = boxes.numpy()
    s = scores.numpy()
    order = np.argsort(-s, kind="stable")
    x1, y1, x2, y2 = (b[order, k] for k in range(4))
    areas = (x2 - x1) * (y2 - y1)
    alive = np.ones(len(order), dtype=bool)
    keep = []
    for a in range(len(order)):
        if not alive[a]:
            continue
        keep.append(order[a])
        r = slice(a + 1, None)
        w = np.maximum(np.float32(0), np.minimum(x2[a], x2[r]) - np.maximum(x1[a], x1[r]))
        h = np.maximum(np.float32(0), np.minimum(y2[a], y2[r]) - np.maximum(y1[a], y1[r]))
        inter = w * h
        iou = inter / (areas[a] + areas[r] - inter)
        alive[r] &= ~(iou > thr)
    return torch.tensor(np.array(keep, dtype=np.int64))


def nms_min(boxes, scores, thr):
    """The reference's own numpy NMS with the 'Min' overlap (areas with +1)."""
    b = boxes.numpy()
    s = scores.numpy()
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(s)
    keep = []
    while order.size > 0:
        i = order[-1]
        keep.append(i)
        rest = order[:-1]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        o = w * h / np.minimum(area[i], area[rest])
        order = rest[np.where(o <= thr)]
    return torch.tensor(keep, dtype=torch.long)


def square(b):
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    side = torch.maximum(w, h)
    b[:, 0] = b[:, 0] + w * 0.5 - side * 0.5
    b[:, 1] = b[:, 1] + h * 0.5 - side * 0.5
    b[:, 2] = b[:, 0] + side
    b[:, 3] = b[:, 1] + side
    return b


def regress(b, reg):
    w = b[:, 2] - b[:, 0] + 1
    h = b[:, 3] - b[:, 1] + 1
    out = b.clone()
    out[:, 0] = b[:, 0] + reg[:, 0] * w
    out[:, 1] = b[:, 1] + reg[:, 1] * h
    out[:, 2] = b[:, 2] + reg[:, 2] * w
    out[:, 3] = b[:, 3] + reg[:, 3] * h
    return out


def crops(img, boxes, size):
    """Integer crop windows as the reference's pad(): truncate, clamp to 1..w/h."""
    h, w = img.shape[2:]
    ib = boxes[:, :4].trunc().int().numpy()
    out, kept = [], []
    for k, (x, y, ex, ey) in enumerate(ib):
        x, y, ex, ey = max(x, 1), max(y, 1), min(ex, w), min(ey, h)
        if ey > y - 1 and ex > x - 1:
            out.append(F.interpolate(img[:, :, y - 1:ey, x - 1:ex], size=(size, size), mode="area"))
            kept.append(k)
    return torch.cat(out) if out else None, kept


def detect(img_u8, nets, min_face=20.0, thr=(0.6, 0.7, 0.7), factor=0.709):
    pnet, rnet, onet = nets
    img = torch.as_tensor(img_u8).unsqueeze(0).permute(0, 3, 1, 2).float()
    h, w = img.shape[2:]
    m = 12.0 / min_face
    minl = min(h, w) * m
    scales, s = [], m
    while minl >= 12:
        scales.append(s)
        s *= factor
        minl *= factor
    props = []
    for scale in scales:
        x = F.interpolate(img, size=(int(h * scale + 1), int(w * scale + 1)), mode="area")
        reg, prob = pnet((x - 127.5) * 0.0078125)
        p = prob[0, 1]
        idx = (p >= thr[0]).nonzero()
        score = p[idx[:, 0], idx[:, 1]]
        r = reg[0][:, idx[:, 0], idx[:, 1]].t()
        bb = idx.float().flip(1)
        q1 = ((2 * bb + 1) / scale).floor()
        q2 = ((2 * bb + 12) / scale).floor()
        boxes = torch.cat([q1, q2, score[:, None], r], 1)
        props.append(boxes[nms_union(boxes[:, :4], boxes[:, 4], 0.5)])
    b = torch.cat(props)
    if len(b) == 0:
        return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)
    b = b[nms_union(b[:, :4], b[:, 4], 0.7)]
    rw = b[:, 2] - b[:, 0]
    rh = b[:, 3] - b[:, 1]
    b = torch.stack([b[:, 0] + b[:, 5] * rw, b[:, 1] + b[:, 6] * rh,
                     b[:, 2] + b[:, 7] * rw, b[:, 3] + b[:, 8] * rh, b[:, 4]], 1)
    b = square(b)

    data, kept = crops(img, b, 24)
    reg, prob = rnet((data - 127.5) * 0.0078125)
    b = b[kept]
    ok = prob[:, 1] > thr[1]
    b = torch.cat([b[ok, :4], prob[ok, 1:2]], 1)
    reg = reg[ok]
    keep = nms_union(b[:, :4], b[:, 4], 0.7)
    b = square(regress(b[keep], reg[keep]))
    if len(b) == 0:
        return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)

    data, kept = crops(img, b, 48)
    reg, pts, prob = onet((data - 127.5) * 0.0078125)
    b = b[kept]
    ok = prob[:, 1] > thr[2]
    b = torch.cat([b[ok, :4], prob[ok, 1:2]], 1)
    reg, pts = reg[ok], pts[ok]
    bw = b[:, 2] - b[:, 0] + 1
    bh = b[:, 3] - b[:, 1] + 1
    px = bw[:, None] * pts[:, :5] + b[:, 0:1] - 1
    py = bh[:, None] * pts[:, 5:] + b[:, 1:2] - 1
    pts = torch.stack([px, py], 2)
    b = regress(b, reg)
    keep = nms_min(b[:, :4], b[:, 4], 0.7)
    return b[keep].numpy(), pts[keep].numpy()


def refine(img_u8, nets, box):
    """O-Net on one box from elsewhere, squared as MTCNN squares candidates."""
    img = torch.as_tensor(img_u8).unsqueeze(0).permute(0, 3, 1, 2).float()
    b = square(torch.tensor([list(box) + [0.0]], dtype=torch.float32))
    data, kept = crops(img, b, 48)
    reg, pts, prob = nets[2]((data - 127.5) * 0.0078125)
    bw = b[:, 2] - b[:, 0] + 1
    bh = b[:, 3] - b[:, 1] + 1
    px = bw[:, None] * pts[:, :5] + b[:, 0:1] - 1
    py = bh[:, None] * pts[:, 5:] + b[:, 1:2] - 1
    out = regress(b, reg)
    return out[0, :4].tolist(), float(prob[0, 1]), torch.stack([px, py], 2)[0].tolist()


def load_rgb(path):
    return resized(path)


def cmd_detect(shared, paths):
    if paths and paths[0].startswith("@"):   # @file: one image path per line
        paths = open(paths[0][1:]).read().splitlines()
    nets = load_nets(shared)
    with torch.no_grad():
        for p in paths:
            b, pts = detect(load_rgb(p), nets)
            print(json.dumps({"file": p, "faces": [
                {"box": [float(v) for v in b[i, :4]], "prob": float(b[i, 4]),
                 "landmarks": pts[i].tolist()} for i in range(len(b))]}))


def best_of(fn, reps):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def resized(path, size=None, short=None):
    im = Image.open(path).convert("RGB")
    if short:
        f = short / min(im.size)
        size = (round(im.size[0] * f), round(im.size[1] * f))
    if size:
        im = im.resize(size, Image.BILINEAR)
    return np.array(im, dtype=np.uint8)


def cmd_time(shared, threads, reps):
    """The cases bench_mtcnn.c measures, as key=value lines."""
    torch.set_num_threads(threads)
    nets = load_nets(shared)
    fx = os.path.join(shared, "fixtures/images")
    total = 0.0
    with torch.no_grad():
        for name in ("angelina_jolie", "kate_siegel", "paul_rudd", "shea_whigham"):
            img = resized(os.path.join(fx, name + ".jpg"), short=512)
            detect(img, nets)
            t = best_of(lambda: detect(img, nets), reps)
            total += t
            print("portrait512_%s_ms=%.2f  (%dx%d, %d faces)" % (name, t * 1e3, img.shape[1], img.shape[0],
                                                                 len(detect(img, nets)[0])))
        print("portrait512_mean_ms=%.2f" % (total / 4 * 1e3))
        img = resized(os.path.join(fx, "multiface.jpg"))
        detect(img, nets)
        t = best_of(lambda: detect(img, nets), reps)
        print("multiface_ms=%.2f  (%dx%d, %d faces)" % (t * 1e3, img.shape[1], img.shape[0], len(detect(img, nets)[0])))
        img = resized(os.path.join(fx, "multiface.jpg"), size=(1920, 1080))
        detect(img, nets)
        t = best_of(lambda: detect(img, nets), max(1, reps // 2))
        n = len(detect(img, nets)[0])
        print("frame1080_ms=%.2f  (%d faces)" % (t * 1e3, n))
        print("frame1080_frames_per_s=%.2f" % (1.0 / t))
        print("frame1080_detections_per_s=%.1f" % (n / t))


def cmd_big(shared, threads):
    """One detection on a 12000x8000 image; peak RSS of the whole process."""
    import resource
    torch.set_num_threads(threads)
    nets = load_nets(shared)
    img = resized(os.path.join(shared, "fixtures/images/multiface.jpg"), size=(12000, 8000))
    t0 = time.perf_counter()
    with torch.no_grad():
        n = len(detect(img, nets)[0])
    t = time.perf_counter() - t0
    print("big12000x8000_ms=%.0f  (%d faces)" % (t * 1e3, n))
    print("big12000x8000_peak_rss_mb=%.0f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    if argv[1] == "detect":
        cmd_detect(argv[2], argv[3:])
    elif argv[1] == "refine":
        with torch.no_grad():
            box, prob, pts = refine(load_rgb(argv[3]), load_nets(argv[2]), [float(v) for v in argv[4:8]])
        print(json.dumps({"box": box, "prob": prob, "landmarks": pts}))
    elif argv[1] in ("time", "big"):
        threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 2
        reps = int(argv[argv.index("--reps") + 1]) if "--reps" in argv else 5
        if argv[1] == "time":
            cmd_time(argv[2], threads, reps)
        else:
            cmd_big(argv[2], threads)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
