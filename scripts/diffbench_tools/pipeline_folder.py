"""Reading a diffusers pipeline folder (or a hub id's subfolders): its models, its scheduler
config text, its pipeline class; shared by the UNet and the transformer exports."""
import json
import os

import torch

from diffbench_tools.cli import fail

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def load(cls, source, sub):
    """A model from PIPELINE/sub (a folder) or a hub id's subfolder; .bin weights where safetensors
    cannot be read."""
    path = os.path.join(source, sub)
    if os.path.isdir(source) and not os.path.isdir(path):
        fail(f"'{source}' has no {sub}/ folder; a pipeline folder has unet/ (or transformer/), vae/ and scheduler/")
    where = (path,) if os.path.isdir(source) else (source,)
    kwargs = {} if os.path.isdir(source) else {"subfolder": sub}
    if os.path.isdir(path) and not any(f.endswith(".safetensors") for f in os.listdir(path)):
        kwargs["use_safetensors"] = False  # only .bin here: asking for safetensors first logs an error
    try:
        return cls.from_pretrained(*where, **kwargs)
    except Exception:  # noqa: BLE001  (no safetensors here: fall back to the .bin weights)
        try:
            return cls.from_pretrained(*where, **{**kwargs, "use_safetensors": False})
        except Exception as e:  # noqa: BLE001  (a hub id without network, a broken folder)
            fail(f"cannot load {sub} from '{source}': {type(e).__name__}: {str(e).splitlines()[0]}")


def read_scheduler_config(diffusers, source):
    """The pipeline's scheduler_config.json text, unchanged (from the hub: as diffusers reads it)."""
    if not os.path.isdir(source):
        return json.dumps(diffusers.DDIMScheduler.load_config(source, subfolder="scheduler"), indent=2)
    path = os.path.join(source, "scheduler", "scheduler_config.json")
    if not os.path.exists(path):
        fail(f"'{source}' has no scheduler/scheduler_config.json; a pipeline folder has unet/, vae/ and scheduler/")
    with open(path) as f:
        return f.read()


def pipeline_class(source):
    try:
        with open(os.path.join(source, "model_index.json")) as f:
            return json.load(f).get("_class_name")
    except (OSError, ValueError):
        return None


def write_export(out, model, decoder, example, scheduler_text, manifest, names=("unet.pt", "vae_decoder.pt"),
                 main=True, formats=("torchscript",)):
    """Trace `model` on `example` (sample, timestep, conditioning) and `decoder` on its sample, and
    write them as `names` (the manifest inside the first); the main export also writes
    scheduler_config.json and diffbench.json. With "aoti" in `formats`, also compile both with
    AOTInductor as the same names ending .pt2 (any batch; the timestep compiled as float32, which
    holds integer timesteps exactly), the UNet's manifest naming the .pt2 decoder."""
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        if "torchscript" in formats:
            torch.jit.save(torch.jit.trace(model.eval(), example, check_trace=False), os.path.join(out, names[0]),
                           _extra_files={"diffbench.json": json.dumps(manifest, sort_keys=True)})
            torch.jit.save(torch.jit.trace(decoder.eval(), (example[0],), check_trace=False),
                           os.path.join(out, names[1]))
    if "aoti" in formats:
        from diffbench_tools.aoti import compile_package
        packages = [name.rsplit(".", 1)[0] + ".pt2" for name in names]
        compiled = {k: v for k, v in manifest.items() if k != "packages"}
        compiled["vae"] = packages[1]
        if "dtype_models" in manifest:
            compiled["dtype_models"] = {k: v.rsplit(".", 1)[0] + ".pt2" for k, v in manifest["dtype_models"].items()}
        timestep = example[1].to(torch.float32)
        unet_s = compile_package(model, (example[0], timestep, example[2]), os.path.join(out, packages[0]), compiled,
                                 batch_inputs=(0, 2))
        vae_s = compile_package(decoder, (example[0],), os.path.join(out, packages[1]), {"role": "vae"})
        print(f"{out}: {packages[0]} compiled in {unet_s:.1f} s, {packages[1]} in {vae_s:.1f} s")
    if not main:
        return
    with open(os.path.join(out, "scheduler_config.json"), "w") as f:
        f.write(scheduler_text)
    with open(os.path.join(out, "diffbench.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
