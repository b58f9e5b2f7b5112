"""A plain multi-layer perceptron, and an encoder built on one for vector (or tiny image) inputs."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from srl_bench.encoder import FeatureEncoder


def mlp(in_dim: int, out_dim: int, hidden: tuple[int, ...] = (64, 64), activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers with ``activation`` between them; no activation on the output."""
    layers: list[nn.Module] = []
    last = in_dim
    for width in hidden:
        layers += [nn.Linear(last, width), activation()]
        last = width
    layers.append(nn.Linear(last, out_dim))
    return nn.Sequential(*layers)


class MLPEncoder(FeatureEncoder):
    """An MLP on the flattened input: for vector observations, or images small enough to flatten.

    Images follow the usual convention (uint8 N×H×W×C, scaled to [0, 1] by ``preprocess``); a batch of
    vectors (N×D, any numeric type) is taken as it is, as float.
    """

    def __init__(self, input_shape: tuple[int, ...], state_dim: int, hidden: tuple[int, ...] = (256, 256),
                 out_dim: int | None = None) -> None:
        super().__init__(state_dim)
        self.input_shape = tuple(input_shape)
        self.net = mlp(int(np.prod(input_shape)), out_dim or state_dim, tuple(hidden))

    def preprocess(self, inputs: np.ndarray | torch.Tensor) -> torch.Tensor:
        tensor = torch.as_tensor(inputs)
        if tensor.ndim == 2:
            return tensor.to(self.device).float()
        return super().preprocess(tensor)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The network's full output (``out_dim`` values per input)."""
        return self.net(x.flatten(1))
