#!/usr/bin/python3
"""The Python API against facenet-pytorch's pipeline, in the same run (issue
"import facenet": the ratio a notebook user sees).  Both sides detect every
face of each photo with MTCNN (facenet-pytorch's weights, fixtures/mtcnn) and
embed every face with InceptionResnetV1 (the same checkpoint); loading is not
timed; 2 threads each.  The PyTorch side is facenet-pytorch's detect_face and
extract_face (box crop, margin 0, resized to 160, standardised) written from
their description in bench/mtcnn_peer.py and bench/irv1_peer.py, since the
package itself cannot be installed here.
  python_torch_peer.py facenet|torch SHARED CHECKPOINT.pt PHOTO_DIR [LIMIT]
Prints "seconds=S faces=N photos=P".  LIMIT: the first LIMIT photos only.
With BATCH=N (bench/bulk.sh's enrolment peer) the PyTorch side embeds the
crops of many photos N at a time, as facenet-pytorch's README does for a
folder (detection stays per photo: MTCNN batches only same-size images)."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
side, shared, ckpt, photos = sys.argv[1:5]
files = []
for root, dirs, names in os.walk(photos, followlinks=True):
    dirs.sort()
    files += [os.path.join(root, n) for n in sorted(names) if n.lower().endswith((".jpg", ".jpeg", ".png"))]
if len(sys.argv) > 5:
    files = files[:int(sys.argv[5])]
batch = int(os.environ.get("BATCH", "0"))

if side == "facenet":
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    import facenet
    e = facenet.Engine(model=ckpt, mtcnn_dir=os.path.join(shared, "fixtures/mtcnn"), threads=2)
    imgs = [facenet.load_image(f) for f in files]
    e.embed(imgs[0])   # warm-up, as the peer's first call
    t0 = time.monotonic()
    faces = sum(len(e.embed(im)) for im in imgs)
    t1 = time.monotonic()
else:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image
    sys.path.insert(0, HERE)
    import irv1_peer
    import mtcnn_peer
    torch.set_num_threads(2)
    nets = mtcnn_peer.load_nets(shared)
    model = irv1_peer.load(ckpt)
    imgs = [Image.open(f).convert("RGB") for f in files]

    def crops_of(im):
        # extract_face: crop the box (clamped to the image), PIL bilinear resize to 160
        boxes, _ = mtcnn_peer.detect(np.array(im), nets)
        out = []
        for b in boxes:
            box = [int(max(b[0], 0)), int(max(b[1], 0)), int(min(b[2], im.size[0])), int(min(b[3], im.size[1]))]
            c = np.asarray(im.crop(box).resize((160, 160), Image.BILINEAR), np.float32)
            out.append(torch.from_numpy(c).permute(2, 0, 1))
        return out

    def embed(crops):   # (x - 127.5) / 128, as fixed_image_standardization
        return len(model((torch.stack(crops) - 127.5) / 128.0)) if crops else 0

    def run(im):
        return embed(crops_of(im))

    def run_batched(ims):
        pending, n = [], 0
        for im in ims:
            pending += crops_of(im)
            while len(pending) >= batch:
                n += embed(pending[:batch])
                pending = pending[batch:]
        return n + embed(pending)

    with torch.no_grad():
        run(imgs[0])
        t0 = time.monotonic()
        faces = run_batched(imgs) if batch > 0 else sum(run(im) for im in imgs)
        t1 = time.monotonic()
print(f"seconds={t1 - t0:.4f} faces={faces} photos={len(files)}")
