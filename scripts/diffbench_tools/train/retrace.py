"""Re-trace the shipped digit UNets (teacher and students) from their own weights with the current
DigitUNet code, keeping each file's manifest. Used when the model's code changes in a way that does
not change its weights or its float32 outputs (checked here: outputs equal to the old file's).

    /usr/bin/python3 scripts/train.py retrace models/digits/unet.pt models/digits/lcm.pt models/digits/turbo.pt
"""
import argparse

import torch

from diffbench_tools import torchscript
from diffbench_tools.cli import fail
from diffbench_tools.train import teacher


def retrace(path):
    files = {"diffbench.json": ""}
    old = torchscript.load(path, _extra_files=files).eval()
    net = teacher.DigitUNet()
    net.load_state_dict(old.state_dict(), strict=True)
    net.eval()
    examples = (torch.zeros(10, 4, 8, 8), torch.tensor(999), torch.zeros(10, 1, teacher.CONTEXT_DIM))
    with torch.no_grad():
        traced = torch.jit.trace(net, examples, check_trace=False)
        g = torch.Generator().manual_seed(0)
        x, c = torch.randn(3, 4, 8, 8, generator=g), torch.randn(3, 1, teacher.CONTEXT_DIM, generator=g)
        for t in (torch.tensor(999), torch.tensor([1, 500, 999])):
            if not torch.equal(old(x, t, c), traced(x, t, c)):
                fail(f"{path}: the re-traced model's float32 output differs from the file's; not written")
    torch.jit.save(traced, path, _extra_files={"diffbench.json": files["diffbench.json"]})
    saved = torchscript.load(path).eval()
    with torch.no_grad():
        if not torch.equal(old(x, t, c), saved(x, t, c)):
            fail(f"{path}: the saved model's float32 output differs from the old file's")
        saved.to(torch.bfloat16)(x.bfloat16(), t, c.bfloat16())  # runs in bf16 after .to(dtype)
    print(f"{path}: re-traced, float32 outputs unchanged, runs in bf16")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    for path in p.parse_args().models:
        retrace(path)

