"""What a method is: a named recipe that builds an encoder and the objective it trains with."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from srl_bench.encoder import Encoder
from srl_bench.config import unknown_name
from srl_bench.errors import SrlBenchError
from srl_bench.losses import LOSS_TERMS, Objective
from srl_bench.methods.config import MethodConfig, load_method_config


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
    train_rewards: np.ndarray | None = None  # rewards of the training transitions (None when reloading)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_meta(cls, meta: dict[str, Any], train_states: np.ndarray | None = None,
                  train_rewards: np.ndarray | None = None) -> "DataContext":
        """Rebuild the context from dataset metadata (``train_states`` and ``train_rewards`` only matter
        before training: statistics made from them are saved with the weights)."""
        space = meta["action_space"]
        discrete = space["type"] == "discrete"
        true_dim = len(meta["state_names"])
        return cls(
            image_shape=tuple(meta["image_shape"]),
            true_state_dim=true_dim,
            discrete_actions=discrete,
            action_dim=int(space["n"]) if discrete else int(np.prod(space["shape"])),
            train_states=train_states if train_states is not None else np.zeros((2, true_dim), np.float32),
            train_rewards=train_rewards,
        )


@dataclass
class Method:
    """A named entry of the zoo.

    ``build(config, context) -> SRLModel``. ``trainable`` is false for methods that are not trained by
    gradient descent (``random``); ``fit(model, dataset, rows, rng)`` is for those fitted in closed form
    (``pca``), called with the (memory-mapped) dataset and its training rows before any gradient
    training; it reads what it needs (e.g. a seeded sample), so memory stays bounded. ``recipe`` holds
    the values of the method's YAML file (``srl_bench/configs/methods/<name>.yaml``), which sit on top
    of ``config_class``'s defaults; ``source`` says where the method was defined.
    """

    name: str
    description: str
    paper: str
    build: Callable[[MethodConfig, DataContext], SRLModel]
    config_class: type[MethodConfig] = MethodConfig
    trainable: bool = True
    fit: Callable[[SRLModel, Any, np.ndarray, np.random.Generator], None] | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    source: str = "srl_bench"

    def make_config(self, overrides: dict[str, Any] | None = None,
                    config_file: str | Path | None = None) -> MethodConfig:
        """The method's config: defaults <- its recipe <- ``config_file`` <- ``overrides``, checked."""
        return load_method_config(self.config_class, self.recipe, overrides, config_file,
                                  source=f"the {self.name} config ({self.source})")


METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Add a method to the zoo (``srl-bench methods`` lists it)."""
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    """The method called ``name``, or a clear error listing the known ones."""
    if name not in METHODS:
        raise unknown_name("method", name, METHODS)
    return METHODS[name]


def resolve_state_dim(config: MethodConfig, context: DataContext) -> int:
    """The configured state dimension, defaulting to the ground truth's; at least 1."""
    state_dim = context.true_state_dim if config.state_dim is None else config.state_dim
    if state_dim < 1:
        raise SrlBenchError(f"the state dimension must be at least 1, got {state_dim}")
    return state_dim


def split_state(splits: dict[str, float], losses: dict[str, float], state_dim: int) -> dict[str, slice]:
    """Contiguous slices of the state, one per term of ``splits``, in its order, sized by its shares.

    Each term gets at least one dimension; the rest are shared out by the largest remainder. Terms not
    in ``splits`` see the whole state. E.g. ``{reconstruction: 1, inverse: 1}`` of a 5-dimensional
    state gives reconstruction dimensions 0-2 and inverse 3-4.
    """
    if not splits:
        return {}
    unknown = sorted(set(splits) - set(losses))
    if unknown:
        raise SrlBenchError(f"`splits` names {', '.join(unknown)}, which are not among this method's losses "
                            f"({', '.join(losses)})")
    if any(share <= 0 for share in splits.values()):
        raise SrlBenchError(f"every share in `splits` must be positive, got {splits}")
    if len(splits) > state_dim:
        raise SrlBenchError(f"{len(splits)} terms cannot each own a slice of a {state_dim}-dimensional state; "
                            "raise state_dim or split fewer terms")
    total = sum(splits.values())
    exact = np.array([share / total * state_dim for share in splits.values()])
    dims = np.maximum(1, np.floor(exact).astype(int))
    while dims.sum() < state_dim:
        dims[np.argmax(exact - dims)] += 1
    while dims.sum() > state_dim:
        dims[np.argmax(np.where(dims > 1, dims - exact, -np.inf))] -= 1
    ends = np.cumsum(dims)
    return {name: slice(int(end - size), int(end)) for name, size, end in zip(splits, dims, ends)}


def build_objective(config: MethodConfig, context: DataContext, state_dim: int, encoder: Encoder | None = None) -> Objective:
    """The weighted sum of the loss terms named in ``config.losses``, each term owning the slice of the
    state that ``config.splits`` gives it (the whole state by default). ``encoder`` is handed to terms
    that depend on it (the MDN reads the world-models encoder's memory)."""
    if not config.losses:
        raise SrlBenchError("this method needs at least one loss term with a positive weight in its config's `losses`")
    slices = split_state(config.splits, config.weights, state_dim)
    term_context = {"image_shape": context.image_shape, "encoder": encoder,
                    "true_state_dim": context.true_state_dim, "discrete_actions": context.discrete_actions,
                    "action_dim": context.action_dim, "train_states": context.train_states,
                    "train_rewards": context.train_rewards, **context.extra}
    terms = {}
    for name, term_config in config.losses.items():
        owned = slices[name].stop - slices[name].start if name in slices else state_dim
        try:
            terms[name] = LOSS_TERMS[name].build(term_config, {**term_context, "state_dim": owned})
        except ValueError as exc:
            raise SrlBenchError(f"cannot build the loss term {name!r}: {exc}") from exc
    return Objective(terms, config.weights, slices)


def build_model(method: Method, config: MethodConfig, context: DataContext) -> SRLModel:
    """``method.build`` on inputs of ``config.frame_stack`` frames: the networks are built for images
    with k times the channels (the last k frames, oldest first; ``srl_bench.data.frames``), and the
    encoder records k as ``frame_stack`` so scoring and RL feed it the same stacks."""
    k = config.frame_stack
    if k > 1:
        h, w, c = context.image_shape
        context = dataclasses.replace(context, image_shape=(h, w, c * k))
    model = method.build(config, context)
    if k > 1 and hasattr(model.encoder, "encode_dataset"):
        raise SrlBenchError(f"{method.name} keeps its own memory through each episode; frame_stack must be 1 for it")
    model.encoder.frame_stack = k
    return model
