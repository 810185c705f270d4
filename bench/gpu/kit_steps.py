"""The GPU kit's steps (bench/gpu/kit.py): each takes the Context and returns its record
({"status": "passed" | "failed" | "skipped", "result": one line, "table": Markdown lines, ...}),
or raises StepFailed. On the GPU machine the device is cuda; in a dry run every step runs on the
CPU at small sizes, so that everything but the GPU itself is checked here."""
import dataclasses
import json
import os
import re
import shutil
import subprocess


class StepFailed(Exception):
    pass


@dataclasses.dataclass
class Context:
    root: str  # the source tree
    kit: str  # what `kit.py prepare` filled
    build: str  # the build folder (kit-steps/ in it keeps each step's record)
    out: str  # summary and reports
    dry: bool
    python: str
    device: str  # "cuda", or "cpu" in a dry run

    def binary(self, name="diffbench"):
        return os.path.join(self.build, name)


def sh(cmd, budget, cwd=None, env=None, ok=(0,)):
    """Run `cmd`; StepFailed with the end of its output when its exit is not in `ok`."""
    full_env = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=budget)
    if p.returncode not in ok:
        tail = " | ".join(p.stdout.strip().splitlines()[-6:])
        raise StepFailed(f"`{' '.join(cmd[:3])} ...` exited {p.returncode}: {tail}")
    return p


def py_value(ctx, code):
    try:
        return sh([ctx.python, "-c", code], 60).stdout.strip()
    except (StepFailed, OSError) as e:
        return f"unknown ({str(e)[:80]})"


def device_name(ctx):
    if ctx.dry:
        return "CPU (dry run)"
    return py_value(ctx, "import torch; print(torch.cuda.get_device_name(0))")


def torch_version(ctx):
    return py_value(ctx, "import torch; print(torch.__version__)")


def torch_cmake_args(ctx):
    """CI's main build (scripts/setup.sh): the LibTorch of ctx.python's pip torch, its own folder
    first on the prefix path, with CUDA through the machine's nvcc. Without nvcc a dry run links the
    CPU half only (as setup.sh does on such a machine); the GPU machine must have it."""
    root = sh([ctx.python, "-c", "import os, torch; print(os.path.dirname(torch.__file__))"], 60).stdout.strip()
    args = [f"-DCMAKE_PREFIX_PATH={root}/share/cmake;{root}", f"-DPython_EXECUTABLE={ctx.python}",
            f"-DDIFFBENCH_PYTHON={ctx.python}"]
    nvcc = shutil.which("nvcc") or next((p for p in ["/usr/local/cuda/bin/nvcc"] if os.access(p, os.X_OK)), None)
    if nvcc:
        return args + [f"-DCMAKE_CUDA_COMPILER={nvcc}", "-DDIFFBENCH_CUDA=ON", "-DTORCH_CUDA_ARCH_LIST=8.0;9.0"]
    if not ctx.dry:
        raise StepFailed("no nvcc on PATH or in /usr/local/cuda: the CUDA build needs the toolkit")
    return args + ["-DDIFFBENCH_TORCH_CPU_ONLY=ON"]


def build(ctx):
    cmake = ["cmake", "-S", ctx.root, "-B", ctx.build, "-DCMAKE_BUILD_TYPE=Release", f"-DDIFFBENCH_DEPS_DIR={ctx.kit}"]
    if shutil.which("ninja"):
        cmake += ["-G", "Ninja"] if not os.path.exists(os.path.join(ctx.build, "CMakeCache.txt")) else []
    cmake += torch_cmake_args(ctx)
    sh(cmake, 180)
    jobs = str(os.cpu_count() or 2)
    sh(["cmake", "--build", ctx.build, "-j", jobs, "--target", "diffbench", "diffbench_tests", "diffbench_overhead"],
       900 if ctx.dry else 420)
    cuda = "DIFFBENCH_CUDA:BOOL=ON" in open(os.path.join(ctx.build, "CMakeCache.txt")).read()
    return {"status": "passed", "result": f"diffbench, its tests and the overhead benchmark built against pip's "
                                          f"LibTorch {'with CUDA' if cuda else '(CPU half only: no nvcc)'}, "
                                          "with the kit's header-only dependencies and GoogleTest from source"}


# ctest names the kit leaves out on the GPU machine: they need this project's .venv/ (diffusers,
# jsonschema), Debian's packages or services, none of which that machine has; the kit runs their
# checks as its own steps.
NOT_ON_THE_GPU_MACHINE = "Hygiene|ScaleOut|Install|Students|FlowModel|Quality.QuickTrained|Fidelity|Export|" \
                         "MinSteps|SameResult|ToolsPackage|AblationFigure|ScheduleFigures"


