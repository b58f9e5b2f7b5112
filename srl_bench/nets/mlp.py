"""A plain multi-layer perceptron."""

from __future__ import annotations

from torch import nn


def mlp(in_dim: int, out_dim: int, hidden: tuple[int, ...] = (64, 64), activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers with ``activation`` between them; no activation on the output."""
    layers: list[nn.Module] = []
    last = in_dim
    for width in hidden:
        layers += [nn.Linear(last, width), activation()]
        last = width
    layers.append(nn.Linear(last, out_dim))
    return nn.Sequential(*layers)
