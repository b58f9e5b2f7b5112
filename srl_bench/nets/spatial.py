"""The deep spatial autoencoder's encoder (Finn et al. 2016): convolutions, then a spatial soft-argmax
that turns each feature map into the expected image coordinates of its activation (a keypoint)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from srl_bench.encoder import Encoder


class SpatialSoftArgmax(nn.Module):
    """(N, K, H, W) feature maps -> (N, 2K) expected (x, y) in [-1, 1] under a per-map softmax.

    The softmax temperature is learned, as in Levine et al. 2016 / Finn et al. 2016.
    """

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
        self.register_buffer("xs", xs.reshape(-1))
        self.register_buffer("ys", ys.reshape(-1))
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        n, k = maps.shape[:2]
        attention = F.softmax(maps.reshape(n, k, -1) / self.log_temperature.exp(), dim=-1)
        x = (attention * self.xs).sum(-1)
        y = (attention * self.ys).sum(-1)
        return torch.stack([x, y], dim=-1).reshape(n, 2 * k)


class SpatialSoftmaxEncoder(Encoder):
    """Three convolutions (the first with stride 2) then a spatial soft-argmax: ``state_dim / 2``
    keypoints, each an (x, y) pair, so ``state_dim`` must be even."""

    def __init__(self, image_shape: tuple[int, int, int], state_dim: int, width: int = 32) -> None:
        if state_dim % 2:
            raise ValueError(f"the spatial autoencoder's state is (x, y) per keypoint, so state_dim must be even, got {state_dim}")
        super().__init__(state_dim)
        height, width_px, channels = image_shape
        self.image_shape = tuple(image_shape)
        self.convs = nn.Sequential(
            nn.Conv2d(channels, width, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, state_dim // 2, 3, padding=1),
        )
        self.soft_argmax = SpatialSoftArgmax((height + 1) // 2, (width_px + 1) // 2)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.soft_argmax(self.convs(x))
