#!/usr/bin/python3
"""Write the small malformed TorchScript models the error tests load (committed in tests/data/).

Run with Debian's /usr/bin/python3: /usr/bin/python3 tests/data/make_bad_models.py
"""
import os
import zipfile

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class OneArg(nn.Module):  # a UNet must take (sample, timestep[, context])
    def forward(self, sample: torch.Tensor) -> torch.Tensor:
        return sample


class IntTimestep(nn.Module):  # diffbench passes tensors
    def forward(self, sample: torch.Tensor, timestep: int) -> torch.Tensor:
        return sample


class WrongShape(nn.Module):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        return sample[:, :3]


class WrongDtype(nn.Module):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        return sample.to(torch.int64)


class Throws(nn.Module):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        if bool(timestep.float().mean() >= 0):
            raise RuntimeError("deliberate failure inside forward")
        return sample


class NanAfter(nn.Module):  # finite for t > 500, NaN below: fails mid-run
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        if bool(timestep.float().mean() < 500):
            return sample * float("nan")
        return sample * 0.1


class ThrowsBelow500(nn.Module):  # works for t >= 500, raises below: fails mid-run, like NanAfter
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        if bool(timestep.float().mean() < 500):
            raise RuntimeError("deliberate failure inside forward for t < 500")
        return sample * 0.1


class ReturnsString(nn.Module):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> str:
        return "not a tensor"


class VaeNan(nn.Module):  # a VAE decoder (latents) -> images that are all NaN
    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(latents[:, :3], scale_factor=2.0) * float("nan")


class VaeTwoChannels(nn.Module):  # images of 2 channels: neither grey, RGB nor RGBA
    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return latents[:, :2]


class VaeRank3(nn.Module):  # the batch dimension dropped
    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return latents[0, :3]


class NoForward(nn.Module):
    @torch.jit.export
    def other(self, x: torch.Tensor) -> torch.Tensor:
        return x


def main() -> None:
    for name, module in [("one_arg", OneArg()), ("int_timestep", IntTimestep()), ("wrong_shape", WrongShape()),
                         ("wrong_dtype", WrongDtype()), ("throws", Throws()), ("nan_after_500", NanAfter()),
                         ("throws_below_500", ThrowsBelow500()),
                         ("returns_string", ReturnsString()), ("no_forward", NoForward()),
                         ("vae_nan", VaeNan()), ("vae_two_channels", VaeTwoChannels()), ("vae_rank3", VaeRank3())]:
        torch.jit.save(torch.jit.script(module), os.path.join(HERE, f"{name}.pt"))
    with zipfile.ZipFile(os.path.join(HERE, "not_torchscript.zip"), "w") as z:
        z.writestr("hello.txt", "a zip archive, but not a TorchScript module")


if __name__ == "__main__":
    main()
