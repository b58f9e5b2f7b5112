"""Pixel and supervised loss terms. Each docstring gives the equation the term computes.

The other terms live beside this file: ``vae`` (ELBO reconstruction, KL), ``dynamics`` (forward,
inverse, reward models), ``priors`` (robotic priors), ``contrastive`` (temporal InfoNCE),
``spatial`` (deep spatial autoencoder) and ``world_models`` (MDN-RNN).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pydantic import NonNegativeFloat

from srl_bench.losses.base import LossTerm, TermConfig, register_term
from srl_bench.losses.batch import Batch
from srl_bench.nets import ConvDecoder


@register_term
class Reconstruction(LossTerm):
    """Pixel reconstruction: mean over pixels of (sigmoid(decoder(s_t)) − o_t)².

    With ``noise_std > 0`` (denoising autoencoder) the encoder sees o_t plus Gaussian noise, and the
    decoder must still reproduce the clean o_t.
    """

    name = "reconstruction"

    class Config(TermConfig):
        noise_std: NonNegativeFloat = 0.0  # denoising autoencoder: std of the input noise (images in [0, 1])

    def __init__(self, state_dim: int, image_shape: tuple[int, int, int], noise_std: float = 0.0) -> None:
        super().__init__()
        self.decoder = ConvDecoder(state_dim, image_shape)
        self.noise_std = noise_std

    @classmethod
    def build(cls, config: Config, context: dict[str, Any]) -> "Reconstruction":
        return cls(context["state_dim"], context["image_shape"], config.noise_std)

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.noise_std > 0 and self.training:
            noisy = (batch.images + self.noise_std * torch.randn_like(batch.images)).clamp(0, 1)
            state = batch.embed(noisy)
        else:
            state = batch.state
        return F.mse_loss(torch.sigmoid(self.decoder(state)), batch.images)


@register_term
class StateRegression(LossTerm):
    """Supervised regression of the true state: mean over dims of (head(s_t) − ĝ_t)², with ĝ the true
    state standardised per dimension by the training set's mean and standard deviation."""

    name = "state_regression"

    def __init__(self, state_dim: int, train_states: np.ndarray) -> None:
        super().__init__()
        true_dim = train_states.shape[1]
        std = train_states.std(axis=0)
        self.register_buffer("mean", torch.as_tensor(train_states.mean(axis=0), dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.where(std > 1e-8, std, 1.0), dtype=torch.float32))
        self.head: nn.Module = nn.Identity() if state_dim == true_dim else nn.Linear(state_dim, true_dim)

    @classmethod
    def build(cls, config: TermConfig, context: dict[str, Any]) -> "StateRegression":
        return cls(context["state_dim"], context["train_states"])

    def forward(self, batch: Batch) -> torch.Tensor:
        target = (batch.true_states - self.mean) / self.std
        return F.mse_loss(self.head(batch.state), target)
