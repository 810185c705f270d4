#!/usr/bin/env python3
"""The GPU proof kit (issue #26, part 3): build diffbench with CUDA on the GPU machine, run its
tests, check CUDA latents against CPU (and the CPU build against diffusers) for every sampler, and
time the optimisation ladder on the default model and an SD-1.5-shaped UNet; a JSON and Markdown
summary under OUT. bench/gpu/README.md says how to call it with the device tool.

    bench/gpu/kit.py prepare [--kit .gpu-kit]          here: the dependencies that must travel
    bench/gpu/kit.py run [--steps a,b] [--out $OUT]    there: each step, then the summary
    bench/gpu/kit.py run --dry-run --out DIR           here, no GPU: every step on the CPU

The GPU machine has torch, CMake, ninja and nvcc but no Debian packages and no diffusers: `prepare`
copies fmt, nlohmann/json, CLI11 and stb (header-only), GoogleTest's source and the pinned diffusers
package of .venv/ into an ignored folder that the device call carries. Both builds, the dry run's
here and the GPU machine's, are CI's main build: pip's LibTorch with CUDA (scripts/setup.sh). Each step has a time budget, records its
result in BUILD/kit-steps/STEP.json (so a second call on the warm machine can run the rest) and
never stops the others; the summary holds every step recorded so far. Exit 0 when every step that
ran passed, 1 otherwise.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import kit_steps  # beside this script, which Python puts first on the path: the steps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HEADERS = ["fmt", "nlohmann", "CLI", "stb"]
STEPS = ["build", "suite", "latents", "timing", "diffusers", "ladder-default", "ladder-sd15"]


def diffusers_ignore(folder, names):
    """What the kit leaves out of diffusers: caches, tests and docs, and the pipelines' own folders
    (the kit uses models and schedulers only), so that the tree and the kit stay under the device
    call's 64 MiB."""
    left_out = [n for n in names if n in ("__pycache__", "tests", "docs", "examples")]
    if folder.endswith(os.path.join("diffusers", "pipelines")):
        left_out += [n for n in names if os.path.isdir(os.path.join(folder, n))]
    return left_out


def prepare(kit):
    """Copy what the GPU machine lacks from this machine's packages into `kit`: the headers,
    GoogleTest's source, and the installed diffusers package as kit/diffusers/diffusers/."""
    include = os.path.join(kit, "include")
    os.makedirs(include, exist_ok=True)
    sources = {h: os.path.join("/usr/include", h) for h in HEADERS}
    sources["googletest"] = "/usr/src/googletest"
    missing = [p for p in sources.values() if not os.path.isdir(p)]
    if missing:
        sys.exit(f"error: {', '.join(missing)} missing: run scripts/setup.sh first (Debian's packages)")
    for name, src in sources.items():
        dst = os.path.join(kit, "googletest") if name == "googletest" else os.path.join(include, name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("googlemock", "test", "docs"))
    try:
        import diffusers
    except ImportError as e:
        sys.exit(f"error: diffusers does not import in {sys.executable} ({e}): run scripts/setup.sh, then "
                 "this with .venv/bin/python")
    dst = os.path.join(kit, "diffusers")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(os.path.dirname(diffusers.__file__), os.path.join(dst, "diffusers"), ignore=diffusers_ignore)
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(kit, "**"), recursive=True) if os.path.isfile(p))
    print(f"prepared {kit}: {size / 2**20:.1f} MiB ({', '.join(sorted(os.listdir(kit)))}); "
          f"carry it in the device call: bench/gpu/README.md")


def summary_markdown(doc):
    lines = [f"# GPU kit: {doc['device']}", "", f"torch {doc['torch']}, {doc['mode']}, {doc['when']}", "",
             "| step | status | seconds | result |", "|---|---|---:|---|"]
    for s in doc["steps"]:
        lines.append(f"| {s['step']} | {s['status']} | {s['seconds']:.0f} | {s.get('result', '')} |")
    for s in doc["steps"]:
        if s.get("table"):
            lines += ["", f"## {s['step']}", ""] + s["table"]
    return "\n".join(lines) + "\n"


def run(args):
    dry = args.dry_run
    build = os.path.abspath(args.build or os.path.join(args.out if dry else ROOT, "build-gpu"))
    state = os.path.join(build, "kit-steps")
    os.makedirs(state, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    ctx = kit_steps.Context(root=ROOT, kit=os.path.abspath(args.kit), build=build, out=args.out, dry=dry,
                            python=args.python, device="cpu" if dry else "cuda")
    wanted = args.steps.split(",") if args.steps else STEPS
    unknown = [s for s in wanted if s not in STEPS]
    if unknown:
        sys.exit(f"error: unknown step(s) {', '.join(unknown)}; the steps: {', '.join(STEPS)}")
    for name in wanted:
        start = time.time()
        try:
            record = getattr(kit_steps, name.replace("-", "_"))(ctx)
        except kit_steps.StepFailed as e:
            record = {"status": "failed", "result": str(e)}
        except subprocess.TimeoutExpired as e:
            record = {"status": "failed", "result": f"over its budget of {e.timeout:.0f} s"}
        record.update(step=name, seconds=time.time() - start)
        print(f"kit: {name}: {record['status']} in {record['seconds']:.0f} s: {record.get('result', '')}", flush=True)
        with open(os.path.join(state, f"{name}.json"), "w") as f:
            json.dump(record, f, indent=1)
    steps = []
    for name in STEPS:
        path = os.path.join(state, f"{name}.json")
        if os.path.exists(path):
            steps.append(json.load(open(path)))
    doc = {"mode": "dry run (CPU)" if dry else "GPU", "device": kit_steps.device_name(ctx),
           "torch": kit_steps.torch_version(ctx), "when": time.strftime("%Y-%m-%d %H:%M:%S"), "steps": steps}
    with open(os.path.join(args.out, "kit.json"), "w") as f:
        json.dump(doc, f, indent=1)
    with open(os.path.join(args.out, "kit.md"), "w") as f:
        f.write(summary_markdown(doc))
    print(f"kit: summary in {os.path.join(args.out, 'kit.md')} and kit.json")
    return 0 if all(s["status"] in ("passed", "skipped") for s in steps) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pre = sub.add_parser("prepare", help="here: fill the kit folder that travels")
    pre.add_argument("--kit", default=os.path.join(ROOT, ".gpu-kit"))
    r = sub.add_parser("run", help="the steps, then the summary")
    r.add_argument("--kit", default=os.path.join(ROOT, ".gpu-kit"))
    r.add_argument("--out", default=os.environ.get("OUT", os.path.join(ROOT, "out", "gpu-kit")))
    r.add_argument("--build", help="build folder (default: build-gpu, under OUT for a dry run)")
    r.add_argument("--steps", help=f"comma-separated, in order (default all: {','.join(STEPS)})")
    r.add_argument("--dry-run", action="store_true", help="no GPU: every step on the CPU, small sizes")
    r.add_argument("--python", default=sys.executable, help="a python with torch (and numpy)")
    a = p.parse_args()
    if a.command == "prepare":
        prepare(os.path.abspath(a.kit))
        return 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
