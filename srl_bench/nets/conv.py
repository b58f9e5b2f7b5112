"""Convolutional backbones for small images (64×64 by default) and the matching decoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from srl_bench.encoder import FeatureEncoder, gaussian_posterior  # noqa: F401  (gaussian_posterior re-exported)
from srl_bench.errors import SrlBenchError

# channels of the stride-2 convolutions: "small" suits 64×64; "deep" adds capacity and a 3×3 layer each
BACKBONES = {"small": (32, 64, 64, 128), "deep": (32, 64, 128, 256)}


def conv_backbone(in_channels: int, kind: str = "small") -> nn.Sequential:
    """Stride-2 4×4 convolutions with ReLUs (deep: each followed by a 3×3 conv), ending flattened."""
    if kind not in BACKBONES:
        raise ValueError(f"unknown backbone {kind!r}; choose one of: {', '.join(BACKBONES)}")
    layers: list[nn.Module] = []
    last = in_channels
    for width in BACKBONES[kind]:
        layers += [nn.Conv2d(last, width, 4, stride=2, padding=1), nn.ReLU()]
        if kind == "deep":
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        last = width
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


def min_image_size(kind: str = "small") -> int:
    """The smallest image side the backbone takes: each stride-2 4×4 convolution (padding 1) maps a
    side n to n // 2, which must stay at least 1 (the deep backbone's 3×3 layers keep the size)."""
    if kind not in BACKBONES:
        raise ValueError(f"unknown backbone {kind!r}; choose one of: {', '.join(BACKBONES)}")
    return 2 ** len(BACKBONES[kind])


def check_image_size(image_shape: tuple[int, ...], kind: str = "small") -> None:
    """Refuse, in one sentence, H×W×C images smaller than the backbone ``kind`` takes."""
    smallest = min_image_size(kind)
    height, width = int(image_shape[0]), int(image_shape[1])
    if height < smallest or width < smallest:
        raise SrlBenchError(f"the {kind} CNN backbone needs images of at least {smallest}×{smallest} pixels, but these "
                            f"are {height}×{width}; generate the dataset with --image-size {smallest} or more, or "
                            "train with --set backbone=mlp")


def conv_output_size(backbone: nn.Module, image_shape: tuple[int, int, int]) -> int:
    """Number of features the backbone gives for one H×W×C image."""
    height, width, channels = image_shape
    with torch.no_grad():
        return int(backbone(torch.zeros(1, channels, height, width)).shape[1])


class ConvEncoder(FeatureEncoder):
    """CNN backbone + linear head to ``state_dim`` (``out_dim`` may be larger, e.g. mean and log-variance)."""

    def __init__(self, image_shape: tuple[int, int, int], state_dim: int, backbone: str = "small",
                 out_dim: int | None = None) -> None:
        super().__init__(state_dim)
        self.image_shape = tuple(image_shape)
        if backbone in BACKBONES:
            check_image_size(self.image_shape, backbone)
        self.backbone = conv_backbone(image_shape[2], backbone)
        self.head = nn.Linear(conv_output_size(self.backbone, self.image_shape), out_dim or state_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The head's full output (``out_dim`` values per image)."""
        return self.head(self.backbone(x))


class ConvDecoder(nn.Module):
    """Mirror of the small backbone: state -> image logits (N×C×H×W), resized to the exact image size."""

    def __init__(self, state_dim: int, image_shape: tuple[int, int, int], widths: tuple[int, ...] = (128, 64, 64, 32)) -> None:
        super().__init__()
        self.height, self.width, channels = image_shape
        self.start = (max(self.height // 16, 1), max(self.width // 16, 1))
        self.fc = nn.Linear(state_dim, widths[0] * self.start[0] * self.start[1])
        layers: list[nn.Module] = []
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1), nn.ReLU()]
        layers.append(nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1))
        self.deconv = nn.Sequential(*layers)
        self.widths = widths

    @property
    def output_bias(self) -> torch.Tensor:
        """The per-channel bias of the last layer: the output's level before the state says anything."""
        return self.deconv[-1].bias

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc(state)).view(-1, self.widths[0], *self.start)
        x = self.deconv(x)
        if x.shape[-2:] != (self.height, self.width):
            x = F.interpolate(x, size=(self.height, self.width), mode="bilinear", align_corners=False)
        return x
