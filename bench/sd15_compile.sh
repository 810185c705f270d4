#!/bin/bash
# The lecture's torch.compile row at a real size (issue #44, part 5 in part): the SD-1.5-shaped UNet
# of bench/sd15_pipeline.py (random weights) exported at 256 px both as a TorchScript trace and as an
# AOTInductor package (scripts/export_diffusers.py --format torchscript,aoti; the compile time is in
# the package's manifest and every report's context), then `ablate --toggles freeze,compile`: the
# package against the trace, eager (the baseline) and frozen, DDIM 3 steps with CFG 7.5 (the UNet
# sees batch 2), 2 threads. Target: compile >= 1.3x over the frozen trace, outputs within 1e-3
# relative. Run it on an idle machine: about 25 minutes here (6 of them the export), 7.5 GB of disk.
#   bench/sd15_compile.sh [OUT]        (REPEAT=N in the environment: counted repeats, default 5)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${DIFFBENCH:-$here/build/diffbench}"
out="${1:-/tmp/sd15-compile}"
repeat="${REPEAT:-5}"
py=${DIFFBENCH_PYTHON:-$here/.venv/bin/python}
export PYTHONPATH="$here/scripts"
mkdir -p "$out"
if [[ ! -f $out/export/unet.pt2 ]]; then
  [[ -f $out/pipeline/model_index.json ]] || $py "$here/bench/sd15_pipeline.py" "$out/pipeline"
  $py "$here/scripts/export_diffusers.py" "$out/pipeline" --out "$out/export" --height 256 --width 256 \
    --attention classic --format torchscript,aoti --force
fi
"$bin" ablate --model "$out/export" --sampler ddim --steps 3 --guidance-scale 7.5 --threads 2 --warmup 1 \
  --repeat "$repeat" --fast none -q --toggles freeze,compile --json "$out/compile.json" --markdown "$out/compile.md"
# The package's latents against the trace's, the same seed: relative error (target <= 1e-3).
for f in pt pt2; do
  "$bin" --unet "$out/export/unet.$f" --sampler ddim --steps 3 --guidance-scale 7.5 --threads 2 --warmup 0 \
    --repeat 1 -q --save-latents "$out/latents-$f.npy"
done
$py - "$out" <<'PY'
import json, sys
import numpy as np
out = sys.argv[1]
ablation = json.load(open(f"{out}/compile.json"))
rows = {r["label"]: r for r in ablation["ablation"]["rows"]}
a, b = np.load(f"{out}/latents-pt2.npy"), np.load(f"{out}/latents-pt.npy")
rel = float(np.linalg.norm(a - b) / np.linalg.norm(b))
base, freeze, compiled = (rows[k]["time_per_image_s"] for k in ("baseline", "freeze", "compile"))
ratio = freeze / compiled
s = rows["compile"]["speedup"]
import zipfile
with zipfile.ZipFile(f"{out}/export/unet.pt2") as z:
    manifest = json.loads(z.read(next(n for n in z.namelist() if n.endswith("extra/diffbench.json"))))
print(f"compile time (cold, in the export): {manifest['compiled']['compile_s']} s")
print(f"{'MET   ' if ratio >= 1.3 else 'MISSED'} compile over the frozen trace: {ratio:.2f}x "
      f"({freeze:.2f} s -> {compiled:.2f} s per image; over the eager trace {s['estimate']:.2f}x "
      f"[{s['low']:.2f}, {s['high']:.2f}]) (target >= 1.3x)")
print(f"{'MET   ' if rel <= 1e-3 else 'MISSED'} the package's latents against the trace's: {rel:.2e} relative "
      "(target <= 1e-3)")
PY
