"""World Models' memory (Ha & Schmidhuber 2018): an MDN-RNN that predicts the next latent code.

The RNN lives in the world-models encoder (its hidden state is part of the ``[z, h]`` representation),
so the term is built with that encoder (``context["encoder"]``: anything with an LSTM ``memory``, an
``rnn_hidden`` size and ``action_features``); this term owns the mixture density head and computes the negative log-likelihood of z_t+1 under
p(z_t+1 | z_t, a_t, h_t), a mixture of K Gaussians per latent dimension, as in the paper.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pydantic import Field, PositiveInt

from srl_bench.losses.base import LossTerm, TermConfig, register_term
from srl_bench.losses.batch import Batch
from srl_bench.losses.vae import posterior_sample


def mdn_nll(target: torch.Tensor, weight_logits: torch.Tensor, means: torch.Tensor, log_stds: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of ``target`` (..., Z) under a mixture of K Gaussians per dimension, the
    parameters shaped (..., K, Z): −log Σ_k π_k N(target | μ_k, σ_k²), π = softmax over k of the
    logits; averaged over every dimension and leading index."""
    log_weights = F.log_softmax(weight_logits, dim=-2)
    z = (target.unsqueeze(-2) - means) / log_stds.exp()
    log_normal = -0.5 * z.pow(2) - log_stds - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(log_weights + log_normal, dim=-2).mean()


@register_term
class MDNRNN(LossTerm):
    """−log p(z_t+1 | z_t, a_t, h_t) over the windows of a sequence batch: the encoder's RNN reads
    [z_t, a_t] for t = 0..L−2 from a zero state, a linear head gives the mixture parameters, and the
    targets are z_1..z_L−1. z are samples of the VAE posterior with the gradient stopped, so the memory
    learns on the vision model's codes without shaping them — the paper's two-stage training (V, then
    M), run as one objective."""

    name = "mdn"

    class Config(TermConfig):
        sequence_length: int = Field(8, ge=2)  # frames per training window (never crossing an episode)
        components: PositiveInt = 5  # Gaussians per latent dimension

    def __init__(self, z_dim: int, rnn_hidden: int, components: int, sequence_length: int) -> None:
        super().__init__()
        if sequence_length < 2:
            raise ValueError(f"the MDN-RNN needs windows of at least 2 frames, got sequence_length {sequence_length}")
        self.z_dim, self.components = z_dim, components
        self.sequence_length = sequence_length
        self.head = nn.Linear(rnn_hidden, 3 * components * z_dim)

    @classmethod
    def build(cls, config: Config, context: dict[str, Any]) -> "MDNRNN":
        rnn_hidden = getattr(context.get("encoder"), "rnn_hidden", None)
        if rnn_hidden is None:
            raise ValueError("the mdn term needs the world_models encoder (a VAE with an RNN memory)")
        return cls(context["state_dim"], rnn_hidden, config.components, config.sequence_length)

    def forward(self, batch: Batch) -> torch.Tensor:
        encoder = batch.encoder
        codes = batch.sequences(posterior_sample(batch).detach())
        actions = batch.sequences(encoder.action_features(batch.actions))
        hidden, _ = encoder.memory(torch.cat([codes[:, :-1], actions[:, :-1]], dim=-1))
        params = self.head(hidden).reshape(*hidden.shape[:2], 3, self.components, self.z_dim)
        log_stds = params[:, :, 2].clamp(-7.0, 5.0)
        return mdn_nll(codes[:, 1:], params[:, :, 0], params[:, :, 1], log_stds)
