"""The students' --quick distillation, end to end in a scratch directory: the quick autoencoder and
teacher are trained first (as CI has no full data), then lcm.py and turbo.py. Each must write a
TorchScript student whose manifest names the sampler, steps and scheduler config it is made for, a
model card whose loss fell, and link itself into the teacher's manifest."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TRAIN = os.path.join(ROOT, "scripts", "train.py")


def manifest(path):
    files = {"diffbench.json": ""}
    torch.jit.load(path, _extra_files=files)
    return json.loads(files["diffbench.json"])


class QuickStudents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="diffbench-students-")
        cls.env = dict(os.environ, DIFFBENCH_TRAIN_DATA=cls.scratch.name)
        cls.quick = os.path.join(cls.scratch.name, "quick")
        for stage in ("vae", "teacher", "lcm", "turbo"):
            done = subprocess.run([sys.executable, TRAIN, stage, "--quick"], env=cls.env, capture_output=True, text=True)
            if done.returncode != 0:
                raise AssertionError(f"train.py {stage} --quick failed:\n{done.stderr[-2000:]}")

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def card(self, name):
        with open(os.path.join(self.quick, f"{name}-card.json")) as f:
            return json.load(f)

    def test_lcm_manifest_names_its_sampler_steps_and_config(self):
        m = manifest(os.path.join(self.quick, "lcm.pt"))
        self.assertEqual((m["sampler"], m["steps"], m["guidance_scale"]), ("lcm", 4, 1.0))
        self.assertEqual(m["scheduler_config"]["_class_name"], "LCMScheduler")
        self.assertEqual(m["scheduler_config"]["timestep_scaling"], 10.0)
        self.assertEqual(m["scheduler_config_source"], "configs/lcm-sd15.json")
        self.assertEqual(m["distilled_guidance"], 1.5)
        self.assertEqual(m["vae"], "vae_decoder.pt")  # the teacher's files, relative to the student

    def test_turbo_manifest_names_one_trailing_euler_ancestral_step(self):
        m = manifest(os.path.join(self.quick, "turbo.pt"))
        self.assertEqual((m["sampler"], m["steps"]), ("turbo", 1))
        self.assertEqual(m["scheduler_config"]["timestep_spacing"], "trailing")
        self.assertEqual(m["scheduler_config_source"], "configs/sdxl-turbo.json")

    def test_losses_fell(self):
        # Read off the recorded curves, not the scripts' own "loss_fell" claim.
        # Distillation falls fast from the teacher: the last five under half the first five.
        for name in ("lcm", "turbo"):
            with open(os.path.join(self.quick, f"{name}-loss.json")) as f:
                loss = json.load(f)["loss"]
            self.assertGreaterEqual(len(loss), 10, name)
            self.assertLess(sum(loss[-5:]) / 5, 0.5 * sum(loss[:5]) / 5, f"{name}: {loss}")

    def test_teacher_manifest_names_both_students(self):
        m = manifest(os.path.join(self.quick, "unet.pt"))
        self.assertEqual(m["sampler_models"], {"lcm": "lcm.pt", "turbo": "turbo.pt"})
        self.assertNotIn("sampler", m)  # the teacher is for every sampler

    def test_students_have_the_teachers_architecture(self):
        teacher = torch.jit.load(os.path.join(self.quick, "unet.pt")).state_dict()
        for name in ("lcm", "turbo"):
            student = torch.jit.load(os.path.join(self.quick, f"{name}.pt")).state_dict()
            self.assertEqual({k: v.shape for k, v in student.items()}, {k: v.shape for k, v in teacher.items()})
            self.assertTrue(any(not torch.equal(student[k], teacher[k]) for k in teacher), f"{name} did not train")


if __name__ == "__main__":
    unittest.main()
