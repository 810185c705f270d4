#!/bin/bash
# The optimisation ladder at a real size (issue #26, part 5), on this CPU with the real binary: an
# SD-1.5-shaped UNet (random weights, bench/sd15_pipeline.py) exported at 256 px (latents 32x32) in
# fp32 and bf16 (scripts/export_diffusers.py --dtype fp32,bf16), sampled with DDIM 3 steps and CFG 7.5
# (the UNet sees batch 2), 2 threads. Targets: --freeze >= 1.4x, bf16 (+ channels-last) >= 1.4x, all
# together >= 2x, each with its interval and drift. Prints each figure next to its target (MET /
# MISSED) and leaves the export and the reports in OUT (default /tmp/sd15-ladder; the export is
# reused). Run it on an idle machine: about 40 minutes here (2 of them the export), 5.5 GB of disk.
#   bench/sd15_ladder.sh [OUT]        (REPEAT=N in the environment: counted repeats, default 5)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${DIFFBENCH:-$here/build/diffbench}"
out="${1:-/tmp/sd15-ladder}"
repeat="${REPEAT:-5}"
py=${DIFFBENCH_PYTHON:-$(dirname "$0")/../.venv/bin/python}
export PYTHONPATH="$here/scripts"
mkdir -p "$out"
if [[ ! -f $out/export/unet-bf16.pt ]]; then
  [[ -f $out/pipeline/model_index.json ]] || $py "$here/bench/sd15_pipeline.py" "$out/pipeline"
  $py "$here/scripts/export_diffusers.py" "$out/pipeline" --out "$out/export" --height 256 --width 256 \
    --dtype fp32,bf16 --attention classic --force
fi
common=(--model "$out/export" --sampler ddim --steps 3 --guidance-scale 7.5 --threads 2 --warmup 1
        --repeat "$repeat" --fast none -q)
"$bin" ablate "${common[@]}" --toggles freeze,bf16,channels-last --json "$out/ladder.json" \
  --markdown "$out/ladder.md"
"$bin" ablate "${common[@]}" --toggles bf16,channels-last --json "$out/bf16-cl.json"
"$bin" ablate "${common[@]}" --toggles freeze,bf16 --json "$out/freeze-bf16.json"

$py - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def rows(name):
    return {r["label"]: r for r in json.load(open(f"{out}/{name}.json"))["ablation"]["rows"]}
def say(what, row, target):
    """MET needs the speed-up and results kept: drift at least 40 dB (ablate's "changes results" line)."""
    s, d = row["speedup"], row["drift"]
    kept = d["identical"] or d["psnr_db"] >= 40
    drift = "identical" if d["identical"] else f"{d['psnr_db']:.1f} dB"
    verdict = "MISSED" if s["estimate"] < target else "MET   " if kept else "MISSED (changes results)"
    print(f"{verdict} {what}: {s['estimate']:.2f}x [{s['low']:.2f}, {s['high']:.2f}], drift {drift} "
          f"(target >= {target}x at >= 40 dB)")
ladder, pair, kept = rows("ladder"), rows("bf16-cl"), rows("freeze-bf16")
say("freeze", ladder["freeze"], 1.4)
say("bf16", ladder["bf16"], 1.4)
say("bf16 + channels-last", pair["all"], 1.4)
say("channels-last", ladder["channels-last"], 1.0)
say("all (freeze, bf16, channels-last)", ladder["all"], 2.0)
say("freeze + bf16 (all that keeps the pictures on LibTorch 1.13)", kept["all"], 2.0)
PY
