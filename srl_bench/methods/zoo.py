"""The methods of the zoo: recipes of a backbone and weighted loss terms, plus baselines."""

from __future__ import annotations

from srl_bench.methods.base import (
    DataContext,
    Method,
    SRLModel,
    build_objective,
    register_method,
    resolve_state_dim,
)
from srl_bench.methods.config import MethodConfig
from srl_bench.nets import ConvEncoder


def build_recipe(config: MethodConfig, context: DataContext) -> SRLModel:
    """A CNN encoder trained with the weighted loss terms of ``config.losses``."""
    state_dim = resolve_state_dim(config, context)
    encoder = ConvEncoder(context.image_shape, state_dim, config.backbone)
    return SRLModel(encoder, build_objective(config, context, state_dim))


def build_untrained(config: MethodConfig, context: DataContext) -> SRLModel:
    """A CNN encoder left at its seeded random initialisation."""
    return SRLModel(ConvEncoder(context.image_shape, resolve_state_dim(config, context), config.backbone))


register_method(Method(
    name="autoencoder",
    description="CNN encoder + decoder trained to reconstruct the image from the state",
    paper="Hinton & Salakhutdinov 2006; Lange et al. 2012 (deep AEs for RL)",
    build=build_recipe,
    defaults={"losses": {"reconstruction": 1.0}},
))
register_method(Method(
    name="random",
    description="baseline: the same CNN encoder, untrained (seeded random weights)",
    paper="lower reference, as in the S-RL Toolbox",
    build=build_untrained,
    trainable=False,
))
register_method(Method(
    name="supervised",
    description="baseline: CNN regressing the standardised true state (upper reference)",
    paper="upper reference, as in the S-RL Toolbox",
    build=build_recipe,
    defaults={"losses": {"state_regression": 1.0}},
))
