"""Reference statistics for `diffbench --quality fd`: mean and covariance of a data set's features.

    .venv/bin/python scripts/fd_stats.py --features models/digits/features.pt IMAGES -o stats.json

IMAGES is a folder of PNG files or an .npy array [N, C, H, W] (float in [-1, 1], or uint8 0-255).
The feature extractor is any TorchScript module forward(images [B, C, H, W] in [-1, 1]) -> [B, D]:
the shipped digit network, or an Inception-v3 pool-3 extractor traced on a machine that has one
(then the distance is FID, Heusel et al. 2017). Images are fed at their own size; resize them to
what the extractor expects first.

The file (docs/quality.md): JSON {"format": "diffbench-fd-stats", "version": 1, "description",
"feature_model_sha256", "n", "dim", "mean": [D], "cov": [D][D] (unbiased, N - 1), "floor":
[{"n", "fd"}] (optional: the FD between two real samples of n images, the best a generator can
hope for), "features_file": the reference images' own features as float32 .npy [N, D] beside the
JSON (KID compares samples, not moments)}.
"""
import argparse
import hashlib
import json
import os

import numpy as np

from diffbench_tools.cli import fail


def moments(features):
    f = np.asarray(features, dtype=np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def sqrtm_psd(a):
    """Square root of a symmetric positive semi-definite matrix (negative eigenvalues from rounding -> 0)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, s1, mu2, s2):
    """|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), all symmetric: never complex."""
    r1 = sqrtm_psd(s1)
    middle = r1 @ s2 @ r1
    w = np.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(np.clip(w, 0, None))))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def features_file_for(path):
    """The .npy beside a statistics file that holds its images' features: STEM-features.npy."""
    return os.path.splitext(os.path.basename(path))[0] + "-features.npy"


def write_features(path, features):
    """The reference features beside the statistics file `path`; returns the file's name."""
    name = features_file_for(path)
    target = os.path.join(os.path.dirname(os.path.abspath(path)), name)
    with open(target + ".tmp", "wb") as f:
        np.save(f, np.asarray(features, dtype=np.float32))
    os.replace(target + ".tmp", target)
    return name


def write(path, features, feature_model, description, floor=()):
    mu, cov = moments(features)
    doc = {"format": "diffbench-fd-stats", "version": 1, "description": description,
           "feature_model_sha256": sha256(feature_model), "n": int(len(features)), "dim": int(mu.size),
           "mean": mu.tolist(), "cov": cov.tolist(), "floor": list(floor),
           "features_file": write_features(path, features)}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def load_images(source):
    if os.path.isdir(source):
        from PIL import Image
        names = sorted(n for n in os.listdir(source) if n.lower().endswith(".png"))
        if not names:
            fail(f"no .png files in '{source}'")
        arrays = [np.asarray(Image.open(os.path.join(source, n))) for n in names]
        x = np.stack(arrays).astype(np.float32)
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        return x / 127.5 - 1
    x = np.load(source)
    if x.ndim != 4:
        fail(f"'{source}' has shape {x.shape}; expected [N, C, H, W]")
    return x.astype(np.float32) / 127.5 - 1 if x.dtype == np.uint8 else x.astype(np.float32)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", help="a folder of PNGs or an .npy [N, C, H, W]")
    p.add_argument("--features", required=True, help="TorchScript feature extractor")
    p.add_argument("-o", "--output", required=True, help="the statistics file (JSON)")
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--description", default="")
    a = p.parse_args()
    if not os.path.exists(a.images):
        fail(f"'{a.images}' does not exist")
    import torch

    from diffbench_tools import torchscript
    try:
        net = torchscript.load(a.features).eval()
    except (RuntimeError, ValueError, OSError) as e:
        fail(f"cannot load '{a.features}': {str(e).splitlines()[0]}")
    x = load_images(a.images)
    with torch.no_grad():
        feats = np.concatenate([net(torch.from_numpy(x[i:i + a.batch])).double().numpy()
                                for i in range(0, len(x), a.batch)])
    if len(feats) < 2:
        fail("at least 2 images are needed for a covariance")
    write(a.output, feats, a.features, a.description or os.path.basename(a.images.rstrip("/")))
    print(f"{a.output}: {len(feats)} images, {feats.shape[1]} features")

