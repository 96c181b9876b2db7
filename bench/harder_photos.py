"""Harder photos from LFW's development images, for bench/cluster_hard.sh.

Each image gets faults real photos have: reduced to a 70-110 px square
(faces of 30-45 px), JPEG quality 10-25, Gaussian blur (sigma 1.5-2.5 at
250 px), darkened to 30-50 % brightness, the top 28-36 % cut off (the eyes
at the frame's edge, as in Film's Hritik Roshan 3.jpg), or turned 15-30
degrees.  MODE is one of those (small, jpeg, blur, dark, cut, rot) for
every image, or mix2: two of them drawn per image.  The draw is seeded by
the file name, so every run makes the same bytes (and the embedding cache
holds).  Usage: harder_photos.py SRC DST MODE  (SRC/<person>/*.jpg).
PIL is a bench and test fixture tool here, never a runtime dependency.
"""
import hashlib
import os
import random
import sys

from PIL import Image, ImageEnhance, ImageFilter

KINDS = ['small', 'jpeg', 'blur', 'dark', 'cut', 'rot']


def degrade(im, kinds, rnd):
    quality = 90
    for k in kinds:
        if k == 'small':
            s = rnd.randint(70, 110)
            im = im.resize((s, s), Image.BILINEAR)
        elif k == 'jpeg':
            quality = rnd.randint(10, 25)
        elif k == 'blur':
            im = im.filter(ImageFilter.GaussianBlur(rnd.uniform(1.5, 2.5) * im.size[0] / 250))
        elif k == 'dark':
            im = ImageEnhance.Brightness(im).enhance(rnd.uniform(0.3, 0.5))
        elif k == 'cut':
            w, h = im.size
            im = im.crop((0, int(h * rnd.uniform(0.28, 0.36)), w, h))
        elif k == 'rot':
            im = im.rotate(rnd.choice([-1, 1]) * rnd.uniform(15, 30), resample=Image.BILINEAR)
    return im, quality


def main():
    src, dst, mode = sys.argv[1:4]
    if mode not in KINDS + ['mix2']:
        sys.exit("harder_photos.py: mode %r is none of %s" % (mode, ' '.join(KINDS + ['mix2'])))
    for person in sorted(os.listdir(src)):
        os.makedirs(os.path.join(dst, person), exist_ok=True)
        for f in sorted(os.listdir(os.path.join(src, person))):
            rnd = random.Random(int(hashlib.md5(f.encode()).hexdigest()[:8], 16))
            im = Image.open(os.path.join(src, person, f)).convert('RGB')
            im, q = degrade(im, rnd.sample(KINDS, 2) if mode == 'mix2' else [mode], rnd)
            im.save(os.path.join(dst, person, f), quality=q)


if __name__ == '__main__':
    main()
