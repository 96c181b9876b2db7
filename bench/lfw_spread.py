#!/usr/bin/python3
# bench/gallery.sh runs this when ../shared and the embedding cache are there
# (the cache is filled by `facenet eval-pairs` / `eval-cluster` on LFW).
# Same-person and different-person distances of MobileFaceNet embeddings of
# LFW's dev-view images, read from facenet's embedding cache (keyed by the
# file's SHA-256), against the synthetic model (centre + s N(0, I/d)).
import hashlib, os, sqlite3, sys, numpy as np
root = sys.argv[1]; db = sys.argv[2]
con = sqlite3.connect(db)
rows = {}
for k, m, hf, dim, vec in con.execute("select key, model, has_face, dim, vec from embedding where dim=192 and has_face=1"):
    rows[k.split('|')[0]] = np.frombuffer(vec, dtype=np.float32)
X, P = [], []
for person in sorted(os.listdir(root)):
    for f in sorted(os.listdir(os.path.join(root, person))):
        h = hashlib.sha256(open(os.path.join(root, person, f), 'rb').read()).hexdigest()
        if h in rows: X.append(rows[h]); P.append(person)
X = np.array(X); X /= np.linalg.norm(X, axis=1, keepdims=True); P = np.array(P)
d = np.sqrt(np.maximum(0, 2 - 2 * X @ X.T)); same = P[:, None] == P[None, :]; iu = np.triu_indices(len(X), 1)
g = d[iu][same[iu]]; im = d[iu][~same[iu]]
print(f"LFW dev view, MobileFaceNet: {len(X)} embeddings of {len(set(P))} people; same person: mean {g.mean():.3f}, "
      f"median {np.median(g):.3f}, 10-90% {np.percentile(g,10):.3f}-{np.percentile(g,90):.3f} ({len(g)} pairs); "
      f"different: mean {im.mean():.3f}, 1% {np.percentile(im,1):.3f}, min {im.min():.3f} ({len(im)} pairs)")
# the nearest other person of each face (what a gallery's second person is)
dd = d.copy(); dd[same] = 9
print(f"nearest other person per face: median {np.median(dd.min(1)):.3f}, 1% {np.percentile(dd.min(1),1):.3f}")
for s in (0.6, 0.75, 0.9):
    print(f"synthetic spread {s}: same person {np.sqrt(2)*s/np.sqrt(1+s*s):.3f}, different 1.414")
# argv[3] (bench/gallery.sh): the embeddings for bench_gallery --real, as
# int32 n, int32 d, then n x d float32, then n int32 person numbers.
if len(sys.argv) > 3:
    people = {p: i for i, p in enumerate(sorted(set(P)))}
    with open(sys.argv[3], 'wb') as f:
        f.write(np.array([len(X), X.shape[1]], dtype=np.int32).tobytes())
        f.write(X.astype(np.float32).tobytes())
        f.write(np.array([people[p] for p in P], dtype=np.int32).tobytes())
