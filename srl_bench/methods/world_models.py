"""World Models (Ha & Schmidhuber 2018): a VAE (vision, V) and an MDN-RNN (memory, M).

The representation is the VAE's mean z (default) or [z, h] (``representation: zh``), h the LSTM's
hidden state carried through each episode: h_0 = 0 and h_t = LSTM([z_t−1, a_t−1], h_t−1), so h_t is
the memory that predicts z_t. The metrics get [z, h] by running the LSTM through whole held-out
episodes (``encode_dataset``); an RL agent gets it step by step (``initial_state`` / ``encode_step``,
the protocol of ``srl_bench.rl``). Called on frames alone (``forward``), a [z, h] encoder has no
history: h is then the initial state, 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.losses.common import action_features
from srl_bench.methods.base import DataContext, Method, SRLModel, build_objective, register_method
from srl_bench.methods.config import WorldModelsConfig
from srl_bench.methods.zoo import build_encoder

REPRESENTATIONS = ("z", "zh")


class WorldModelsEncoder(Encoder):
    """Vision (a Gaussian-headed encoder, z = its mean) + memory (an LSTM over [z_t, a_t])."""

    def __init__(self, vision: Encoder, action_dim: int, discrete: bool, rnn_hidden: int,
                 representation: str = "z") -> None:
        super().__init__(vision.state_dim)
        self.vision = vision
        self.z_dim, self.rnn_hidden = vision.state_dim, rnn_hidden
        self.action_dim, self.discrete = action_dim, discrete
        self.memory = nn.LSTM(self.z_dim + action_dim, rnn_hidden, batch_first=True)
        self.set_representation(representation)

    def set_representation(self, representation: str) -> None:
        """Output z (``"z"``) or [z, h] (``"zh"``); the weights are the same, only the state changes."""
        if representation not in REPRESENTATIONS:
            raise SrlBenchError(f"unknown representation {representation!r}; choose one of: {', '.join(REPRESENTATIONS)}")
        self.representation = representation
        self.state_dim = self.z_dim + (self.rnn_hidden if representation == "zh" else 0)

    def action_features(self, actions: torch.Tensor) -> torch.Tensor:
        return action_features(actions, self.discrete, self.action_dim)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.vision.posterior(x)  # type: ignore[operator]

    def _features(self, z: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        if self.representation == "z":
            return z
        return torch.cat([z, torch.zeros(len(z), self.rnn_hidden, device=z.device) if h is None else h], dim=1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self._features(self.vision.embed(x), None)

    # --- step-wise, for an agent (srl_bench.rl's RecurrentEncoder protocol) ---
    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """(z_t−1, h, c, started) at the start of an episode, batch first."""
        widths = (self.z_dim, self.rnn_hidden, self.rnn_hidden, 1)
        return tuple(torch.zeros(batch_size, width, device=self.device) for width in widths)

    @torch.no_grad()
    def encode_step(self, images: torch.Tensor, prev_actions: torch.Tensor,
                    hidden: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Features of one new image per episode, given the previous action (float, one-hot for
        discrete actions) and the hidden state; returns (features, next hidden)."""
        z = self.vision.embed(self.preprocess(images))
        z_prev, h, c, started = hidden
        step = torch.cat([z_prev, prev_actions.float().to(z.device)], dim=1).unsqueeze(1)
        _, (h_next, c_next) = self.memory(step, (h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()))
        # an episode's first image keeps the initial memory; later ones take one LSTM step
        h = torch.where(started > 0, h_next[0], h)
        c = torch.where(started > 0, c_next[0], c)
        return self._features(z, h), (z, h, c, torch.ones_like(started))

    # --- whole episodes, for the metrics ---
    @torch.no_grad()
    def encode_dataset(self, dataset: Any, rows: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """States of ``rows`` (whole episodes, in order) of a dataset. For [z, h], the LSTM runs
        through each run of consecutive rows of one episode from a zero state."""
        rows = np.asarray(rows)
        was_training = self.training
        self.eval()
        try:
            z = np.concatenate([self.vision.encode(dataset.observations[rows[i : i + batch_size]], batch_size)
                                for i in range(0, len(rows), batch_size)] or [np.zeros((0, self.z_dim), np.float32)])
            if self.representation == "z":
                return z
            return np.concatenate([z, self._memory_states(z, dataset.actions[rows], dataset.episode_ids[rows], rows)], axis=1)
        finally:
            self.train(was_training)

    def _memory_states(self, z: np.ndarray, actions: np.ndarray, episode_ids: np.ndarray, rows: np.ndarray,
                       episodes_per_batch: int = 256) -> np.ndarray:
        """h_t of every row: 0 at a run's first row, then the LSTM output after [z_t−1, a_t−1]."""
        breaks = np.flatnonzero((np.diff(episode_ids) != 0) | (np.diff(rows) != 1)) + 1
        bounds = list(zip(np.r_[0, breaks], np.r_[breaks, len(rows)]))
        inputs = torch.cat([torch.as_tensor(z, device=self.device),
                            self.action_features(torch.as_tensor(np.asarray(actions), device=self.device))], dim=1)
        h = np.zeros((len(rows), self.rnn_hidden), np.float32)
        for i in range(0, len(bounds), episodes_per_batch):
            chunk = bounds[i : i + episodes_per_batch]
            padded = pad_sequence([inputs[start:end] for start, end in chunk], batch_first=True)
            outputs, _ = self.memory(padded)  # padding only follows a run's end, so it never leaks back
            outputs = outputs.cpu().numpy()
            for j, (start, end) in enumerate(chunk):
                h[start + 1 : end] = outputs[j, : end - start - 1]
        return h


def build_world_models(config: WorldModelsConfig, context: DataContext) -> SRLModel:  # type: ignore[override]
    """V + M; the objective (VAE terms and the MDN) is built on the latent z."""
    memory_dims = config.rnn_hidden if config.representation == "zh" else 0
    z_dim = context.true_state_dim if config.state_dim is None else config.state_dim - memory_dims
    if z_dim < 1:
        raise SrlBenchError(f"with representation zh the state is [z, h]: state_dim ({config.state_dim}) must exceed "
                            f"rnn_hidden ({config.rnn_hidden})")
    vision = build_encoder(config, context, z_dim, out_dim=2 * z_dim)
    encoder = WorldModelsEncoder(vision, context.action_dim, context.discrete_actions, config.rnn_hidden,
                                 config.representation)
    return SRLModel(encoder, build_objective(config, context, z_dim, encoder))


def world_models_training(values: dict[str, Any]) -> dict[str, Any]:
    """What decides World Models' trained weights: its config less ``representation`` (z and [z, h] read
    the same trained V and M), with ``state_dim`` as the VAE's latent size it sets (for ``zh``, the
    state dimension less ``rnn_hidden``)."""
    values = dict(values)
    if values.pop("representation", "z") == "zh" and values.get("state_dim") is not None:
        values["state_dim"] -= values["rnn_hidden"]
    return values


register_method(Method(
    name="world_models",
    description="VAE (V) + MDN-RNN (M) on sequences; state z, or [z, h] with representation=zh",
    paper="Ha & Schmidhuber 2018, Recurrent world models facilitate policy evolution, NeurIPS (arXiv:1803.10122)",
    build=build_world_models,  # type: ignore[arg-type]
    config_class=WorldModelsConfig,
    training_identity=world_models_training,
))
