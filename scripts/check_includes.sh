#!/usr/bin/env bash
# Every source file must compile on its own, not only inside the unity unit that includes it after
# other files (whose includes it would then borrow). This checks each one with -fsyntax-only and its
# target's flags from BUILD_DIR/compile_commands.json. About 6 minutes on 2 cores; not run in CI.
#   scripts/check_includes.sh [BUILD_DIR]      (exit 1, naming the files, when one is not)
set -euo pipefail
build=$(realpath "${1:-build}")
cd "$(dirname "$0")/.."
[[ -f "$build/compile_commands.json" ]] || { echo "check_includes.sh: error: no $build/compile_commands.json; configure the build first" >&2; exit 2; }
failed=$(/usr/bin/python3 - "$build/compile_commands.json" <<'PY' | xargs -0 -n1 -P "$(nproc)" bash -c
import glob, json, os, re, sys
flags = {}
for entry in json.load(open(sys.argv[1])):
    command = entry["command"]
    for target in ("diffbench_core.dir", "/diffbench.dir/", "diffbench_tests.dir", "diffbench_overhead.dir"):
        if target in command:
            flags[target] = re.sub(r" -o \S+ -c \S+", " ", command)
groups = [("diffbench_core.dir", "src/[!c]*/*.cpp"), ("diffbench_core.dir", "src/core/*.cpp"),
          ("/diffbench.dir/", "src/cli/*.cpp"), ("diffbench_tests.dir", "tests/*.cpp"),
          ("diffbench_overhead.dir", "bench/*.cpp")]
for target, pattern in groups:
    for path in sorted(glob.glob(pattern)):
        if "cuda" in os.path.basename(path) or target not in flags:
            continue  # CUDA files compile only against a CUDA LibTorch
        print(f"{flags[target]} -fsyntax-only {path} >/dev/null 2>&1 || echo '{path}'", end="\0")
PY
)
[[ -z "$failed" ]] || { echo "check_includes.sh: these files do not compile on their own:"; echo "$failed"; exit 1; }
echo "check_includes.sh: every source file compiles on its own"
