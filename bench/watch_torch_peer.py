#!/usr/bin/python3
"""facenet-pytorch's way through a video, the peer of `facenet watch` on the
same clip (issue "every front end as fast as the engine").  facenet-pytorch
has no tracker: its video example runs MTCNN on frames and embeds the faces
it finds.  Here MTCNN (facenet-pytorch's weights, fixtures/mtcnn; min face
20, its default) runs on every EVERY-th frame at full resolution, and every
face found is cropped as extract_face does (box, margin 0, 160x160) and
embedded by InceptionResnetV1 (the checkpoint given), all faces of a frame
in one batch.  Frames come from ffmpeg as raw RGB, decoding included in the
time, as the watcher's is.  The nets are facenet-pytorch's, written from its
description in bench/mtcnn_peer.py and bench/irv1_peer.py (the package
cannot be installed here).
  watch_torch_peer.py SHARED CHECKPOINT.pt CLIP THREADS [EVERY=5] [MAX_FRAMES]
Prints "fps=F frames=N detections=D faces=K seconds=S"."""
import os
import subprocess
import sys
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import irv1_peer  # noqa: E402
import mtcnn_peer  # noqa: E402


def frames(clip, limit):
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", clip],
                           capture_output=True, text=True, check=True).stdout.strip().split(",")
    w, h = int(probe[0]), int(probe[1])
    p = subprocess.Popen(["ffmpeg", "-v", "quiet", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         stdout=subprocess.PIPE)
    n = 0
    while limit <= 0 or n < limit:
        buf = p.stdout.read(w * h * 3)
        if len(buf) < w * h * 3:
            break
        n += 1
        yield np.frombuffer(buf, np.uint8).reshape(h, w, 3).copy()
    p.terminate()
    p.stdout.close()
    p.wait()


def main(argv):
    shared, ckpt, clip, threads = argv[1], argv[2], argv[3], int(argv[4])
    every = int(argv[5]) if len(argv) > 5 else 5
    limit = int(argv[6]) if len(argv) > 6 else 0
    torch.set_num_threads(threads)
    nets = mtcnn_peer.load_nets(shared)
    model = irv1_peer.load(ckpt)
    n = dets = faces = 0
    with torch.no_grad():
        t0 = time.monotonic()
        for i, rgb in enumerate(frames(clip, limit)):
            n += 1
            if i % every:
                continue
            dets += 1
            boxes, _ = mtcnn_peer.detect(rgb, nets)
            if len(boxes) == 0:
                continue
            im = Image.fromarray(rgb)
            crops = []
            for b in boxes:
                box = [int(max(b[0], 0)), int(max(b[1], 0)), int(min(b[2], im.size[0])), int(min(b[3], im.size[1]))]
                c = np.asarray(im.crop(box).resize((160, 160), Image.BILINEAR), np.float32)
                crops.append(torch.from_numpy(c).permute(2, 0, 1))
            faces += len(model((torch.stack(crops) - 127.5) / 128.0))
        secs = time.monotonic() - t0
    print("fps=%.2f frames=%d detections=%d faces=%d seconds=%.2f" % (n / secs, n, dets, faces, secs))


if __name__ == "__main__":
    main(sys.argv)
