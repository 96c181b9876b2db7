#!/usr/bin/python3
"""Peer for bench/scan.sh: what facenet-pytorch users run over a photo
folder, MTCNN (bench/mtcnn_peer.py's detect_face, facenet-pytorch's
algorithm in plain PyTorch, its weights) then InceptionResnetV1
(bench/irv1_peer.py's network, the given checkpoint) on every face's
160x160 crop (facenet-pytorch's extract_face: box, PIL bilinear resize,
(x - 127.5) / 128), at full resolution, torch on 2 threads.

  scan_peer.py SHARED CHECKPOINT.pt LIST   (LIST: one image path a line)
prints images=, faces=, seconds=, images_per_s= lines.
"""
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irv1_peer  # noqa: E402
import mtcnn_peer  # noqa: E402


def main():
    shared, ckpt, listing = sys.argv[1:4]
    torch.set_num_threads(2)
    nets = mtcnn_peer.load_nets(shared)
    model = irv1_peer.load(ckpt)
    paths = [p for p in open(listing).read().splitlines() if p]
    faces = 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for p in paths:
            im = Image.open(p).convert("RGB")
            boxes, _ = mtcnn_peer.detect(np.array(im, dtype=np.uint8), nets)
            if boxes is None or len(boxes) == 0:
                continue
            crops = []
            for b in boxes:
                box = [int(max(b[0], 0)), int(max(b[1], 0)), int(min(b[2], im.size[0])), int(min(b[3], im.size[1]))]
                c = im.crop(box).resize((160, 160), Image.BILINEAR)
                crops.append((np.asarray(c, dtype=np.float32) - 127.5) / 128.0)
            x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
            model(x)
            faces += len(crops)
    secs = time.perf_counter() - t0
    print(f"images={len(paths)}")
    print(f"faces={faces}")
    print(f"seconds={secs:.2f}")
    print(f"images_per_s={len(paths) / secs:.2f}")


if __name__ == "__main__":
    main()
