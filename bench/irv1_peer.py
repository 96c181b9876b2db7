"""PyTorch peer for bench_irv1: InceptionResnetV1 written from facenet-pytorch's
published structure (our own definition), the same checkpoint, 2 threads.
Prints key=value lines like bench_irv1.  Usage: irv1_peer.py checkpoint.pt [iters]"""
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, k, s=1, p=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001, momentum=0.1)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Residual(nn.Module):
    def __init__(self, branches, cat, cout, scale, relu=True):
        super().__init__()
        for i, b in enumerate(branches):
            setattr(self, f"branch{i}", b)
        self.n = len(branches)
        self.conv2d = nn.Conv2d(cat, cout, 1)
        self.scale, self.relu = scale, relu

    def forward(self, x):
        out = torch.cat([getattr(self, f"branch{i}")(x) for i in range(self.n)], 1)
        out = self.conv2d(out) * self.scale + x
        return F.relu(out) if self.relu else out


def block35(scale):
    return Residual([BasicConv2d(256, 32, 1),
                     nn.Sequential(BasicConv2d(256, 32, 1), BasicConv2d(32, 32, 3, 1, 1)),
                     nn.Sequential(BasicConv2d(256, 32, 1), BasicConv2d(32, 32, 3, 1, 1), BasicConv2d(32, 32, 3, 1, 1))],
                    96, 256, scale)


def block17(scale):
    return Residual([BasicConv2d(896, 128, 1),
                     nn.Sequential(BasicConv2d(896, 128, 1), BasicConv2d(128, 128, (1, 7), 1, (0, 3)),
                                   BasicConv2d(128, 128, (7, 1), 1, (3, 0)))],
                    256, 896, scale)


def block8(scale, relu=True):
    return Residual([BasicConv2d(1792, 192, 1),
                     nn.Sequential(BasicConv2d(1792, 192, 1), BasicConv2d(192, 192, (1, 3), 1, (0, 1)),
                                   BasicConv2d(192, 192, (3, 1), 1, (1, 0)))],
                    384, 1792, scale, relu)


class Concat(nn.Module):
    def __init__(self, branches):
        super().__init__()
        for i, b in enumerate(branches):
            setattr(self, f"branch{i}", b)
        self.n = len(branches)

    def forward(self, x):
        return torch.cat([getattr(self, f"branch{i}")(x) for i in range(self.n)], 1)


class IRV1(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv2d_1a = BasicConv2d(3, 32, 3, 2)
        self.conv2d_2a = BasicConv2d(32, 32, 3)
        self.conv2d_2b = BasicConv2d(32, 64, 3, 1, 1)
        self.maxpool_3a = nn.MaxPool2d(3, 2)
        self.conv2d_3b = BasicConv2d(64, 80, 1)
        self.conv2d_4a = BasicConv2d(80, 192, 3)
        self.conv2d_4b = BasicConv2d(192, 256, 3, 2)
        self.repeat_1 = nn.Sequential(*[block35(0.17) for _ in range(5)])
        self.mixed_6a = Concat([BasicConv2d(256, 384, 3, 2),
                                nn.Sequential(BasicConv2d(256, 192, 1), BasicConv2d(192, 192, 3, 1, 1),
                                              BasicConv2d(192, 256, 3, 2)),
                                nn.MaxPool2d(3, 2)])
        self.repeat_2 = nn.Sequential(*[block17(0.10) for _ in range(10)])
        self.mixed_7a = Concat([nn.Sequential(BasicConv2d(896, 256, 1), BasicConv2d(256, 384, 3, 2)),
                                nn.Sequential(BasicConv2d(896, 256, 1), BasicConv2d(256, 256, 3, 2)),
                                nn.Sequential(BasicConv2d(896, 256, 1), BasicConv2d(256, 256, 3, 1, 1),
                                              BasicConv2d(256, 256, 3, 2)),
                                nn.MaxPool2d(3, 2)])
        self.repeat_3 = nn.Sequential(*[block8(0.20) for _ in range(5)])
        self.block8 = block8(1.0, relu=False)
        self.last_linear = nn.Linear(1792, 512, bias=False)
        self.last_bn = nn.BatchNorm1d(512, eps=0.001, momentum=0.1)
        self.logits = nn.Linear(512, classes)

    def forward(self, x):
        for name in ["conv2d_1a", "conv2d_2a", "conv2d_2b", "maxpool_3a", "conv2d_3b", "conv2d_4a", "conv2d_4b",
                     "repeat_1", "mixed_6a", "repeat_2", "mixed_7a", "repeat_3", "block8"]:
            x = getattr(self, name)(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.normalize(self.last_bn(self.last_linear(x)), p=2, dim=1)


def load(path):
    """The model of a facenet-pytorch checkpoint, in eval mode (the peers' one loader)."""
    sd = torch.load(path)
    model = IRV1(sd["logits.weight"].shape[0])
    model.load_state_dict(sd)
    return model.eval()


def main():
    path, iters = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    model = load(path)
    load_ms = (time.perf_counter() - t0) * 1e3
    torch.manual_seed(0)
    x = torch.rand(16, 3, 160, 160) * 2 - 1
    res = {}
    with torch.no_grad():
        for b, n in ((1, iters), (16, max(1, iters // 3))):
            model(x[:b])
            best = 1e30
            for _ in range(n):
                t = time.perf_counter()
                model(x[:b])
                best = min(best, (time.perf_counter() - t) * 1e3 / b)
            res[b] = best
    print(f"load_ms={load_ms:.1f}")
    print(f"batch1_ms_per_face={res[1]:.2f}")
    print(f"batch16_ms_per_face={res[16]:.2f}")
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    main()
