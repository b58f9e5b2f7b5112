"""Robotic priors (Jonschkowski & Brock 2015, "Learning state representations with robotic priors").

With Δs_t = s_t+1 − s_t and pairs (t1, t2) of transitions in the minibatch:

- temporal coherence: E[‖Δs_t‖²] — states change slowly;
- proportionality: E[(‖Δs_t2‖ − ‖Δs_t1‖)² | a_t1 = a_t2] — the same action moves the state as far;
- causality: E[exp(−‖s_t2 − s_t1‖²) | a_t1 = a_t2, r_t1 ≠ r_t2] — states that earn different rewards
  for the same action are far apart;
- repeatability: E[exp(−‖s_t2 − s_t1‖²) · ‖Δs_t2 − Δs_t1‖² | a_t1 = a_t2] — the same action from
  similar states changes them alike.

Here r_t is the reward earned by a_t (the paper's r_t+1). Each prior is its own term, weighted in the
config. Pairs are all pairs t1 < t2 of the minibatch; a continuous action counts as "the same" within
``action_tolerance`` (max-abs difference), and rewards differ beyond causality's ``reward_tolerance``.
An expectation over no pair is 0.
"""

from __future__ import annotations

from typing import Any

import torch

from pydantic import NonNegativeFloat

from srl_bench.losses.base import LossTerm, TermConfig, register_term
from srl_bench.losses.batch import Batch
from srl_bench.losses.common import masked_mean


def same_action_pairs(actions: torch.Tensor, discrete: bool, tolerance: float = 0.0) -> torch.Tensor:
    """(B, B) boolean mask of pairs t1 < t2 that took the same action."""
    if discrete:
        same = actions.reshape(-1, 1) == actions.reshape(1, -1)
    else:
        flat = actions.float().reshape(len(actions), -1)
        same = (flat[:, None, :] - flat[None, :, :]).abs().amax(dim=-1) <= tolerance
    return torch.triu(same, diagonal=1)


def different_reward_pairs(rewards: torch.Tensor, tolerance: float = 0.0) -> torch.Tensor:
    """(B, B) boolean mask of pairs whose rewards differ by more than ``tolerance``."""
    rewards = rewards.float().reshape(-1)
    return (rewards[:, None] - rewards[None, :]).abs() > tolerance


def _norm(x: torch.Tensor) -> torch.Tensor:
    # differentiable at 0 (a plain norm's gradient there is undefined)
    return (x.pow(2).sum(dim=-1) + 1e-12).sqrt()


def temporal_coherence(state: torch.Tensor, next_state: torch.Tensor) -> torch.Tensor:
    """E[‖s_t+1 − s_t‖²]."""
    return (next_state - state).pow(2).sum(dim=1).mean()


def proportionality(state: torch.Tensor, next_state: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """E[(‖Δs_t2‖ − ‖Δs_t1‖)²] over the selected pairs."""
    step = _norm(next_state - state)
    return masked_mean((step[None, :] - step[:, None]).pow(2), pairs)


def causality(state: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """E[exp(−‖s_t2 − s_t1‖²)] over the selected pairs (same action, different reward)."""
    distance = (state[None, :, :] - state[:, None, :]).pow(2).sum(dim=-1)
    return masked_mean(torch.exp(-distance), pairs)


def repeatability(state: torch.Tensor, next_state: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """E[exp(−‖s_t2 − s_t1‖²) · ‖Δs_t2 − Δs_t1‖²] over the selected pairs."""
    delta = next_state - state
    distance = (state[None, :, :] - state[:, None, :]).pow(2).sum(dim=-1)
    change = (delta[None, :, :] - delta[:, None, :]).pow(2).sum(dim=-1)
    return masked_mean(torch.exp(-distance) * change, pairs)


class PriorConfig(TermConfig):
    action_tolerance: NonNegativeFloat = 0.1  # continuous actions this close (max-abs) are "the same"


class _Prior(LossTerm):
    needs_next = True
    Config = PriorConfig

    def __init__(self, discrete: bool, action_tolerance: float) -> None:
        super().__init__()
        self.discrete = discrete
        self.action_tolerance = action_tolerance

    @classmethod
    def build(cls, config: PriorConfig, context: dict[str, Any]) -> "_Prior":
        return cls(context["discrete_actions"], config.action_tolerance)

    def same_action(self, batch: Batch) -> torch.Tensor:
        """Pairs (t1, t2) of the batch whose actions are the same (computed once per tolerance)."""
        return batch.get(f"prior_same_action_{self.action_tolerance}",
                         lambda: same_action_pairs(batch.actions, self.discrete, self.action_tolerance))


@register_term
class TemporalCoherence(_Prior):
    """Robotic prior: E[‖s_t+1 − s_t‖²]."""

    name = "temporal_coherence"

    def forward(self, batch: Batch) -> torch.Tensor:
        return temporal_coherence(batch.state, batch.next_state)


@register_term
class Proportionality(_Prior):
    """Robotic prior: E[(‖Δs_t2‖ − ‖Δs_t1‖)² | a_t1 = a_t2]."""

    name = "proportionality"

    def forward(self, batch: Batch) -> torch.Tensor:
        return proportionality(batch.state, batch.next_state, self.same_action(batch))


@register_term
class Causality(_Prior):
    """Robotic prior: E[exp(−‖s_t2 − s_t1‖²) | a_t1 = a_t2, r_t1 ≠ r_t2]."""

    name = "causality"

    class Config(PriorConfig):
        reward_tolerance: NonNegativeFloat = 1e-6  # rewards further apart than this differ

    def __init__(self, discrete: bool, action_tolerance: float, reward_tolerance: float) -> None:
        super().__init__(discrete, action_tolerance)
        self.reward_tolerance = reward_tolerance

    @classmethod
    def build(cls, config: Config, context: dict[str, Any]) -> "Causality":
        return cls(context["discrete_actions"], config.action_tolerance, config.reward_tolerance)

    def forward(self, batch: Batch) -> torch.Tensor:
        pairs = self.same_action(batch) & different_reward_pairs(batch.rewards, self.reward_tolerance)
        return causality(batch.state, pairs)


@register_term
class Repeatability(_Prior):
    """Robotic prior: E[exp(−‖s_t2 − s_t1‖²) · ‖Δs_t2 − Δs_t1‖² | a_t1 = a_t2]."""

    name = "repeatability"

    def forward(self, batch: Batch) -> torch.Tensor:
        return repeatability(batch.state, batch.next_state, self.same_action(batch))
