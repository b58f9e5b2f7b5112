"""Typed method configurations: the trainer's and the encoder's hyper-parameters, and the loss terms.

Every default is written once, here (the trainer's and the backbone's) or beside its loss term (a
term's own hyper-parameters, in the term's ``Config``). A method's YAML file says only what differs,
and is merged under the user's ``--config`` file and ``--set`` overrides (``srl_bench.config``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SerializeAsAny,
    ValidationInfo,
    field_validator,
)

from srl_bench.config import ConfigModel, closest, merge, read_yaml_mapping, validate
from srl_bench.errors import SrlBenchError
from srl_bench.losses import LOSS_TERMS, TermConfig


class MethodConfig(ConfigModel):
    """Hyper-parameters shared by every method (the trainer's and the backbone's), and its loss terms.

    ``losses`` maps a term's name to its weight and parameters (``{infonce: {weight: 1, temperature:
    0.1}}``; a bare number is the weight); a weight of 0 removes the term. ``splits`` gives listed
    terms a share of the state each; the other terms see all of it.
    """

    state_dim: PositiveInt | None = None  # None: the dataset's ground-truth dimension
    backbone: Literal["small", "deep", "mlp"] = "small"  # small CNN (suited to 64×64), deep CNN, or an MLP
    frame_stack: PositiveInt = 1  # the encoder sees the last k frames of the episode (velocities become visible)
    epochs: NonNegativeInt = 20  # the cap: training stops earlier when validation stalls (patience)
    batch_size: PositiveInt = 128
    lr: PositiveFloat = 1e-3
    weight_decay: NonNegativeFloat = 0.0
    patience: PositiveInt = 5  # epochs without validation improvement before stopping
    val_fraction: float = Field(0.1, gt=0, lt=1)  # share of the training episodes used for validation
    max_val_frames: PositiveInt = 4096  # validation loss is computed on at most this many frames
    losses: dict[str, SerializeAsAny[TermConfig]] = Field(default_factory=dict)
    splits: dict[str, PositiveFloat] = Field(default_factory=dict)

    @field_validator("losses", mode="before")
    @classmethod
    def _build_terms(cls, value: Any, info: ValidationInfo) -> Any:
        """Each entry validated by its own term's ``Config``; weight-0 terms dropped."""
        if not isinstance(value, dict):
            return value
        source = (info.context or {}).get("source", "the config")
        terms: dict[str, TermConfig] = {}
        for name, entry in value.items():
            if name not in LOSS_TERMS:
                raise SrlBenchError(f"{source}: unknown loss term {name!r}{closest(name, LOSS_TERMS)}; known terms: "
                                    f"{', '.join(sorted(LOSS_TERMS))}")
            term_config = LOSS_TERMS[name].Config
            if isinstance(entry, TermConfig):
                entry = entry.model_dump()
            entry = term_entry(entry)
            if not isinstance(entry, dict):
                raise SrlBenchError(f"{source}: key 'losses.{name}' must be a weight or a mapping of the term's "
                                    f"parameters ({', '.join(term_config.model_fields)}), got {entry!r}")
            checked = validate(term_config, entry, f"{source}: losses.{name}")
            if checked.weight > 0:
                terms[name] = checked
        return terms

    @property
    def weights(self) -> dict[str, float]:
        """Each loss term's weight in the objective."""
        return {name: term.weight for name, term in self.losses.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (as saved in a run's config.json)."""
        return self.model_dump(mode="json")


class PCAConfig(MethodConfig):
    """PCA is fitted in closed form; the trainer's fields do not apply."""

    fit_frames: int = Field(4096, ge=2)  # training frames sampled for the fit (memory: fit_frames × pixels × 4 B)


class RawPixelsConfig(MethodConfig):
    """The downsampled image is the state: ``pixels``² × channels values; nothing is trained."""

    pixels: PositiveInt = 8  # side of the area-downsampled image


class WorldModelsConfig(MethodConfig):
    """World Models: the VAE's latent size is the state dimension (for ``representation: zh``, the state
    is [z, h], so z gets ``state_dim − rnn_hidden`` dimensions). The MDN's own parameters (window
    length, mixture components) sit with its term: ``losses.mdn``."""

    rnn_hidden: PositiveInt = 32  # LSTM hidden size
    representation: Literal["z", "zh"] = "z"  # "z": the VAE mean; "zh": [z, h], h carried through each episode


def term_entry(entry: Any) -> Any:
    """A loss entry in its long form: a bare weight ``4`` becomes ``{weight: 4}``."""
    if isinstance(entry, (int, float)) and not isinstance(entry, bool):
        return {"weight": entry}
    return entry


def normalise_layer(layer: dict[str, Any] | None) -> dict[str, Any]:
    """A config layer whose ``losses`` entries are in their long form, so layers merge key by key
    (``--set losses.kl=4`` changes the weight and keeps the term's other parameters)."""
    layer = dict(layer or {})
    if isinstance(layer.get("losses"), dict):
        layer["losses"] = {name: term_entry(entry) for name, entry in layer["losses"].items()}
    return layer


def load_method_config(
    config_class: type[MethodConfig], recipe: dict[str, Any] | None = None, overrides: dict[str, Any] | None = None,
    config_file: str | Path | None = None, source: str = "the method config",
) -> MethodConfig:
    """The config class's defaults <- ``recipe`` (the method's YAML) <- ``config_file`` <- ``overrides``."""
    layers = [normalise_layer(recipe)]
    if config_file is not None:
        layers.append(normalise_layer(read_yaml_mapping(config_file, "method config")))
        source = str(config_file)
    if overrides:
        layers.append(normalise_layer(overrides))
        source = f"{source} with the overrides"
    return validate(config_class, merge({}, *layers), source)
