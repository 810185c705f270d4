"""The reference diffbench is checked against: diffusers itself (imported from the pinned source
tree ../shared/diffusers with its shim for torch 1.13, or from the Python path), the scheduler class
and options each diffbench sampler must match, and SD 1.5's scheduler config."""
import os
import sys

from diffbench_tools import ROOT
from diffbench_tools.cli import fail, program
from diffbench_tools.schedules import SD15  # noqa: F401  (re-exported: the reference config)

SKIP = 77  # ctest's SKIP_RETURN_CODE: a check whose reference (diffusers) is absent

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


def import_diffusers(folder):
    """diffusers from the pinned source tree (its shim first), else from the Python path; None if absent."""
    folder = folder or os.path.join(ROOT, "..", "shared", "diffusers")
    pinned = os.path.exists(os.path.join(folder, "diffusers_env.py"))
    try:
        if pinned:
            sys.path.insert(0, folder)
            import diffusers_env  # noqa: F401  (puts src/ and stubs/ on the path, fills in what torch 1.13 lacks)
        import diffusers
    except ImportError as e:
        if pinned:  # the reference is there and does not import: a broken check, never a skip
            fail(f"{folder} is present but does not import: {e}")
        print(f"{program()}: diffusers not found ({e}); looked in {folder} and the Python path", file=sys.stderr)
        return None
    return diffusers
