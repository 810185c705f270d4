"""The flow-matching digit model's --quick training, end to end in a scratch directory: the quick
autoencoder first (CI has no full data), then flow.py. It must write a TorchScript velocity model
whose manifest names flow_prediction, flow_euler and a FlowMatch scheduler config, a card with the
fitted encoder's reconstruction error, a loss curve that fell, and a model diffbench samples with
flow_euler (float timesteps) and refuses to sample with a beta-schedule sampler."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TRAIN = os.path.join(ROOT, "scripts", "train.py")
BINARY = os.environ.get("DIFFBENCH_BIN", os.path.join(ROOT, "build", "diffbench"))


class QuickFlowModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="diffbench-flow-")
        env = dict(os.environ, DIFFBENCH_TRAIN_DATA=cls.scratch.name)
        cls.quick = os.path.join(cls.scratch.name, "quick")
        for stage in ("vae", "flow"):
            done = subprocess.run([sys.executable, TRAIN, stage, "--quick"], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise AssertionError(f"train.py {stage} --quick failed:\n{done.stderr[-2000:]}")

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def test_manifest_names_the_flow_dialect(self):
        files = {"diffbench.json": ""}
        torch.jit.load(os.path.join(self.quick, "flow.pt"), _extra_files=files)
        m = json.loads(files["diffbench.json"])
        self.assertEqual((m["prediction_type"], m["sampler"]), ("flow_prediction", "flow_euler"))
        self.assertEqual(m["scheduler_config"]["_class_name"], "FlowMatchEulerDiscreteScheduler")
        self.assertEqual((m["vae"], m["cond"], m["uncond"]), ("vae_decoder.pt", "flow_cond.npy", "flow_uncond.npy"))

    def test_card_and_loss_curve(self):
        with open(os.path.join(self.quick, "flow-card.json")) as f:
            card = json.load(f)
        self.assertGreater(card["encoder_held_out_mse"], 0)
        self.assertEqual(card["sigma_sampling"], "logit-normal(0, 1)")
        with open(os.path.join(self.quick, "flow-loss.json")) as f:
            losses = json.load(f)["loss"]
        self.assertEqual(len(losses), 30)
        # Velocity targets start at E|noise - z0|^2 ~ 2 per element; 30 iterations must bring it down.
        self.assertLess(sum(losses[-5:]), sum(losses[:5]))

    def test_diffbench_samples_it_with_flow_euler_only(self):
        # No binary is a failure, never a skip (#41: unittest's skip exited 0 and ctest said "Passed").
        self.assertTrue(os.access(BINARY, os.X_OK), f"no diffbench binary at {BINARY}: build it first")
        model = os.path.join(self.quick, "flow.pt")
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "r.json")
            run = subprocess.run([BINARY, "--unet", model, "--warmup", "0", "--repeat", "1", "--threads", "1", "-q",
                                  "--json", report], capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, run.stderr)
            with open(report) as f:
                r = json.load(f)["runs"][0]
            self.assertEqual((r["config"]["sampler"], r["config"]["steps"]), ("flow_euler", 20))
            self.assertFalse(r["integer_timesteps"])
        ddim = subprocess.run([BINARY, "--unet", model, "--sampler", "ddim", "--warmup", "0", "--repeat", "1"],
                              capture_output=True, text=True)
        self.assertEqual(ddim.returncode, 2)
        self.assertIn("use a flow sampler", ddim.stderr)


if __name__ == "__main__":
    unittest.main()
