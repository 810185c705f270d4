"""Every key of every diffusers scheduler class diffbench maps a sampler to (#41): read from the
class's constructor signature, each is either a setting diffbench reads (`scheduler_config_keys`
of `diffbench list --json`) or one the sampler fixes (`fixed_config_keys`) at exactly the value
diffusers uses for it (the class default, with reference.py's options). A fixed key at another
value is a usage error naming it; the accepted value runs. Unknown keys warn with the nearest
known name. Needs diffusers (the pinned release in .venv/); skips outside CI without it."""
import inspect
import json
import os
import subprocess
import sys
import tempfile
import unittest

from diffbench_tools import reference

BIN = os.environ["DIFFBENCH_BIN"]
DIFFUSERS = reference.import_diffusers()


def listing():
    return json.loads(subprocess.run([BIN, "list", "--json"], capture_output=True, text=True, check=True).stdout)


def other_value(value):
    """A value of the same kind that is not `value` (what a user's config might hold instead)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 if value != 1 else 3
    if isinstance(value, float):
        return value / 2 if value not in (0.0, float("-inf")) else -5.1
    if isinstance(value, str):
        return {"zero": "sigma_min", "linear": "log_linear", "discrete": "continuous"}.get(value, value + "_other")
    if isinstance(value, list):
        return [1]
    return 1.0  # None


def schedule(sampler, config):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(config, f)
    try:
        return subprocess.run([BIN, "schedule", "--sampler", sampler, "--steps", "4", "--config", f.name],
                              capture_output=True, text=True)
    finally:
        os.unlink(f.name)


class SchedulerKeys(unittest.TestCase):
    def test_every_key_of_every_mapped_class_is_read_or_fixed_at_diffusers_value(self):
        doc = listing()
        read = set(doc["scheduler_config_keys"])
        fixed = {s["name"]: s["fixed_config_keys"] for s in doc["samplers"]}
        classes = {name: (cls, extra) for name, (cls, extra) in reference.SAMPLERS.items()}
        classes.update({name: (cls, {}) for name, cls in reference.FLOW_SAMPLERS.items() if name not in classes})
        checked = 0
        for sampler, (cls, extra) in classes.items():
            params = inspect.signature(getattr(DIFFUSERS, cls).__init__).parameters
            for key, p in params.items():
                if key == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or key in read:
                    continue
                self.assertIn(key, fixed[sampler], f"{sampler} ({cls}): key '{key}' is neither read nor fixed")
                accepted = fixed[sampler][key]
                if accepted == ["*"]:
                    continue
                want = extra.get(key, p.default)
                want = None if isinstance(want, float) and want == float("-inf") else want  # JSON has no -inf
                self.assertIn(want, accepted, f"{sampler}: {key} fixed at {accepted}, diffusers uses {want!r}")
                ok = schedule(sampler, {key: want})
                self.assertEqual(ok.returncode, 0, f"{sampler} {key}={want!r}: {ok.stderr}")
                bad = other_value(want)
                refused = schedule(sampler, {key: bad})
                self.assertEqual(refused.returncode, 2, f"{sampler} {key}={bad!r} ran: {refused.stdout[:200]}")
                self.assertIn(f"scheduler config key {key}=", refused.stderr)
                self.assertEqual(len(refused.stderr.strip().splitlines()), 1, refused.stderr)
                checked += 1
        self.assertGreater(checked, 40)  # the multistep solvers alone fix over 40 (sampler, key) pairs

    def test_the_issues_cases_solver_orders_are_refused_not_run_as_order_2(self):
        for sampler, order in (("unipc", 1), ("unipc", 3), ("deis", 3), ("dpmpp_2m", 3)):
            r = schedule(sampler, {"solver_order": order})
            self.assertEqual(r.returncode, 2, f"{sampler} solver_order {order} ran")
            self.assertIn(f"solver_order={order} is not implemented by {sampler}", r.stderr)

    def test_a_key_of_another_class_is_ignored_as_diffusers_ignores_it(self):
        r = schedule("ddim", {"solver_order": 3, "algorithm_type": "dpmsolver"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")

    def test_unknown_keys_warn_with_the_nearest_known_name(self):
        for typo, meant in (("beta_shedule", "beta_schedule"), ("num_train_timestep", "num_train_timesteps"),
                            ("solver_ordr", "solver_order")):
            r = schedule("ddim", {typo: 1})
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"unknown key '{typo}' ignored (did you mean '{meant}'?)", r.stderr)
        r = schedule("ddim", {"frobnicate": 1})  # no known key is a typo away
        self.assertIn("unknown key 'frobnicate' ignored", r.stderr)
        self.assertNotIn("did you mean", r.stderr)


if __name__ == "__main__":
    if DIFFUSERS is None:
        sys.exit(reference.SKIP)
    unittest.main()
