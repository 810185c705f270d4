"""TorchScript files loaded in Python as diffbench's C++ runs them: with TorchScript's CPU fusion
off. Debian's torch 2.6 compiles fused CPU kernels through LLVM on a loaded model's second call,
which for the digit UNet took more than 5 minutes on the 2-core VM (then 0.06 s a call without
fusion; torch 1.13 does not fuse on the CPU). The C++ side turns it off in
src/models/torch_runtime.cpp."""
import torch


def load(path, **kwargs):
    """torch.jit.load(path, **kwargs), with CPU fusion off for the process."""
    torch._C._jit_override_can_fuse_on_cpu(False)
    return torch.jit.load(path, **kwargs)
