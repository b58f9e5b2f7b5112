"""The learned methods of the zoo: each a recipe of an encoder and weighted loss terms.

A recipe is one YAML file, ``configs/methods/<name>.yaml`` (installed as ``srl_bench/configs/methods``):
its description, paper, encoder head and loss terms. A new combination of existing terms is a new
file, not new code.
"""

from __future__ import annotations

from pathlib import Path

from srl_bench.config import read_yaml_mapping, unknown_name
from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.methods.base import (
    METHODS,
    DataContext,
    Method,
    SRLModel,
    build_objective,
    register_method,
    resolve_state_dim,
)
from srl_bench.methods.config import MethodConfig
from srl_bench.nets import SpatialSoftmaxEncoder, make_encoder


def build_encoder(config: MethodConfig, context: DataContext, state_dim: int, out_dim: int | None = None) -> Encoder:
    """The configured backbone (small or deep CNN, or MLP), with a clear error for an unknown one."""
    try:
        return make_encoder(config.backbone, context.image_shape, state_dim, out_dim)
    except ValueError as exc:
        raise SrlBenchError(str(exc)) from exc


def build_recipe(config: MethodConfig, context: DataContext) -> SRLModel:
    """An encoder trained with the weighted loss terms of ``config.losses``."""
    state_dim = resolve_state_dim(config, context)
    encoder = build_encoder(config, context, state_dim)
    return SRLModel(encoder, build_objective(config, context, state_dim, encoder))


def build_variational(config: MethodConfig, context: DataContext) -> SRLModel:
    """An encoder with a Gaussian head (mean and log-variance; the mean is the state) and its terms."""
    state_dim = resolve_state_dim(config, context)
    encoder = build_encoder(config, context, state_dim, out_dim=2 * state_dim)
    return SRLModel(encoder, build_objective(config, context, state_dim, encoder))


def build_spatial(config: MethodConfig, context: DataContext) -> SRLModel:
    """A spatial soft-argmax encoder (state_dim / 2 keypoints; by default one per ground-truth
    dimension, rounded up to pairs) and its terms."""
    state_dim = config.state_dim if config.state_dim is not None else 2 * ((context.true_state_dim + 1) // 2)
    if state_dim < 2 or state_dim % 2:
        raise SrlBenchError(f"the spatial autoencoder's state is (x, y) per keypoint: state_dim must be even, got {state_dim}")
    encoder = SpatialSoftmaxEncoder(context.image_shape, state_dim)
    return SRLModel(encoder, build_objective(config, context, state_dim, encoder))


ARCHITECTURES = {"deterministic": build_recipe, "gaussian": build_variational, "keypoints": build_spatial}
RECIPE_KEYS = ("description", "paper", "encoder")  # what a recipe file says besides hyper-parameters


def recipe_method(name: str, path: Path) -> Method:
    """The method a recipe file defines: ``description``, ``paper``, ``encoder`` (deterministic,
    gaussian or keypoints; default deterministic), and hyper-parameters, ``losses`` among them."""
    values = read_yaml_mapping(path, "method recipe")
    encoder = values.pop("encoder", "deterministic")
    if encoder not in ARCHITECTURES:
        raise unknown_name(f"encoder in {path}:", encoder, ARCHITECTURES)
    description, paper = values.pop("description", None), values.pop("paper", "")
    if not isinstance(description, str) or not description:
        raise SrlBenchError(f"{path} must say what the method is in a `description:` line")
    return Method(name=name, description=description, paper=str(paper), build=ARCHITECTURES[encoder],
                  config_class=MethodConfig, recipe=values, source=str(path))


def register_recipes(folder: Path) -> None:
    """Register every ``<name>.yaml`` of ``folder``: a recipe becomes a method; the file of a method
    defined in code (``world_models``) holds that method's hyper-parameters."""
    for path in sorted(folder.glob("*.yaml")):
        if path.stem in METHODS:
            values = read_yaml_mapping(path, "method config")
            stray = sorted(set(values) & set(RECIPE_KEYS))
            if stray:
                raise SrlBenchError(f"{path}: {', '.join(stray)} belong to recipes; {path.stem} is defined in code")
            METHODS[path.stem].recipe = values
            METHODS[path.stem].source = str(path)
        else:
            register_method(recipe_method(path.stem, path))
