"""Typed, validated method configurations, read from ``configs/methods/<method>.yaml``.

Each method has a dataclass of hyper-parameters. Loading checks every key and value: an unknown key
is an error naming the valid ones, a value of the wrong type is an error naming the expected type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from srl_bench.errors import SrlBenchError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "methods"


@dataclass
class MethodConfig:
    """Hyper-parameters shared by every method (the trainer's and the backbone's)."""

    state_dim: int | None = None  # None: the dataset's ground-truth dimension
    backbone: str = "small"  # "small" or "deep" CNN
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5  # epochs without validation improvement before stopping
    val_fraction: float = 0.1  # share of the training episodes used for validation
    max_val_frames: int = 4096  # validation loss is computed on at most this many frames
    losses: dict[str, float] = field(default_factory=dict)  # loss term name -> weight
    splits: dict[str, float] = field(default_factory=dict)  # term -> share of the state it owns; others see all
    noise_std: float = 0.0  # input noise of the denoising autoencoder

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class RecipeConfig(MethodConfig):
    """The hyper-parameters of every loss term, on top of the trainer's: any term can join any recipe
    by config alone (a term ignores the fields that are not its own)."""

    head_hidden: tuple[int, ...] = (64, 64)  # hidden layers of the forward / inverse / reward / projection heads
    prior_action_tolerance: float = 0.1  # robotic priors: continuous actions this close (max-abs) are "the same"
    prior_reward_tolerance: float = 1e-6  # robotic priors (causality): rewards further apart than this differ
    temperature: float = 0.1  # infonce: softmax temperature of the cosine similarities
    augment_shift: int = 4  # infonce: random shift of each frame by up to this many pixels (0: none)
    recon_size: int = 16  # spatial_reconstruction: side of the downsampled grayscale target


@dataclass
class WorldModelsConfig(RecipeConfig):
    """World Models: the VAE's latent size is the state dimension (for ``representation: zh``, the state
    is [z, h], so z gets ``state_dim − rnn_hidden`` dimensions)."""

    sequence_length: int = 8  # frames per training window of the MDN-RNN (never crossing an episode)
    rnn_hidden: int = 32  # LSTM hidden size
    mdn_components: int = 5  # Gaussians per latent dimension
    representation: str = "z"  # "z": the VAE mean; "zh": [z, h], h carried through each episode


@dataclass
class PCAConfig(MethodConfig):
    """PCA is fitted in closed form; the trainer's fields do not apply."""

    fit_frames: int = 4096  # training frames sampled for the fit (memory: fit_frames × pixels × 4 bytes)


@dataclass
class RawPixelsConfig(MethodConfig):
    """The downsampled image is the state: ``pixels``² × channels values; nothing is trained."""

    pixels: int = 8  # side of the area-downsampled image


def _check_value(key: str, value: Any, expected: Any) -> Any:
    """Coerce ``value`` to the annotated type ``expected`` or raise a clear error."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(expected)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_value(key, value, option)
            except SrlBenchError:
                continue
        raise SrlBenchError(f"config key {key!r} must be {expected}, got {value!r}")
    if origin is dict:
        if not isinstance(value, dict):
            raise SrlBenchError(f"config key {key!r} must be a mapping, got {value!r}")
        _, value_type = typing.get_args(expected)
        return {str(k): _check_value(f"{key}.{k}", v, value_type) for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise SrlBenchError(f"config key {key!r} must be a list, got {value!r}")
        item_type = typing.get_args(expected)[0]
        return origin(_check_value(key, v, item_type) for v in value)
    if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected in (str, bool) and isinstance(value, expected):
        return value
    if expected is Any:
        return value
    raise SrlBenchError(f"config key {key!r} must be {getattr(expected, '__name__', expected)}, got {value!r}")


def build_config(config_class: type[MethodConfig], values: dict[str, Any], source: str = "config") -> MethodConfig:
    """A ``config_class`` instance from a mapping, every key and value checked."""
    hints = typing.get_type_hints(config_class)
    valid = [f.name for f in dataclasses.fields(config_class)]
    unknown = sorted(set(values) - set(valid))
    if unknown:
        raise SrlBenchError(
            f"unknown key(s) {', '.join(unknown)} in {source}; valid keys are: {', '.join(valid)}"
        )
    checked = {key: _check_value(key, value, hints[key]) for key, value in values.items()}
    return config_class(**checked)


def load_method_config(
    method_name: str, config_class: type[MethodConfig], overrides: dict[str, Any] | None = None,
    config_file: str | Path | None = None, defaults: dict[str, Any] | None = None,
) -> MethodConfig:
    """``defaults``, then ``configs/methods/<method>.yaml`` (or ``config_file``), then ``overrides``.

    ``losses`` mappings merge key by key; a weight of 0 in a later layer removes that term.
    """
    path = Path(config_file) if config_file else CONFIG_DIR / f"{method_name}.yaml"
    values: dict[str, Any] = dict(defaults or {})
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise SrlBenchError(f"{path} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise SrlBenchError(f"{path} must hold a mapping of hyper-parameters")
        _merge(values, loaded)
    elif config_file:
        raise SrlBenchError(f"config file {path} does not exist")
    _merge(values, overrides or {})
    if isinstance(values.get("losses"), dict):
        values["losses"] = {k: v for k, v in values["losses"].items() if v != 0}
    valid = {f.name for f in dataclasses.fields(config_class)}
    from_overrides = bool(set(overrides or {}) - valid)
    source = "the overrides" if from_overrides or not path.is_file() else str(path)
    return build_config(config_class, values, source=source)


def _merge(values: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if key == "losses" and isinstance(value, dict) and isinstance(values.get("losses"), dict):
            values["losses"] = {**values["losses"], **value}
        else:
            values[key] = value
