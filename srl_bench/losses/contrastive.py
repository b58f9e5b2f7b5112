"""Temporal contrastive learning: InfoNCE between consecutive frames (van den Oord et al. 2018), the
temporal pairing of ATC (Stooke et al. 2021) with CURL-style random-shift augmentation (Laskin et al.
2020)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from pydantic import NonNegativeInt, PositiveFloat

from srl_bench.losses.base import HeadConfig, LossTerm, register_term
from srl_bench.losses.batch import Batch
from srl_bench.nets import mlp


def random_shift(images: torch.Tensor, pad: int) -> torch.Tensor:
    """Each image translated by its own random offset in [−pad, pad] pixels (edges replicated)."""
    if pad <= 0:
        return images
    n, c, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")
    dy = torch.randint(0, 2 * pad + 1, (n, 1), device=images.device)
    dx = torch.randint(0, 2 * pad + 1, (n, 1), device=images.device)
    rows = (torch.arange(h, device=images.device) + dy)[:, None, :, None]
    cols = (torch.arange(w, device=images.device) + dx)[:, None, None, :]
    batch_index = torch.arange(n, device=images.device)[:, None, None, None]
    channel_index = torch.arange(c, device=images.device)[None, :, None, None]
    return padded[batch_index, channel_index, rows, cols]


def info_nce(queries: torch.Tensor, keys: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE: row i of ``queries`` must pick row i of ``keys`` among all keys of the batch
    (and vice versa), by cosine similarity / temperature; the mean of the two cross-entropies."""
    logits = F.normalize(queries, dim=1) @ F.normalize(keys, dim=1).T / temperature
    labels = torch.arange(len(logits), device=logits.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


@register_term
class TemporalInfoNCE(LossTerm):
    """InfoNCE(g(s_t), g(s_t+1)): the projected state of a (shifted) frame must identify the projected
    state of the (shifted) next frame among the batch's other next frames. g is a small MLP
    projection head; the encoder sees both frames (no momentum encoder)."""

    name = "infonce"

    class Config(HeadConfig):
        temperature: PositiveFloat = 0.1  # softmax temperature of the cosine similarities
        augment_shift: NonNegativeInt = 4  # random shift of each frame by up to this many pixels (0: none)
    needs_next = True

    def __init__(self, state_dim: int, hidden: tuple[int, ...], temperature: float, shift: int) -> None:
        super().__init__()
        self.projection = mlp(state_dim, 64, hidden)
        self.temperature = temperature
        self.shift = shift

    @classmethod
    def build(cls, config: Config, context: dict[str, Any]) -> "TemporalInfoNCE":
        return cls(context["state_dim"], config.head_hidden, config.temperature, config.augment_shift)

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.training and self.shift > 0:
            state = batch.embed(random_shift(batch.images, self.shift))
            next_state = batch.embed(random_shift(batch.next_images, self.shift))
        else:
            state, next_state = batch.state, batch.next_state
        return info_nce(self.projection(state), self.projection(next_state), self.temperature)
