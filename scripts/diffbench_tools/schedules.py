"""Stable Diffusion 1.5's noise schedule, the one every script uses: scaled_linear betas from
0.00085 to 0.012 over 1000 training steps (diffusers' scheduler config of SD 1.5)."""
import torch

SD15 = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
        "steps_offset": 1, "timestep_spacing": "leading", "clip_sample": False, "set_alpha_to_one": False,
        "prediction_type": "epsilon"}


def sd15_betas(steps=SD15["num_train_timesteps"], dtype=torch.float64):
    """scaled_linear: betas evenly spaced in their square root, then squared."""
    return torch.linspace(SD15["beta_start"] ** 0.5, SD15["beta_end"] ** 0.5, steps, dtype=dtype) ** 2
