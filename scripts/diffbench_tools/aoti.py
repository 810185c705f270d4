"""AOTInductor packages (.pt2): the C++ form of torch.compile, written for diffbench.

A package is torch.export's graph compiled by Inductor to machine code for this machine's CPU (or
GPU) and its shapes, with diffbench's manifest inside (extra/diffbench.json, where a TorchScript
file has it). The manifest's "compiled" record says what diffbench may pass: each input's shape
(null for the batch dimension, which is dynamic: classifier-free guidance doubles it) and dtype,
the device, the CPU instruction set, the torch that compiled it and how long compiling took (cold:
Inductor's cache is private to the call). Needs torch 2.6 or later and a C++ compiler.

Compiled with Inductor's freezing (weights become constants, convolution and linear weights are
prepacked for oneDNN once): without it, on the SD-1.5-shaped UNet at 256 px on this CPU, a package
was 0.79x the eager trace's speed (each call re-laid its weights); with it, 1.20x (docs/optimisations.md).
"""
import json
import os
import re
import tempfile
import time

import torch

from diffbench_tools.cli import fail

DTYPE_NAMES = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16",
               torch.int64: "int64"}
FORMATS = ("torchscript", "aoti")


def parse_formats(text):
    """The exporters' --format: "torchscript", "aoti" or both comma-separated; one error line for an
    unknown name, or for aoti under a torch older than 2.6 (Debian's 1.13: use .venv/bin/python)."""
    formats = text.split(",")
    for name in formats:
        if name not in FORMATS:
            fail(f"--format: unknown format '{name}'; use {', '.join(FORMATS)}, or both comma-separated")
    if "aoti" in formats and tuple(int(p) for p in torch.__version__.split(".")[:2]) < (2, 6):
        fail(f"--format aoti needs torch 2.6 or later (.venv/bin/python); this is torch {torch.__version__}")
    return formats


def _torch_libraries_first():
    """Inductor links a package against -ltorch_cpu with Python's LIBDIR (/usr/lib/x86_64-linux-gnu
    on Debian) first on the library path, so Debian's libtorch-dev 1.13, when installed beside the
    wheel (diffbench's second build), shadows the wheel's libtorch_cpu: the link silently drops it,
    vectorised kernels cannot resolve their Sleef symbols, and Inductor falls back to scalar code
    (its ISA probe fails). Python's LIBDIR is not needed to link a package; leave it out."""
    import torch._inductor.cpp_builder as builder
    python_args = builder._get_python_related_args
    if getattr(python_args, "diffbench", False):
        return
    patched = lambda: (python_args()[0], [])  # noqa: E731
    patched.diffbench = True
    builder._get_python_related_args = patched


def _cpu_isa(device):
    if device != "cpu":
        return None
    from torch._inductor.cpu_vec_isa import pick_vec_isa
    isa = str(pick_vec_isa())
    with open("/proc/cpuinfo") as f:
        has_avx2 = re.search(r"\bavx2\b", f.read()) is not None
    if has_avx2 and "avx" not in isa:
        fail(f"Inductor found no vector instruction set on a CPU with AVX2 ('{isa}'): its probe build "
             "failed, and a package would run scalar code; check that g++ works and that no other "
             "libtorch_cpu.so shadows torch's own on the linker's path")
    return isa


def _batch_range(program):
    """The batch sizes the exported graph holds for (its first input's first dimension): [1, max],
    max None when unbounded. Export assumes a dynamic size is not 1 (it would specialise it), so its
    range starts at 2; the compiled code is general and runs batch 1 (the tests run it). A model
    that branches on the batch caps it: diffusers' upsampler takes another path at 64 and more."""
    sample = next(node for node in program.graph.nodes if node.op == "placeholder"
                  and node.meta.get("val") is not None and node.name not in program.graph_signature.inputs_to_parameters
                  and node.name not in program.graph_signature.inputs_to_buffers)
    size = sample.meta["val"].shape[0]
    if isinstance(size, int):
        return [size, size]
    from torch.utils._sympy.numbers import int_oo
    upper = program.range_constraints[size.node.expr].upper
    return [1, None if upper == int_oo else int(upper)]


def compile_package(model, example, path, manifest, batch_inputs=(0,)):
    """Export `model` on `example` (a tuple of tensors), with the first dimension of the inputs at
    `batch_inputs` dynamic, compile it with AOTInductor and write `path` (.pt2) holding `manifest`
    plus its "compiled" record. Returns the compile time in seconds."""
    from torch.export.pt2_archive._package import package_pt2
    _torch_libraries_first()
    device = str(example[0].device.type)
    isa = _cpu_isa(device)
    # An example batch of 1 would be specialised (torch.export treats sizes 0 and 1 as constants).
    example = tuple(x.expand(2, *x.shape[1:]).contiguous() if i in batch_inputs else x
                    for i, x in enumerate(example))
    auto = torch.export.Dim.AUTO  # the range the model allows, read back from the export
    dynamic = tuple({0: auto} if i in batch_inputs else None for i in range(len(example)))
    start = time.perf_counter()
    with torch.no_grad(), tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache  # cold: the compile time is the real one
        try:
            program = torch.export.export(model.eval(), example, dynamic_shapes=dynamic, strict=False)
            files = torch._inductor.aot_compile(program.module(), example,
                                                options={"aot_inductor.package": True, "freezing": True})
            seconds = time.perf_counter() - start
            inputs = [{"shape": [None if (i in batch_inputs and d == 0) else n for d, n in enumerate(x.shape)],
                       "dtype": DTYPE_NAMES[x.dtype]} for i, x in enumerate(example)]
            compiled = {"inputs": inputs, "batch": _batch_range(program), "device": device, "cpu_isa": isa,
                        "freezing": True, "torch": torch.__version__, "compile_s": round(seconds, 2)}
            package_pt2(path, aoti_files={"model": files},
                        extra_files={"diffbench.json": json.dumps({**manifest, "format": "aoti", "compiled": compiled},
                                                                  sort_keys=True)})
        finally:
            if old is None:
                os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
            else:
                os.environ["TORCHINDUCTOR_CACHE_DIR"] = old
    return seconds
