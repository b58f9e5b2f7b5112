"""Variational autoencoder terms (Kingma & Welling 2014): the negative ELBO is
``vae_reconstruction + kl``, and a β-VAE (Higgins et al. 2017) is the same with the KL weighted by β."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from srl_bench.losses.base import LossTerm, TermConfig, register_term
from srl_bench.losses.batch import Batch
from srl_bench.nets import ConvDecoder


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, diag(exp(log_var))) ‖ N(0, I)) = ½ Σ_d (μ_d² + σ_d² − 1 − log σ_d²), summed over
    dimensions and averaged over the batch."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1).mean()


def posterior_sample(batch: Batch) -> torch.Tensor:
    """One reparameterised sample s = μ + σ·ε, ε ~ N(0, I), of q(s | o_t); shared by the terms of a batch."""
    def draw() -> torch.Tensor:
        mean, log_var = batch.posterior
        return mean + (0.5 * log_var).exp() * torch.randn_like(mean)

    return batch.get("posterior_sample", draw)


@register_term
class ELBOReconstruction(LossTerm):
    """−log p(o_t | s), s ~ q(s | o_t) (one reparameterised sample), with a Bernoulli likelihood on
    each pixel intensity in [0, 1]: Σ_pixels BCE(sigmoid(decoder(s)), o_t), averaged over the batch.

    Summed over pixels (not averaged), so that with ``kl`` at weight 1 the objective is exactly the
    negative ELBO and a KL weight β means what it means in the β-VAE paper.
    """

    name = "vae_reconstruction"

    def __init__(self, state_dim: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.decoder = ConvDecoder(state_dim, image_shape)

    @classmethod
    def build(cls, config: TermConfig, context: dict[str, Any]) -> "ELBOReconstruction":
        return cls(context["state_dim"], context["image_shape"])

    def forward(self, batch: Batch) -> torch.Tensor:
        logits = self.decoder(posterior_sample(batch))
        return F.binary_cross_entropy_with_logits(logits, batch.images, reduction="sum") / len(logits)


@register_term
class KLDivergence(LossTerm):
    """KL(q(s | o_t) ‖ N(0, I)) for the encoder's diagonal Gaussian posterior (see ``gaussian_kl``);
    its weight is the β of a β-VAE."""

    name = "kl"

    def forward(self, batch: Batch) -> torch.Tensor:
        return gaussian_kl(*batch.posterior)
