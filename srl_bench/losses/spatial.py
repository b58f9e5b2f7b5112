"""Deep spatial autoencoder terms (Finn et al. 2016, "Deep spatial autoencoders for visuomotor
learning"): keypoints must reconstruct a downsampled grayscale image through a single linear layer,
and move smoothly in time."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pydantic import PositiveInt

from srl_bench.losses.base import LossTerm, TermConfig, register_term
from srl_bench.losses.batch import Batch


def grayscale_target(images: torch.Tensor, size: int) -> torch.Tensor:
    """Float N×C×H×W images -> N×(size·size) grayscale images, area-downsampled."""
    return F.adaptive_avg_pool2d(images.mean(dim=1, keepdim=True), size).flatten(1)


@register_term
class SpatialReconstruction(LossTerm):
    """Mean over pixels of (W s_t + b − ō_t)², ō_t the image downsampled to ``recon_size``² and made
    grayscale, (W, b) one linear layer: the keypoints alone must say where things are."""

    name = "spatial_reconstruction"

    class Config(TermConfig):
        recon_size: PositiveInt = 16  # side of the downsampled grayscale target

    def __init__(self, state_dim: int, size: int) -> None:
        super().__init__()
        self.size = size
        self.decoder = nn.Linear(state_dim, size * size)
        # the bias starts at the first training batch's mean image: with a 4-number code, fitting the
        # background from 0 by small Adam steps would take the whole budget before keypoints matter
        self.track_first_batch_start()

    @classmethod
    def build(cls, config: Config, context: dict[str, Any]) -> "SpatialReconstruction":
        return cls(context["state_dim"], config.recon_size)

    def forward(self, batch: Batch) -> torch.Tensor:
        target = batch.get("grayscale_target", lambda: grayscale_target(batch.images, self.size))
        self.start_at_first_batch(self.decoder.bias, lambda: target.mean(dim=0))
        return F.mse_loss(self.decoder(batch.state), target)


@register_term
class KeypointSmoothness(LossTerm):
    """Finn et al.'s slowness term: E[‖(s_t+1 − s_t) − (s_t − s_t−1)‖²] over consecutive triples of a
    sequence window (constant-velocity keypoints cost nothing)."""

    name = "keypoint_smoothness"
    sequence_length = 3

    def forward(self, batch: Batch) -> torch.Tensor:
        states = batch.sequences(batch.state)
        acceleration = states[:, 2:] - 2 * states[:, 1:-1] + states[:, :-2]
        return acceleration.pow(2).sum(dim=-1).mean()
