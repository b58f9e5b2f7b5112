"""Pixel and supervised loss terms. Each docstring gives the equation the term computes.

The other terms live beside this file: ``vae`` (ELBO reconstruction, KL), ``dynamics`` (forward,
inverse, reward models), ``priors`` (robotic priors), ``contrastive`` (temporal InfoNCE),
``spatial`` (deep spatial autoencoder) and ``world_models`` (MDN-RNN).
"""

from __future__ import annotations

from typing import Any, Literal

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
    """Pixel reconstruction: mean over pixels of (ô_t − o_t)², with ô_t = decoder(s_t) (``output:
    linear``, the default) or sigmoid(decoder(s_t)) (``output: sigmoid``).

    The sigmoid can stall training on scenes that are mostly white (cart-pole, pendulum): reaching
    the white target 1.0 pushes the logits without bound, they saturate everywhere, the object's
    pixels included, and the gradient through sigmoid′ ≈ 0 vanishes (docs/findings.md, section 6).
    The linear output starts at the first training batch's mean colour (the last layer's bias).
    With ``noise_std > 0`` (denoising autoencoder) the encoder sees o_t plus Gaussian noise, and the
    decoder must still reproduce the clean o_t.
    """

    name = "reconstruction"

    class Config(TermConfig):
        noise_std: NonNegativeFloat = 0.0  # denoising autoencoder: std of the input noise (images in [0, 1])
        output: Literal["linear", "sigmoid"] = "linear"  # the decoder's output layer (see the class docstring)

    def __init__(self, state_dim: int, image_shape: tuple[int, int, int], noise_std: float = 0.0,
                 output: str = "linear") -> None:
        super().__init__()
        self.decoder = ConvDecoder(state_dim, image_shape)
        self.noise_std = noise_std
        self.output = output
        if output == "linear":
            # from 0, Adam's small steps take epochs to reach a white background, epochs in which
            # the object's few pixels hardly move the loss (measured: docs/findings.md, section 6)
            self.track_first_batch_start()

    @classmethod
    def build(cls, config: Config, context: dict[str, Any]) -> "Reconstruction":
        return cls(context["state_dim"], context["image_shape"], config.noise_std, config.output)

    def decode(self, state: torch.Tensor) -> torch.Tensor:
        """ô: the image (N×C×H×W) the decoder makes of ``state``; values outside [0, 1] when linear."""
        logits = self.decoder(state)
        return torch.sigmoid(logits) if self.output == "sigmoid" else logits

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.output == "linear":
            self.start_at_first_batch(self.decoder.output_bias, lambda: batch.images.mean(dim=(0, 2, 3)))
        if self.noise_std > 0 and self.training:
            noisy = (batch.images + self.noise_std * torch.randn_like(batch.images)).clamp(0, 1)
            state = batch.embed(noisy)
        else:
            state = batch.state
        return F.mse_loss(self.decode(state), batch.images)


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
