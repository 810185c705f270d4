#!/bin/bash
# The optimisation ladder at a real size (issue #26, part 5), on this CPU with the real binary: an
# SD-1.5-shaped UNet (random weights, bench/sd15_pipeline.py) exported at 256 px (latents 32x32) in
# fp32 and bf16 (scripts/export_diffusers.py --dtype fp32,bf16), sampled with DDIM 3 steps and CFG 7.5
# (the UNet sees batch 2), 2 threads. Targets: --freeze >= 1.4x, bf16 (+ channels-last) >= 1.4x, all
# together >= 2x, each with its interval and drift. Prints each figure next to its target (MET /
# MISSED) and leaves the export and the reports in OUT (default /tmp/sd15-ladder; the export is
# reused). Run it on an idle machine; about 15 minutes, 6 GB of disk for the export.
#   bench/sd15_ladder.sh [OUT] [--repeat N]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${DIFFBENCH:-$here/build/diffbench}"
out="${1:-/tmp/sd15-ladder}"
repeat="${3:-5}"
py=/usr/bin/python3
export PYTHONPATH="$here/scripts"
mkdir -p "$out"
if [[ ! -f $out/export/unet-bf16.pt ]]; then
  [[ -f $out/pipeline/model_index.json ]] || $py "$here/bench/sd15_pipeline.py" "$out/pipeline"
  $py "$here/scripts/export_diffusers.py" "$out/pipeline" --out "$out/export" --height 256 --width 256 \
    --dtype fp32,bf16 --attention classic
fi
common=(--model "$out/export" --sampler ddim --steps 3 --guidance-scale 7.5 --threads 2 --warmup 1
        --repeat "$repeat" --fast none -q)
"$bin" ablate "${common[@]}" --toggles freeze,bf16,channels-last --json "$out/ladder.json" \
  --markdown "$out/ladder.md"
"$bin" ablate "${common[@]}" --toggles bf16,channels-last --json "$out/bf16-cl.json"

$py - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def rows(name):
    return {r["label"]: r for r in json.load(open(f"{out}/{name}.json"))["ablation"]["rows"]}
def say(what, row, target):
    s, d = row["speedup"], row["drift"]
    drift = "identical" if d["identical"] else f"{d['psnr_db']:.1f} dB"
    print(f"{'MET   ' if s['estimate'] >= target else 'MISSED'} {what}: {s['estimate']:.2f}x "
          f"[{s['low']:.2f}, {s['high']:.2f}], drift {drift} (target >= {target}x)")
ladder, pair = rows("ladder"), rows("bf16-cl")
say("freeze", ladder["freeze"], 1.4)
say("bf16", ladder["bf16"], 1.4)
say("bf16 + channels-last", pair["all"], 1.4)
say("channels-last", ladder["channels-last"], 1.0)
say("all (freeze, bf16, channels-last)", ladder["all"], 2.0)
PY
