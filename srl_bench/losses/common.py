"""Small helpers shared by several loss terms."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def action_features(actions: torch.Tensor, discrete: bool, action_dim: int) -> torch.Tensor:
    """Actions as network inputs: one-hot vectors for discrete actions, float vectors for continuous ones.

    The one action encoder of srl-bench: loss heads, World Models' recurrent model and the RL wrapper
    that feeds a recurrent encoder all use it, so an action means the same to each of them.
    """
    if discrete:
        return F.one_hot(actions.long().reshape(-1), action_dim).float()
    return actions.float().reshape(len(actions), -1)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``mask`` is true; 0 (still differentiable) when nothing is selected."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)
