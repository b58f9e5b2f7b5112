"""Composable loss terms: each term is a module that reads a ``Batch`` and returns one scalar.

A method's objective is the weighted sum of its terms, so "autoencoder + inverse + forward" is a list
of three terms with three weights, not new code. Terms own the small networks they need (a decoder,
a forward model...), so these train with the encoder and are saved with the run.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from srl_bench.losses.batch import Batch

# name -> LossTerm subclass; filled by the @register_term decorator
LOSS_TERMS: dict[str, type["LossTerm"]] = {}


def register_term(cls: type["LossTerm"]) -> type["LossTerm"]:
    """Class decorator: make a loss term available by its ``name`` to method configs."""
    LOSS_TERMS[cls.name] = cls
    return cls


class LossTerm(nn.Module):
    """One named term of an objective.

    Class attributes: ``name`` (as written in configs and logs) and ``needs_next`` (true when the term
    reads ``o_t+1``, so the trainer samples only valid transitions). Subclasses are built with
    ``LossTerm.build(context)`` where ``context`` holds the method config and facts about the data
    (``image_shape``, ``state_dim``, ``action_dim``, ``discrete_actions``, ``true_state_dim``,
    ``train_states``...), and implement ``forward(batch) -> scalar``.
    """

    name: str = "term"
    needs_next: bool = False

    @classmethod
    def build(cls, context: dict[str, Any]) -> "LossTerm":
        return cls()

    def forward(self, batch: Batch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class Objective(nn.Module):
    """A weighted sum of loss terms that also reports each term's value."""

    def __init__(self, terms: dict[str, LossTerm], weights: dict[str, float]) -> None:
        super().__init__()
        self.terms = nn.ModuleDict(terms)
        self.weights = dict(weights)

    @property
    def needs_next(self) -> bool:
        return any(term.needs_next for term in self.terms.values())

    def forward(self, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        total = torch.zeros((), device=batch.obs.device)
        logged: dict[str, float] = {}
        for name, term in self.terms.items():
            value = term(batch)
            total = total + self.weights[name] * value
            logged[name] = float(value.detach())
        logged["total"] = float(total.detach())
        return total, logged
