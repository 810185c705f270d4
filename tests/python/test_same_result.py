"""tests/scaleout/same_result.py, the scale-out tests' judge, on made-up reports with known answers:
equal cells pass; a null latents_sha256 (on one side or both), a differing hash, a missing cell
and a repeated cell each fail."""
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scaleout", "same_result.py")


def run_of(cell, sha="ab" * 32):
    return {"config": {"sampler": "ddim", "steps": cell + 1, "unet": f"/x{cell}.pt"}, "status": "ok",
            "timesteps": [1, 2], "sigmas": [0.5, 0.0], "latents_sha256": sha,
            "sweep": {"cell": cell, "cells": 2, "grid_sha256": "g"}}


class SameResult(unittest.TestCase):
    def judge(self, merged, single):
        with tempfile.TemporaryDirectory() as d:
            for name, runs in (("m.json", merged), ("s.jsonl", single)):
                with open(os.path.join(d, name), "w") as f:
                    json.dump({"runs": runs}, f)
            return subprocess.run([sys.executable, SCRIPT, os.path.join(d, "m.json"), os.path.join(d, "s.jsonl")],
                                  capture_output=True, text=True)

    def test_equal_cells_pass(self):
        runs = [run_of(0), run_of(1)]
        self.assertEqual(self.judge(runs, copy.deepcopy(runs)).returncode, 0)

    def test_null_hashes_do_not_count_as_equal(self):
        runs = [run_of(0, None), run_of(1)]
        done = self.judge(runs, copy.deepcopy(runs))
        self.assertEqual(done.returncode, 1)
        self.assertIn("latents_sha256 is missing or null", done.stderr)

    def test_a_differing_hash_a_missing_and_a_repeated_cell_fail(self):
        base = [run_of(0), run_of(1)]
        self.assertEqual(self.judge(base, [run_of(0), run_of(1, "cd" * 32)]).returncode, 1)
        self.assertEqual(self.judge(base, [run_of(0)]).returncode, 1)
        self.assertEqual(self.judge(base + [run_of(1)], base).returncode, 1)


if __name__ == "__main__":
    unittest.main()
