"""Run directories: everything needed to reload and re-evaluate a trained encoder.

A run directory holds ``config.json`` (method, resolved hyper-parameters, seed, split, the facts about
the data the networks were built for), ``dataset.json`` (the training dataset's identity: path,
env, seed, checksums), ``model.pt`` (the weights of the encoder and of its loss heads),
``train_log.csv`` (per-epoch losses) and ``summary.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.config import validate
from srl_bench.methods import DataContext, SRLModel, get_method

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.pt"
RUN_FORMAT = 2  # 2: each loss term's parameters inside its `losses` entry; 1 (no `format` key): flat

# format 1 kept every term's parameters at the top level: key -> (terms that read it, its new name)
_FLAT_TERM_KEYS = {
    "noise_std": (("reconstruction",), "noise_std"),
    "head_hidden": (("forward", "inverse", "reward", "infonce"), "head_hidden"),
    "temperature": (("infonce",), "temperature"),
    "augment_shift": (("infonce",), "augment_shift"),
    "recon_size": (("spatial_reconstruction",), "recon_size"),
    "prior_action_tolerance": (("temporal_coherence", "proportionality", "repeatability", "causality"),
                               "action_tolerance"),
    "prior_reward_tolerance": (("causality",), "reward_tolerance"),
    "sequence_length": (("mdn",), "sequence_length"),
    "mdn_components": (("mdn",), "components"),
}


def upgrade_config(values: dict[str, Any]) -> dict[str, Any]:
    """A format-1 method config (flat term parameters, bare loss weights) in today's form."""
    values = dict(values)
    losses = {name: {"weight": weight} for name, weight in (values.pop("losses", None) or {}).items()}
    for key, (terms, new_key) in _FLAT_TERM_KEYS.items():
        if key in values:
            value = values.pop(key)
            for term in terms:
                if term in losses:
                    losses[term][new_key] = value
    values["losses"] = losses
    return values


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; an explicit device must exist."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SrlBenchError(f"device {device!r} was asked for but CUDA is not available; use --device cpu or auto")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise SrlBenchError(f"unknown device {device!r}; use auto, cpu or cuda") from exc


class RunWriter:
    """Writes a run into a temporary directory and moves it into place only when complete."""

    def __init__(self, out_dir: str | Path, overwrite: bool = False) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not overwrite:
            raise SrlBenchError(f"{self.out_dir} already exists; choose another --out or pass --overwrite")
        self.tmp_dir = self.out_dir.parent / f".{self.out_dir.name}.tmp-{os.getpid()}"
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(parents=True)

    def write_json(self, name: str, payload: dict[str, Any]) -> None:
        with open(self.tmp_dir / name, "w") as handle:
            json.dump(payload, handle, indent=2)

    def save_weights(self, model: SRLModel) -> None:
        torch.save(model.state_dict(), self.tmp_dir / WEIGHTS_FILE)

    def publish(self) -> Path:
        if self.out_dir.exists():
            shutil.rmtree(self.out_dir)
        os.replace(self.tmp_dir, self.out_dir)
        return self.out_dir

    def abort(self) -> None:
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a run, or a clear error if ``run_dir`` is not a run."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise SrlBenchError(f"{run_dir} is not a run directory (no {CONFIG_FILE}); train one with `srl-bench train`")
    return json.loads(path.read_text())


def load_model(run_dir: str | Path, device: str = "cpu") -> SRLModel:
    """The full trained model (encoder and loss heads) of a run, in eval mode."""
    run_config = read_run_config(run_dir)
    method = get_method(run_config["method"])
    values = run_config["config"]
    if run_config.get("format", 1) == 1:
        values = upgrade_config(values)
    config = validate(method.config_class, values, f"{run_dir}/{CONFIG_FILE}")
    model = method.build(config, DataContext.from_meta(run_config["data_meta"]))
    weights = Path(run_dir) / WEIGHTS_FILE
    if not weights.is_file():
        raise SrlBenchError(f"{run_dir} has no {WEIGHTS_FILE}; the run did not finish, train it again")
    try:
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except RuntimeError as exc:
        raise SrlBenchError(
            f"the weights in {weights} do not fit the {run_config['method']} model of this srl-bench "
            f"(made by version {run_config.get('srl_bench_version', '?')}); train the run again"
        ) from exc
    return model.to(resolve_device(device)).eval()


def load_run(run_dir: str | Path, device: str = "cpu") -> Encoder:
    """The trained encoder of a run, in eval mode, ready for ``srl_bench.evaluate`` or RL."""
    return load_model(run_dir, device).encoder