def suite(ctx):
    if ctx.dry:  # CI runs the whole suite; here the test binary built with the kit's GoogleTest runs a part
        p = sh([os.path.join(ctx.build, "tests", "diffbench_tests"), "--gtest_filter=SamplerContract.*:Schedule.*"],
               300)
        passed = re.search(r"\[  PASSED  \] (\d+) test", p.stdout)
        return {"status": "passed", "result": f"{passed.group(1) if passed else '?'} tests passed (a part, dry run)"}
    p = sh(["ctest", "--test-dir", ctx.build, "-j", "8", "--timeout", "240", "-E", NOT_ON_THE_GPU_MACHINE],
           420, ok=(0, 8))
    summary = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", p.stdout)
    failed = re.findall(r"^\s+\d+ - (\S+) \(", p.stdout, re.M)
    result = summary.group(0) if summary else "no ctest summary"
    status = "passed" if summary and summary.group(2) == "0" else "failed"
    return {"status": status, "result": result + (f"; failed: {', '.join(failed[:20])}" if failed else ""),
            "failed": failed}


def sampler_names(ctx):
    listing = json.loads(sh([ctx.binary(), "list", "--json"], 60).stdout)
    return [s["name"] for s in listing["samplers"]]


def latents_of(ctx, sampler, model, device, threads, path):
    sh([ctx.binary(), "--unet", model, "--sampler", sampler, "--steps", "4", "--device", device, "--threads",
        str(threads), "--warmup", "0", "--repeat", "1", "-q", "--save-latents", path], 180)
    import numpy
    return numpy.load(path).astype("float64")


def latents(ctx):
    """Every sampler's final latents on the device against the CPU's (same seed, 4 steps)."""
    import numpy
    folder = os.path.join(ctx.out, "latents")
    os.makedirs(folder, exist_ok=True)
    # CUDA convolutions may run in TF32 (LibTorch's default for cuDNN): 1e-2 relative there.
    tolerance = 1e-5 if ctx.dry else 1e-2
    rows, worst = ["| sampler | model | relative difference |", "|---|---|---:|"], 0.0
    for name in sampler_names(ctx):
        model = os.path.join(ctx.root, "models", "digits", "flow.pt") if name.startswith("flow_") else \
            os.path.join(ctx.root, "models", "tiny.pt")
        cpu = latents_of(ctx, name, model, "cpu", 2, os.path.join(folder, f"{name}-cpu.npy"))
        # a dry run compares the CPU with itself at another thread count (another reduction order)
        other = latents_of(ctx, name, model, ctx.device, 1 if ctx.dry else 4, os.path.join(folder, f"{name}-dev.npy"))
        rel = float(numpy.linalg.norm(other - cpu) / max(numpy.linalg.norm(cpu), 1e-30))
        worst = max(worst, rel)
        rows.append(f"| {name} | {os.path.basename(model)} | {rel:.2e} |")
    status = "passed" if worst <= tolerance else "failed"
    return {"status": status, "result": f"{len(rows) - 2} samplers, worst relative difference {worst:.2e} "
                                        f"({ctx.device} against cpu; tolerance {tolerance:g})", "table": rows}


def timing(ctx):
    """The default model timed with CUDA events and with a synchronisation per mark (#26 part 4)."""
    rows = ["| --cuda-timing | clock | step (median) | model (median) | total (median) |", "|---|---|---:|---:|---:|"]
    found = {}
    for how in ("events", "sync"):
        report = os.path.join(ctx.out, f"timing-{how}.json")
        sh([ctx.binary(), "--sampler", "ddim", "--steps", "20", "--device", ctx.device, "--cuda-timing", how,
            "--warmup", "1" if ctx.dry else "3", "--repeat", "2" if ctx.dry else "10", "-q", "--json", report], 180)
        run = json.load(open(report))["runs"][0]
        st = run["stats"]
        found[how] = run
        rows.append(f"| {how} | {run['timing']} | {1e3 * st['step_s']['median']:.3f} ms | "
                    f"{1e3 * st['model_s']['median']:.3f} ms | {1e3 * st['total_s']['median']:.2f} ms |")
    want = {"events": "host", "sync": "host"} if ctx.dry else {"events": "cuda events", "sync": "cuda sync"}
    wrong = [f"{h}: {r['timing']}" for h, r in found.items() if r["timing"] != want[h]]
    if wrong:
        raise StepFailed(f"the reports name another clock than asked: {', '.join(wrong)}")
    e, y = (found[h]["stats"]["total_s"]["median"] for h in ("events", "sync"))
    return {"status": "passed", "result": f"total with events {1e3 * e:.2f} ms, with a sync per mark {1e3 * y:.2f} ms "
                                          f"({100 * (y / e - 1):+.1f}%)", "table": rows}


