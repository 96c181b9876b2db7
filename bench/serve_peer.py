#!/usr/bin/python3
"""The peer of bench/serve.sh: what people run today, a Flask server (Debian
python3-flask) around PyTorch MTCNN + InceptionResnetV1 (the repository's
own PyTorch definitions, bench/mtcnn_peer.py and bench/irv1_peer.py, with the
MTCNN fixtures' weights and the random-weight InceptionResnetV1 checkpoint of
../shared: the names are meaningless, the work per request is the real one).

POST /identify with a JPEG body: detect, crop each face to 160 px
(facenet-pytorch's extract_face without margin), standardise, embed in one
batch, nearest of 10 gallery vectors.  Usage: serve_peer.py SHARED PORT IRV1.pt"""
import io, os, sys, threading

import numpy as np
import torch
from flask import Flask, jsonify, request
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irv1_peer  # noqa: E402
import mtcnn_peer  # noqa: E402

shared, port, ckpt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(2)
nets = mtcnn_peer.load_nets(shared)
model = irv1_peer.load(ckpt)
gallery = torch.nn.functional.normalize(torch.randn(10, 512, generator=torch.Generator().manual_seed(0)), dim=1)
lock = threading.Lock()   # one PyTorch model: requests take turns, as a simple Flask deployment does
app = Flask(__name__)


@app.post("/identify")
def identify():
    try:
        img = Image.open(io.BytesIO(request.get_data())).convert("RGB")
    except Exception as e:
        return jsonify(error=str(e)), 400
    arr = np.asarray(img)
    with lock, torch.no_grad():
        boxes = mtcnn_peer.detect(arr, nets)[0]
        faces = []
        for b in boxes[:, :4].tolist() if len(boxes) else []:
            crop = img.crop(tuple(int(round(v)) for v in b)).resize((160, 160), Image.BILINEAR)
            faces.append((torch.as_tensor(np.asarray(crop)).permute(2, 0, 1).float() - 127.5) / 128.0)
        out = []
        if faces:
            emb = model(torch.stack(faces))
            d = torch.cdist(emb, gallery)
            for k in range(len(faces)):
                j = int(d[k].argmin())
                out.append({"box": boxes[k, :4].tolist(), "name": "person %d" % j, "distance": float(d[k, j])})
    return jsonify(faces=out)


@app.get("/health")
def health():
    return jsonify(status="ok")


if __name__ == "__main__":
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print("peer listening on %d" % port, file=sys.stderr, flush=True)
    app.run("127.0.0.1", port, threaded=True)
