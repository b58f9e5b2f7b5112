"""The encoder contract: images in, low-dimensional states out.

Convention (one, converted in one place): encoders take a batch of images as **uint8, N×H×W×C**
(channels last, exactly as environments return them and datasets store them), as a NumPy array or a
tensor. ``Encoder.preprocess`` turns that into float N×C×H×W in [0, 1]; subclasses implement
``embed`` on the preprocessed tensor. Everything downstream (metrics, probes, RL) calls only
``forward`` / ``encode``.
"""

from __future__ import annotations

from typing import Callable, Union

import numpy as np
import torch
from torch import nn

from srl_bench.errors import SrlBenchError


class ImageInputError(SrlBenchError, ValueError):
    """Images that do not follow the encoder convention (uint8 N×H×W×C of the encoder's size); a
    ``ValueError`` too, as it was before it became an ``SrlBenchError``."""


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in shape) or "a scalar"


def to_float_nchw(images: np.ndarray | torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """uint8 N×H×W×C images (array or tensor) -> float32 N×C×H×W in [0, 1] on ``device``."""
    try:
        tensor = torch.as_tensor(images)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ImageInputError(f"expected a batch of uint8 images N×H×W×C, got {type(images).__name__} that is not "
                              f"an array ({exc.__class__.__name__})") from None
    if tensor.ndim != 4:
        raise ImageInputError(f"expected a batch of images N×H×W×C, got shape {_shape(tuple(tensor.shape))}; "
                              "add the batch dimension for a single image (images[None])")
    if tensor.dtype != torch.uint8:
        raise ImageInputError(f"expected uint8 images (values 0..255, as environments and datasets give them), got "
                              f"{str(tensor.dtype).removeprefix('torch.')}; pass the uint8 frames, not scaled floats")
    if device is not None:
        tensor = tensor.to(device, non_blocking=True)
    return tensor.permute(0, 3, 1, 2).float().div_(255.0)


class Encoder(nn.Module):
    """Base class of every encoder: ``state_dim`` and ``forward(uint8 N×H×W×C) -> (N, state_dim)``.

    Subclasses implement ``embed(x)`` on float N×C×H×W images in [0, 1]. To plug in an encoder of
    your own, subclass this and implement ``embed`` (or override ``forward`` entirely), then pass it
    to ``srl_bench.evaluate``. ``frame_stack = k > 1`` says the encoder takes the last k frames of an
    episode stacked along the channels (oldest first; H×W×3k), which scoring and RL then feed it.
    """

    frame_stack: int = 1

    def __init__(self, state_dim: int) -> None:
        super().__init__()
        if state_dim < 1:
            raise ValueError(f"state_dim must be at least 1, got {state_dim}")
        self.state_dim = int(state_dim)

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")

    def preprocess(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 N×H×W×C -> float N×C×H×W in [0, 1], on this encoder's device; images of another
        size than the encoder's ``image_shape`` (when it has one) are refused."""
        expected = getattr(self, "image_shape", None)
        shape = tuple(getattr(images, "shape", ()))
        if expected is not None and len(shape) == 4 and shape[1:] != tuple(expected):
            hint = " (channels first? images are N×H×W×C)" if shape[1:] == (expected[2], expected[0], expected[1]) else ""
            raise ImageInputError(f"this {type(self).__name__} takes {_shape(tuple(expected))} images, got "
                                  f"{_shape(shape[1:])}{hint}; give it images of the size it was built for")
        return to_float_nchw(images, self.device)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """States from preprocessed images (float N×C×H×W in [0, 1])."""
        raise NotImplementedError

    def forward(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        return self.embed(self.preprocess(images))

    @torch.no_grad()
    def encode(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """States of a (possibly memory-mapped) image array, in eval mode and batches, as float32."""
        was_training = self.training
        self.eval()
        out = [self(np.array(images[i : i + batch_size])).float().cpu().numpy()
               for i in range(0, len(images), batch_size)]
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.state_dim), np.float32)


def gaussian_posterior(features: torch.Tensor, state_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split an encoder's ``2 * state_dim`` outputs into (mean, log-variance); the mean is the state."""
    if features.shape[1] != 2 * state_dim:
        raise ValueError(f"a Gaussian posterior needs 2 × {state_dim} encoder outputs, this encoder gives "
                         f"{features.shape[1]}; build it with out_dim = 2 * state_dim")
    return features[:, :state_dim], features[:, state_dim:]


class FeatureEncoder(Encoder):
    """An encoder whose network gives ``out_dim >= state_dim`` features: the state is the first
    ``state_dim`` of them, and with ``out_dim = 2 * state_dim`` they are a Gaussian posterior.

    Subclasses implement ``features(x)`` only.
    """

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The network's full output (``out_dim`` values per input)."""
        raise NotImplementedError

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)[:, : self.state_dim]

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of a diagonal Gaussian over the state; needs ``out_dim = 2 * state_dim``."""
        return gaussian_posterior(self.features(x), self.state_dim)


EncoderLike = Union[nn.Module, Callable[[np.ndarray], np.ndarray]]


@torch.no_grad()
def encode_images(encoder: EncoderLike, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """States of ``images`` from an ``Encoder``, any ``nn.Module`` taking uint8 N×H×W×C, or a plain
    callable mapping a NumPy image batch to NumPy states."""
    if isinstance(encoder, Encoder):
        return encoder.encode(images, batch_size)
    if isinstance(encoder, nn.Module):
        was_training = encoder.training
        encoder.eval()
        try:
            device = next(encoder.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        out = [torch.as_tensor(encoder(torch.as_tensor(np.array(images[i : i + batch_size]), device=device)))
               .float().cpu().numpy() for i in range(0, len(images), batch_size)]
        encoder.train(was_training)
    else:
        out = [np.asarray(encoder(np.asarray(images[i : i + batch_size])), dtype=np.float32)
               for i in range(0, len(images), batch_size)]
    states = np.concatenate(out)
    return states.reshape(len(states), -1)
