"""plot.py schedule draws diffbench's own numbers: its data file equals `diffbench schedule` output.
Run with DIFFBENCH_BIN pointing at the built binary (ctest sets it)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BIN = os.environ.get("DIFFBENCH_BIN", os.path.join(ROOT, "build", "diffbench"))


def schedule(*args):
    return json.loads(subprocess.run([BIN, "schedule", *args], check=True, capture_output=True, text=True).stdout)


class ScheduleFigures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        out = os.path.join(cls.tmp.name, "fig")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "plot.py"), "schedule", "--diffbench", BIN,
                        "-o", out, "--formats", "png"], check=True, capture_output=True)
        with open(out + ".json") as f:
            cls.data = json.load(f)
        with open(out + ".png", "rb") as f:
            cls.png = f.read(4)

    def test_a_png_is_drawn(self):
        self.assertEqual(self.png[1:4], b"PNG")

    def test_sampler_series_are_diffbench_schedule_numbers(self):
        karras = next(s for s in self.data["samplers"] if s["label"] == "euler karras")
        want = schedule("--sampler", "euler", "--steps", "20", "--karras")["schedule"]
        self.assertEqual(karras["sigma"], [r["sigma"] for r in want])
        self.assertEqual(karras["timestep"], [r["timestep"] for r in want])

    def test_a_one_step_leading_ddim_starts_near_clean(self):
        leading = next(s for s in self.data["spacing"] if s["label"] == "leading 1")
        trailing = next(s for s in self.data["spacing"] if s["label"] == "trailing 1")
        self.assertEqual(leading["timestep"], [1.0])
        self.assertEqual(trailing["timestep"], [999.0])
        self.assertLess(leading["noise"][0], 0.1)
        self.assertGreater(trailing["noise"][0], 0.99)

    def test_beta_schedules_cover_every_training_step(self):
        for s in self.data["betas"]:
            self.assertEqual(len(s["timestep"]), 1000, s["label"])
        zero = next(s for s in self.data["betas"] if "zero terminal" in s["label"])
        self.assertAlmostEqual(zero["noise"][0], 1.0, places=6)  # t = 999: no signal left


if __name__ == "__main__":
    unittest.main()
