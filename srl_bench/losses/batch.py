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
    (the encoder's output), ``next_images``, ``next_state``, ``posterior`` (mean and log-variance of a
    variational encoder). Terms may cache their own derived quantities with ``get(key, compute)``.

    Sequence batches (``sequence_length`` L > 1) hold B windows of L consecutive frames of one
    episode, flattened to B·L rows in time order, so frame-wise terms need no change and sequence
    terms reshape with ``sequences(x)`` to B×L×....

    ``view(dims)`` gives the same batch seen by a term that owns only the state dimensions ``dims``
    (``srl_splits``): its ``state``, ``next_state``, ``posterior`` and ``embed`` are sliced, all the
    rest (and the encoder's single forward pass) is shared.
    """

    def __init__(self, encoder: Encoder, tensors: dict[str, torch.Tensor], sequence_length: int = 1,
                 dims: slice | None = None, cache: dict[Any, Any] | None = None) -> None:
        self.encoder = encoder
        self.tensors = tensors
        self.sequence_length = sequence_length
        self.dims = dims
        self._cache: dict[Any, Any] = {} if cache is None else cache

    def view(self, dims: slice) -> "Batch":
        """This batch as seen by a term that owns only the state dimensions ``dims``."""
        return Batch(self.encoder, self.tensors, self.sequence_length, dims, self._cache)

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        """The cached value of ``key`` (per state slice, for views), computed with ``compute()`` on first use."""
        full_key = key if self.dims is None else (key, self.dims.start, self.dims.stop)
        if full_key not in self._cache:
            self._cache[full_key] = compute()
        return self._cache[full_key]

    def __getattr__(self, name: str) -> torch.Tensor:
        tensors = self.__dict__.get("tensors", {})
        if name in tensors:
            return tensors[name]
        raise AttributeError(f"this batch has no {name!r}; a loss term asked for data the trainer did not load")

    def __len__(self) -> int:
        return len(self.tensors["obs"])

    def _slice(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.dims is None else x[:, self.dims]

    def _shared(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def sequences(self, x: torch.Tensor) -> torch.Tensor:
        """Rows B·L×... as B windows × L steps × ...."""
        return x.reshape(-1, self.sequence_length, *x.shape[1:])

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """The encoder's state (this view's slice of it) for other images, e.g. noisy or augmented ones."""
        return self._slice(self.encoder.embed(images))

    @property
    def images(self) -> torch.Tensor:
        return self._shared("images", lambda: to_float_nchw(self.tensors["obs"]))

    @property
    def next_images(self) -> torch.Tensor:
        return self._shared("next_images", lambda: to_float_nchw(self.tensors["next_obs"]))

    @property
    def state(self) -> torch.Tensor:
        return self._slice(self._shared("state", lambda: self.encoder.embed(self.images)))

    @property
    def next_state(self) -> torch.Tensor:
        return self._slice(self._shared("next_state", lambda: self.encoder.embed(self.next_images)))

    @property
    def posterior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of the encoder's Gaussian posterior q(s | o_t); the mean is ``state``."""
        if not hasattr(self.encoder, "posterior"):
            raise TypeError(f"{type(self.encoder).__name__} is not variational (it has no `posterior`); "
                            "variational terms need an encoder built with a Gaussian head")

        def compute() -> tuple[torch.Tensor, torch.Tensor]:
            mean, log_var = self.encoder.posterior(self.images)
            if mean.shape[1] == self.encoder.state_dim:  # the state is the posterior mean: compute it once
                self._cache.setdefault("state", mean)
            return mean, log_var

        mean, log_var = self._shared("posterior", compute)
        return self._slice(mean), self._slice(log_var)