def diffusers(ctx):
    folder = os.path.join(ctx.kit, "diffusers")
    if not os.path.isdir(folder):
        return {"status": "skipped", "result": f"no {folder}: run kit.py prepare with .venv/bin/python"}
    matrix = ["--matrix", "full", "--steps", "4", "--schedules", "scaled_linear", "--predictions", "epsilon"] \
        if ctx.dry else ["--matrix", "reduced"]
    p = sh([ctx.python, os.path.join(ctx.root, "scripts", "compare_with_diffusers.py"), *matrix, "--diffbench",
            ctx.binary(), "--diffusers", folder], 300 if ctx.dry else 420, ok=(0, 77))
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    return {"status": "skipped" if p.returncode == 77 else "passed", "result": last}


def ablation_rows(path):
    """The ladder's table, and the labels of the rows that could not run (#41: a failed rung used to
    leave the step "passed")."""
    rows = json.load(open(path))["ablation"]["rows"]
    table = ["| configuration | speed-up [95% CI] | drift |", "|---|---:|---:|"]
    failed = [r["label"] for r in rows if r.get("status") not in (None, "ok")]
    for r in rows:
        s, d = r.get("speedup") or {}, r.get("drift") or {}
        speed = f"{s['estimate']:.2f}x [{s['low']:.2f}, {s['high']:.2f}]" if "estimate" in s else ""
        if r.get("status") not in (None, "ok"):  # a configuration that could not run is a finding: said, not hidden
            speed, d = f"{r['status']}: {r.get('error')}", {}
        drift = "identical" if d.get("identical") else (f"{d['psnr_db']:.1f} dB" if "psnr_db" in d else "")
        table.append(f"| {r['label']} | {speed} | {drift} |")
    return table, failed


def ablate(ctx, name, flags, budget):
    """(table, labels of rungs that failed); exit 1 means some rung failed, its row says why."""
    report = os.path.join(ctx.out, f"{name}.json")
    sh([ctx.binary(), "ablate", *flags, "--device", ctx.device, "--fast", "none", "-q", "--json", report,
        "--markdown", os.path.join(ctx.out, f"{name}.md")], budget, ok=(0, 1))
    return ablation_rows(report)


def ladder_record(table, failed, what):
    status = "failed" if failed else "passed"
    result = f"{what}{len(table) - 2} configurations timed" + (f"; failed: {', '.join(failed)}" if failed else "")
    return {"status": status, "result": result, "table": table}


def ladder_default(ctx):
    """The default digit model through the ladder (CUDA events timing, the default)."""
    if ctx.dry:
        table, failed = ablate(ctx, "ladder-default", ["--toggles", "freeze,bf16,channels-last", "--steps", "2",
                                                       "--warmup", "0", "--repeat", "4", "--threads", "2"], 300)
    else:
        table, failed = ablate(ctx, "ladder-default", ["--toggles", "freeze,fp16,channels-last,cuda-graphs",
                                                       "--warmup", "2", "--repeat", "10"], 240)
        more, more_failed = ablate(ctx, "ladder-default-bf16", ["--toggles", "bf16", "--warmup", "2", "--repeat",
                                                                "10"], 120)
        table, failed = table + more[2:], failed + more_failed
    return ladder_record(table, failed, "")


def ladder_sd15(ctx):
    """An SD-1.5-shaped UNet (random weights; tiny in a dry run), exported and laddered."""
    folder = os.path.join(ctx.build, "sd15")
    env = {"PYTHONPATH": os.path.join(ctx.root, "scripts")}
    diffusers_dir = os.path.join(ctx.kit, "diffusers")
    if not os.path.isdir(diffusers_dir):
        return {"status": "skipped", "result": "no diffusers in the kit to build the pipeline with"}
    pipeline, export = os.path.join(folder, "pipeline"), os.path.join(folder, "export")
    size = "64" if ctx.dry else "512"
    if not os.path.exists(os.path.join(export, "unet.pt")):
        sh([ctx.python, os.path.join(ctx.root, "bench", "sd15_pipeline.py"), pipeline, "--diffusers", diffusers_dir]
           + (["--tiny"] if ctx.dry else []), 300, env=env)
        sh([ctx.python, os.path.join(ctx.root, "scripts", "export_diffusers.py"), pipeline, "--out", export, "--force",
            "--height", size, "--width", size, "--dtype", "fp32,bf16" if ctx.dry else "fp32,fp16,bf16",
            "--device", ctx.device, "--diffusers", diffusers_dir] + (["--attention", "classic"] if ctx.dry else []),
           300, env=env)
    common = ["--model", export, "--sampler", "ddim", "--guidance-scale", "7.5"]
    if ctx.dry:
        table, failed = ablate(ctx, "ladder-sd15", common + ["--toggles", "freeze,bf16", "--steps", "2", "--warmup",
                                                             "0", "--repeat", "4", "--threads", "2"], 300)
    else:
        table, failed = ablate(ctx, "ladder-sd15", common + ["--toggles", "freeze,fp16,channels-last,cuda-graphs",
                                                             "--steps", "20", "--warmup", "1", "--repeat", "5"], 300)
    return ladder_record(table, failed, f"{size} px, ")
