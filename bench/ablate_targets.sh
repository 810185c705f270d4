#!/bin/bash
# The optimisation ladder's targets (issue #11), measured on this machine with the real binary:
#   1. on the default model, CPU, 2 threads: --freeze >= 1.5x, --dtype bf16 >= 1.5x, both faster than either,
#      at the model's own shape and at the lecture's batch of 50;
#   2. the whole default ablate run on the tiny test model in under 2 minutes;
#   3. --vae-tiling on a latent 4x the side the VAE was trained on (32x32 for 8x8): run memory at least
#      2x lower than untiled, PSNR against untiled above 30 dB with a quarter-tile overlap.
# Prints each figure next to its target (MET / MISSED) and leaves the reports in OUT (default /tmp/ablate-targets).
# Run it on an idle machine: another process on the cores makes every figure worse.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${DIFFBENCH:-$here/build/diffbench}"
out="${1:-/tmp/ablate-targets}"
mkdir -p "$out"
py=${DIFFBENCH_PYTHON:-$(dirname "$0")/../.venv/bin/python}

"$bin" ablate --threads 2 --toggles freeze,bf16 --fast none -q --json "$out/default.json"
"$bin" ablate --threads 2 --toggles freeze,bf16 --fast none -q --shape 50,4,8,8 --json "$out/batch50.json"
start=$(date +%s%N)
"$bin" ablate --unet "$here/models/tiny.pt" --vae "$here/models/vae_tiny.pt" --threads 2 -q --json "$out/tiny.json"
tiny_ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$bin" ablate --threads 2 --shape 10,4,32,32 --steps 10 --toggles vae-tiling=16:4 --fast none -q --json "$out/tiling.json"

$py - "$out" "$tiny_ms" <<'PY'
import json, sys
out, tiny_s = sys.argv[1], float(sys.argv[2]) / 1000
def rows(name):
    return {r["label"]: r for r in json.load(open(f"{out}/{name}.json"))["ablation"]["rows"]}
def say(what, value, target, met):
    print(f"{'MET   ' if met else 'MISSED'} {what}: {value} (target {target})")
for name in ("default", "batch50"):
    r = rows(name)
    f, b, a = (r[k]["speedup"] for k in ("freeze", "bf16", "all"))
    shape = "x".join(map(str, json.load(open(f"{out}/{name}.json"))["runs"][0]["config"]["shape"]))
    say(f"{shape} --freeze", f"{f['estimate']:.2f}x [{f['low']:.2f}, {f['high']:.2f}]", ">= 1.5x", f["estimate"] >= 1.5)
    say(f"{shape} --dtype bf16", f"{b['estimate']:.2f}x [{b['low']:.2f}, {b['high']:.2f}]", ">= 1.5x", b["estimate"] >= 1.5)
    say(f"{shape} both", f"{a['estimate']:.2f}x", "faster than either", a["low"] > max(f["high"], b["high"]))
    for k in ("freeze", "bf16", "all"):
        d = r[k]["drift"]
        print(f"       {shape} {k} drift: {'identical' if d['identical'] else '%.1f dB' % d['psnr_db']} on {d['on']}")
say("tiny model, default ablate", f"{tiny_s:.0f} s", "< 120 s", tiny_s < 120)
t = rows("tiling")["vae-tiling=16:4"]
say("vae-tiling 16:4 on 32x32 latents, run memory", f"{t['memory']['ratio']:.2f}x of untiled", "<= 0.5x",
    t["memory"]["ratio"] <= 0.5)
say("vae-tiling 16:4 on 32x32 latents, PSNR vs untiled", f"{t['drift']['psnr_db']:.1f} dB", "> 30 dB",
    t["drift"]["psnr_db"] > 30)
PY
