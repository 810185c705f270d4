"""The scripts' package (issue #24): one importable package, its entry points beside it, nothing
editing sys.path but the diffusers import, no script importing another script, one error line, one
SD 1.5 schedule, one set of training arguments. Run with PYTHONPATH=scripts (ctest sets it)."""
import glob
import os
import re
import subprocess
import sys
import unittest

import torch

from diffbench_tools import ROOT, schedules
from diffbench_tools.train import common

SCRIPTS = os.path.join(ROOT, "scripts")
ENTRY_POINTS = sorted(glob.glob(os.path.join(SCRIPTS, "*.py")))
MODULES = sorted(glob.glob(os.path.join(SCRIPTS, "diffbench_tools", "**", "*.py"), recursive=True))


def text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd="/")


class ToolsPackage(unittest.TestCase):
    def test_nothing_edits_sys_path_but_the_diffusers_import(self):
        editing = [os.path.relpath(p, ROOT) for p in ENTRY_POINTS + MODULES if "sys.path" in text(p)]
        self.assertEqual(editing, ["scripts/diffbench_tools/reference.py"])

    def test_no_script_imports_another_script(self):
        names = {os.path.splitext(os.path.basename(p))[0] for p in ENTRY_POINTS}
        for path in ENTRY_POINTS + MODULES:
            for line in text(path).splitlines():
                m = re.match(r"^\s*(?:import|from)\s+(\w+)", line)
                self.assertFalse(m and m.group(1) in names, f"{path} imports the script {m and m.group(1)}")

    def test_one_fail_and_every_script_fails_in_one_line(self):
        defining = [os.path.relpath(p, ROOT) for p in ENTRY_POINTS + MODULES if re.search(r"^def fail\(", text(p), re.M)]
        self.assertEqual(defining, ["scripts/diffbench_tools/cli.py"])
        for args, program in ((["plot.py", "/nonexistent.json"], "plot.py"), (["train.py", "bogus"], "train.py"),
                              (["min_steps.py", "/nonexistent.json"], "min_steps.py")):
            r = run(os.path.join(SCRIPTS, args[0]), *args[1:])
            self.assertEqual(r.returncode, 1, r.stderr)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertTrue(lines[0].startswith(f"{program}: error: "), r.stderr)

    def test_the_committed_digits_are_the_npm_set_and_nothing_downloads_them(self):
        r = run(os.path.join(SCRIPTS, "train.py"), "data")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("per class: [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]", r.stdout)
        images, labels = common.load_digits()
        self.assertEqual((images.shape, str(images.dtype), labels.shape), ((10000, 28, 28), "uint8", (10000,)))
        for path in MODULES:
            self.assertNotRegex(text(path), r"npm install|urlopen|requests\.get", path)

    def test_the_one_sd15_schedule(self):
        betas = schedules.sd15_betas()
        self.assertEqual(betas.shape, (1000,))
        self.assertAlmostEqual(betas[0].item(), 0.00085, places=12)
        self.assertAlmostEqual(betas[-1].item(), 0.012, places=12)
        roots = betas.sqrt()
        self.assertTrue(torch.allclose(roots[1:] - roots[:-1], (roots[1] - roots[0]).expand(999), atol=1e-12))
        self.assertEqual(schedules.SD15["beta_schedule"], "scaled_linear")
        for path in ENTRY_POINTS + MODULES:
            if not path.endswith("schedules.py"):
                self.assertNotIn("0.00085 **", text(path), f"{path} computes its own SD 1.5 schedule")

    def test_every_training_stage_takes_the_shared_arguments(self):
        shared = {action.dest for action in common.training_parser("", "", 1)._actions} - {"help"}
        self.assertEqual(shared, {"quick", "iterations", "seed", "out"})
        for stage in ("vae", "teacher", "classifier", "lcm", "turbo"):
            r = run(os.path.join(SCRIPTS, "train.py"), stage, "--help")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"usage: train.py {stage}", r.stdout)
            for flag in ("--quick", "--iterations", "--seed", "--out"):
                self.assertIn(flag, r.stdout, f"{stage} lacks {flag}")


if __name__ == "__main__":
    unittest.main()
