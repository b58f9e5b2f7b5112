"""The minibatch that loss terms read from, computing each quantity once and only when asked."""

from __future__ import annotations

from typing import Any, Callable

import torch

from srl_bench.encoder import Encoder, to_float_nchw


class Batch:
    """A minibatch of dataset rows on the training device, with lazily computed, cached quantities.

    Raw tensors (``obs``, ``actions``, ``rewards``, ``true_states`` and, for transition batches,
    ``next_obs``, ``next_true_states``) come from the dataset. Derived quantities are computed the
    first time a loss term asks and then shared: ``images`` (float N×C×H×W in [0, 1]), ``state``
    (the encoder's output), ``next_images``, ``next_state``. Terms may cache their own derived
    quantities with ``get(key, compute)``.
    """

    def __init__(self, encoder: Encoder, tensors: dict[str, torch.Tensor]) -> None:
        self.encoder = encoder
        self.tensors = tensors
        self._cache: dict[str, Any] = {}

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        """The cached value of ``key``, computed with ``compute()`` on first use."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def __getattr__(self, name: str) -> torch.Tensor:
        tensors = self.__dict__.get("tensors", {})
        if name in tensors:
            return tensors[name]
        raise AttributeError(f"this batch has no {name!r}; a loss term asked for data the trainer did not load")

    def __len__(self) -> int:
        return len(self.tensors["obs"])

    @property
    def images(self) -> torch.Tensor:
        return self.get("images", lambda: to_float_nchw(self.tensors["obs"]))

    @property
    def next_images(self) -> torch.Tensor:
        return self.get("next_images", lambda: to_float_nchw(self.tensors["next_obs"]))

    @property
    def state(self) -> torch.Tensor:
        return self.get("state", lambda: self.encoder.embed(self.images))

    @property
    def next_state(self) -> torch.Tensor:
        return self.get("next_state", lambda: self.encoder.embed(self.next_images))
