"""Composable loss terms: each term is a module that reads a ``Batch`` and returns one scalar.

A method's objective is the weighted sum of its terms, so "autoencoder + inverse + forward" is a list
of three terms with three weights, not new code. Terms own the small networks they need (a decoder,
a forward model...), so these train with the encoder and are saved with the run. A term may own only
a slice of the state (``srl_splits``): the objective then hands it a view of the batch whose
``state`` is that slice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, ClassVar

import torch
from pydantic import NonNegativeFloat, PositiveInt
from torch import nn

from srl_bench.config import ConfigModel
from srl_bench.errors import SrlBenchError
from srl_bench.losses.batch import Batch

# name -> LossTerm subclass; filled by the @register_term decorator
LOSS_TERMS: dict[str, type["LossTerm"]] = {}
ENTRY_POINT_GROUP = "srl_bench.losses"  # installed packages add terms here (loaded by srl_bench.plugins)


def _term_file(cls: type) -> str | None:
    import inspect

    try:
        return str(Path(inspect.getfile(cls)).resolve())
    except (TypeError, OSError):
        return None


def register_term(cls: type["LossTerm"]) -> type["LossTerm"]:
    """Class decorator: make a loss term available by its ``name`` to method configs.

    Works the same in srl-bench's own ``srl_bench/losses/`` modules, in user code and in an installed
    plug-in (entry-point group ``srl_bench.losses``, naming the module that defines the term). A name
    already registered by another module is refused; the same module registering it again (imported
    again) replaces it.
    """
    if not isinstance(cls, type) or not issubclass(cls, LossTerm):
        raise SrlBenchError(f"register_term takes a LossTerm subclass, got {cls!r}")
    if not isinstance(cls.name, str) or not cls.name or cls.name == LossTerm.name:
        raise SrlBenchError(f"the loss term {cls.__qualname__} needs a `name` (the key method configs write under "
                            "`losses:`)")
    existing = LOSS_TERMS.get(cls.name)
    if existing is not None and existing is not cls and existing.__module__ != cls.__module__ \
            and (_term_file(existing) is None or _term_file(existing) != _term_file(cls)):
        raise SrlBenchError(f"a loss term called {cls.name!r} is already registered (by {existing.__module__}), so "
                            f"the one in {cls.__module__} needs another name")
    LOSS_TERMS[cls.name] = cls
    return cls


class TermConfig(ConfigModel):
    """A loss term's entry in a method config: its weight in the objective, plus (in a subclass kept
    beside the term) the term's own hyper-parameters, e.g. ``infonce: {weight: 1.0, temperature: 0.1}``.
    A bare number is the weight: ``kl: 4`` means ``kl: {weight: 4}``."""

    weight: NonNegativeFloat = 1.0


class HeadConfig(TermConfig):
    """A term with a small MLP head (forward, inverse, reward models; the InfoNCE projection)."""

    head_hidden: tuple[PositiveInt, ...] = (64, 64)  # hidden layer widths of the head


class LossTerm(nn.Module):
    """One named term of an objective.

    Class attributes: ``name`` (as written in configs and logs), ``Config`` (the term's hyper-parameters,
    a :class:`TermConfig` subclass), ``needs_next`` (true when the term reads ``o_t+1``, so the trainer
    samples only valid transitions) and ``sequence_length`` (the shortest window of consecutive frames
    of one episode the term needs; 1 for frame-wise terms). Subclasses are built with
    ``LossTerm.build(config, context)`` where ``config`` is the term's own ``Config`` and ``context``
    holds facts about the data and the model (``image_shape``, ``state_dim`` — the size of the slice
    this term owns —, ``action_dim``, ``discrete_actions``, ``true_state_dim``, ``train_states``,
    ``train_rewards``, ``encoder``), and implement ``forward(batch) -> scalar``.
    """

    name: ClassVar[str] = "term"
    Config: ClassVar[type[TermConfig]] = TermConfig
    needs_next: ClassVar[bool] = False
    sequence_length: int = 1

    @classmethod
    def build(cls, config: TermConfig, context: dict[str, Any]) -> "LossTerm":
        return cls()

    def forward(self, batch: Batch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def track_first_batch_start(self) -> None:
        """Register the ``bias_initialised`` flag ``start_at_first_batch`` keeps: a buffer, saved with the
        weights, so a resumed training or a reloaded run does not start the bias again."""
        self.register_buffer("bias_initialised", torch.zeros((), dtype=torch.bool))

    def start_at_first_batch(self, bias: torch.Tensor, value: Callable[[], torch.Tensor]) -> None:
        """On the first training batch only, set ``bias`` to ``value()``, a statistic of that batch (e.g.
        its mean image), so training does not spend its first steps moving the output there from 0."""
        if self.training and not self.bias_initialised:
            with torch.no_grad():
                bias.copy_(value())
                self.bias_initialised.fill_(True)


class Objective(nn.Module):
    """A weighted sum of loss terms that also reports each term's value.

    ``slices`` maps a term's name to the state dimensions it owns; terms not in it see the whole state.
    """

    def __init__(self, terms: dict[str, LossTerm], weights: dict[str, float],
                 slices: dict[str, slice] | None = None) -> None:
        super().__init__()
        # a list, not a ModuleDict: term names such as "forward" would clash with nn.Module attributes
        self.names = list(terms)
        self.term_list = nn.ModuleList(terms.values())
        self.weights = dict(weights)
        self.slices = dict(slices or {})

    @property
    def terms(self) -> dict[str, LossTerm]:
        """The terms by name, in order."""
        return dict(zip(self.names, self.term_list))  # type: ignore[arg-type]

    @property
    def needs_next(self) -> bool:
        return any(term.needs_next for term in self.terms.values())

    @property
    def sequence_length(self) -> int:
        """Length of the windows of consecutive frames the batches must hold (1: single frames)."""
        return max([term.sequence_length for term in self.terms.values()], default=1)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        total = torch.zeros((), device=batch.obs.device)
        logged: dict[str, float] = {}
        for name, term in zip(self.names, self.term_list):
            value = term(batch.view(self.slices[name]) if name in self.slices else batch)
            total = total + self.weights[name] * value
            logged[name] = float(value.detach())
        logged["total"] = float(total.detach())
        return total, logged
