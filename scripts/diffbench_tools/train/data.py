"""Check the committed digits and print what they hold.

    .venv/bin/python scripts/train.py data

The digits are a file of the repository (datasets/mnist-10k.npz, datasets/README.md): nothing is
fetched. This stage checks the file's SHA-256, that it reproduces the 600 digits of the npm
package's set kept in tests/data/digits_quick.npz, and prints the count per class.
"""
import argparse
import hashlib

import numpy as np

from diffbench_tools.train import common


def check():
    """The committed digits, checked: their hash, and the npm-era sample at its seeded indices."""
    with open(common.DIGITS, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != common.DIGITS_SHA256:
        common.fail(f"{common.DIGITS} has SHA-256 {digest}, not {common.DIGITS_SHA256}: restore it with git")
    images, labels = common.load_digits()
    order = np.random.RandomState(common.SPLIT_SEED).permutation(len(images))
    pick = np.concatenate([order[:400], order[common.N_TRAIN:common.N_TRAIN + 200]])
    with np.load(common.NPM_SAMPLE) as z:
        if not (np.array_equal(images[pick], z["images"]) and np.array_equal(labels[pick], z["labels"])):
            common.fail(f"{common.DIGITS} does not reproduce the npm set's sample {common.NPM_SAMPLE}")
    return images, labels


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    images, labels = check()
    counts = np.bincount(labels, minlength=10)
    print(f"{len(images)} digits in {common.DIGITS}, SHA-256 as committed, the npm set's 600-digit sample "
          f"reproduced; per class: {counts.tolist()}")
