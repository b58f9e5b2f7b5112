"""Dynamics terms: a forward model, an inverse model and a reward model, each a small MLP head on the
learned state (as in the S-RL Toolbox / SRL-Zoo)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from srl_bench.losses.base import HeadConfig, LossTerm, register_term
from srl_bench.losses.batch import Batch
from srl_bench.losses.common import action_features
from srl_bench.nets import mlp


def inverse_loss(prediction: torch.Tensor, actions: torch.Tensor, discrete: bool) -> torch.Tensor:
    """Cross-entropy of the predicted action logits (discrete actions), or the mean squared error of the
    predicted action vector (continuous actions)."""
    if discrete:
        return F.cross_entropy(prediction, actions.long().reshape(-1))
    return F.mse_loss(prediction, actions.float().reshape(prediction.shape))


@register_term
class ForwardModel(LossTerm):
    """Latent forward model ŝ_t+1 = s_t + f(s_t, a_t); loss = mean over batch and dimensions of
    (ŝ_t+1 − s_t+1)². Alone it can be minimised by a constant state (collapse): combine it with a
    term that needs information in the state (reconstruction, inverse model)."""

    name = "forward"
    Config = HeadConfig
    needs_next = True

    def __init__(self, state_dim: int, action_dim: int, discrete: bool, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.discrete, self.action_dim = discrete, action_dim
        self.model = mlp(state_dim + action_dim, state_dim, hidden)

    @classmethod
    def build(cls, config: HeadConfig, context: dict[str, Any]) -> "ForwardModel":
        return cls(context["state_dim"], context["action_dim"], context["discrete_actions"], config.head_hidden)

    def forward(self, batch: Batch) -> torch.Tensor:
        actions = action_features(batch.actions, self.discrete, self.action_dim)
        predicted = batch.state + self.model(torch.cat([batch.state, actions], dim=1))
        return F.mse_loss(predicted, batch.next_state)


@register_term
class InverseModel(LossTerm):
    """Inverse model â_t = g(s_t, s_t+1): cross-entropy against a_t for discrete actions, mean squared
    error for continuous ones (see ``inverse_loss``)."""

    name = "inverse"
    Config = HeadConfig
    needs_next = True

    def __init__(self, state_dim: int, action_dim: int, discrete: bool, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.discrete = discrete
        self.model = mlp(2 * state_dim, action_dim, hidden)

    @classmethod
    def build(cls, config: HeadConfig, context: dict[str, Any]) -> "InverseModel":
        return cls(context["state_dim"], context["action_dim"], context["discrete_actions"], config.head_hidden)

    def forward(self, batch: Batch) -> torch.Tensor:
        prediction = self.model(torch.cat([batch.state, batch.next_state], dim=1))
        return inverse_loss(prediction, batch.actions, self.discrete)


@register_term
class RewardModel(LossTerm):
    """Reward model r̂_t = h(s_t); loss = mean of (r̂_t − r̃_t)², r̃ the reward earned at step t,
    standardised by the training set's mean and standard deviation (a constant reward gives r̃ = 0,
    so the term then carries no information). Only rows that are transitions carry a reward (an
    episode's last row holds a padding zero), hence ``needs_next``."""

    name = "reward"
    Config = HeadConfig
    needs_next = True

    def __init__(self, state_dim: int, hidden: tuple[int, ...], train_rewards: np.ndarray | None = None) -> None:
        super().__init__()
        rewards = np.zeros(2) if train_rewards is None or len(train_rewards) == 0 else np.asarray(train_rewards, np.float64)
        std = rewards.std()
        self.register_buffer("mean", torch.tensor(float(rewards.mean())))
        self.register_buffer("std", torch.tensor(float(std) if std > 1e-8 else 1.0))
        self.model = mlp(state_dim, 1, hidden)

    @classmethod
    def build(cls, config: HeadConfig, context: dict[str, Any]) -> "RewardModel":
        return cls(context["state_dim"], config.head_hidden, context.get("train_rewards"))

    def forward(self, batch: Batch) -> torch.Tensor:
        target = (batch.rewards.float() - self.mean) / self.std
        return F.mse_loss(self.model(batch.state).squeeze(1), target)
