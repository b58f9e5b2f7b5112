"""What a method is: a named recipe that builds an encoder and the objective it trains with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from torch import nn

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.losses import LOSS_TERMS, Objective
from srl_bench.methods.config import MethodConfig


class SRLModel(nn.Module):
    """An encoder plus the objective (loss terms and their heads) it is trained with."""

    def __init__(self, encoder: Encoder, objective: Objective | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.objective = objective


@dataclass
class DataContext:
    """Facts about the training data that a method needs to build its networks."""

    image_shape: tuple[int, int, int]
    true_state_dim: int
    discrete_actions: bool
    action_dim: int  # number of actions if discrete, else the action vector's length
    train_states: np.ndarray  # true states of (a sample of) the training frames
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_meta(cls, meta: dict[str, Any], train_states: np.ndarray | None = None) -> "DataContext":
        """Rebuild the context from dataset metadata (``train_states`` only matters before training)."""
        space = meta["action_space"]
        discrete = space["type"] == "discrete"
        true_dim = len(meta["state_names"])
        return cls(
            image_shape=tuple(meta["image_shape"]),
            true_state_dim=true_dim,
            discrete_actions=discrete,
            action_dim=int(space["n"]) if discrete else int(np.prod(space["shape"])),
            train_states=train_states if train_states is not None else np.zeros((2, true_dim), np.float32),
        )


@dataclass
class Method:
    """A named entry of the zoo.

    ``build(config, context) -> SRLModel``. ``trainable`` is false for methods that are not trained by
    gradient descent (``random``); ``fit(model, images, states)`` is for those fitted in closed form
    (``pca``), called with training-frame arrays before any gradient training.
    """

    name: str
    description: str
    paper: str
    build: Callable[[MethodConfig, DataContext], SRLModel]
    config_class: type[MethodConfig] = MethodConfig
    trainable: bool = True
    fit: Callable[[SRLModel, np.ndarray, np.ndarray], None] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)  # config values before the YAML's


METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Add a method to the zoo (``srl-bench methods`` lists it)."""
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    """The method called ``name``, or a clear error listing the known ones."""
    if name not in METHODS:
        raise SrlBenchError(f"unknown method {name!r}; choose one of: {', '.join(sorted(METHODS))}")
    return METHODS[name]


def resolve_state_dim(config: MethodConfig, context: DataContext) -> int:
    """The configured state dimension, defaulting to the ground truth's; at least 1."""
    state_dim = context.true_state_dim if config.state_dim is None else config.state_dim
    if state_dim < 1:
        raise SrlBenchError(f"the state dimension must be at least 1, got {state_dim}")
    return state_dim


def build_objective(config: MethodConfig, context: DataContext, state_dim: int) -> Objective:
    """The weighted sum of the loss terms named in ``config.losses``."""
    if not config.losses:
        raise SrlBenchError("this method needs at least one loss term in its config's `losses`")
    unknown = sorted(set(config.losses) - set(LOSS_TERMS))
    if unknown:
        raise SrlBenchError(f"unknown loss term(s) {', '.join(unknown)}; known terms: {', '.join(sorted(LOSS_TERMS))}")
    term_context = {"config": config, "state_dim": state_dim, "image_shape": context.image_shape,
                    "true_state_dim": context.true_state_dim, "discrete_actions": context.discrete_actions,
                    "action_dim": context.action_dim, "train_states": context.train_states, **context.extra}
    terms = {name: LOSS_TERMS[name].build(term_context) for name in config.losses}
    return Objective(terms, config.losses)
