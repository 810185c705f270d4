#!/usr/bin/env python3
"""The GPU kit's CPU dry run (bench/gpu/kit.py, issue #26 part 3): `prepare` fills a kit folder
from this machine's packages, and `run --dry-run` builds diffbench against it (header-only fmt,
json, CLI11 and stb, GoogleTest from source: what travels to the GPU machine), runs part of the
tests with that build, compares every sampler's latents between two CPU runs, checks the build
against diffusers, and runs both ladders at toy sizes; the summary must name every step, each
passed. The build is CI's main build (pip's LibTorch with CUDA where nvcc is), as on the GPU machine."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KIT = os.path.join(ROOT, "bench", "gpu", "kit.py")
# The build ctest runs (build/), for the list of samplers and its CMake cache.
BINARY = os.environ.get("DIFFBENCH_BIN", os.path.join(ROOT, "build", "diffbench"))


def read(path):
    with open(path) as f:
        return f.read()


class GpuKit(unittest.TestCase):
    def test_dry_run_builds_with_the_carried_dependencies_and_passes_every_step(self):
        with tempfile.TemporaryDirectory() as tmp:
            kit, out = os.path.join(tmp, "kit"), os.path.join(tmp, "out")
            subprocess.run([sys.executable, KIT, "prepare", "--kit", kit], check=True)
            for name in ("include/fmt/format-inl.h", "include/nlohmann/json.hpp", "include/CLI/CLI.hpp",
                         "include/stb/stb_image_write.h", "googletest/CMakeLists.txt", "diffusers/diffusers/__init__.py"):
                self.assertTrue(os.path.exists(os.path.join(kit, name)), name)
            p = subprocess.run([sys.executable, KIT, "run", "--dry-run", "--kit", kit, "--out", out], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            print(p.stdout)
            self.assertEqual(p.returncode, 0, "the dry run failed")
            doc = json.loads(read(os.path.join(out, "kit.json")))
            steps = {s["step"]: s for s in doc["steps"]}
            self.assertEqual(list(steps), ["build", "suite", "latents", "timing", "diffusers", "ladder-default", "ladder-sd15"])
            for name, s in steps.items():
                self.assertEqual(s["status"], "passed", f"{name}: {s.get('result')}")
            # the build really used the kit: header-only fmt from the kit folder, GoogleTest built from source
            commands = read(os.path.join(out, "build-gpu", "compile_commands.json"))
            self.assertIn("FMT_HEADER_ONLY", commands)
            self.assertIn(os.path.join(kit, "include"), commands)
            self.assertTrue(os.path.isdir(os.path.join(out, "build-gpu", "googletest")))
            # the same LibTorch as the main build: pip's, with CUDA wherever the toolkit is
            cache = read(os.path.join(out, "build-gpu", "CMakeCache.txt"))
            main = read(os.path.join(os.path.dirname(BINARY), "CMakeCache.txt"))
            for key in ("TORCH_LIBRARY:FILEPATH=", "DIFFBENCH_CUDA:BOOL="):
                self.assertEqual(re.search(key + ".*", cache).group(0), re.search(key + ".*", main).group(0))
            listing = json.loads(subprocess.run([BINARY, "list", "--json"], stdout=subprocess.PIPE, check=True).stdout)
            rows = steps["latents"]["table"][2:]
            self.assertEqual(len(rows), len(listing["samplers"]), "one row per sampler")
            self.assertTrue(read(os.path.join(out, "kit.md")).startswith("# GPU kit: CPU (dry run)"))


if __name__ == "__main__":
    unittest.main()
