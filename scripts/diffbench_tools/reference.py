"""The reference diffbench is checked against: diffusers itself (the pinned PyPI release that
scripts/setup.sh installs into .venv/, unmodified; or a source folder given by hand), the scheduler
class and options each diffbench sampler must match, and SD 1.5's scheduler config."""
import os
import sys

from diffbench_tools import ROOT
from diffbench_tools.cli import fail, program
from diffbench_tools.schedules import SD15  # noqa: F401  (re-exported: the reference config)

SKIP = 77  # ctest's SKIP_RETURN_CODE: a check whose reference (diffusers) is absent, outside CI

SAMPLERS = {
    # name: (diffusers scheduler class name, config overrides)
    "ddpm": ("DDPMScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "dpmpp_3m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "lcm": ("LCMScheduler", {}),
    "turbo": ("EulerAncestralDiscreteScheduler", {"timestep_spacing": "trailing"}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "deis": ("DEISMultistepScheduler", {}),
}

# Flow-matching samplers: name -> diffusers scheduler class (their configs are the case's own).
FLOW_SAMPLERS = {
    "flow_euler": "FlowMatchEulerDiscreteScheduler",
    "flow_heun": "FlowMatchHeunDiscreteScheduler",
    "unipc": "UniPCMultistepScheduler",  # with use_flow_sigmas, as Wan's pipeline
}


def import_diffusers(folder=None):
    """diffusers from `folder` (a source tree: its src/ or the folder itself) when given, else from
    the Python path. Absent: None after a line that names what to install, so that a developer's
    check skips; under CI (CI set) a missing reference fails the check instead, never a skip."""
    if folder:
        if not os.path.isdir(folder):
            fail(f"--diffusers {folder}: no such folder")
        src = os.path.join(folder, "src")
        sys.path.insert(0, src if os.path.isdir(os.path.join(src, "diffusers")) else folder)
    try:
        import diffusers
    except ImportError as e:
        if folder:  # a reference named by hand that does not import: a broken check, never a skip
            fail(f"diffusers from {folder} does not import: {e}")
        why = (f"diffusers is not importable by {sys.executable} ({e}); scripts/setup.sh installs the "
               "pinned release into .venv/ (scripts/requirements.txt)")
        if os.environ.get("CI"):
            fail(f"{why}: in CI the reference must be there")
        print(f"{program()}: {why}; skipping", file=sys.stderr)
        return None
    return diffusers
