"""Reference points of the zoo: an untrained encoder, PCA, and the downsampled pixels themselves.

(``supervised``, the upper reference, is a recipe: see ``zoo.py``.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from srl_bench.data.frames import RowFrames
from srl_bench.encoder import Encoder, to_float_nchw
from srl_bench.errors import SrlBenchError
from srl_bench.methods.base import DataContext, Method, SRLModel, register_method, resolve_state_dim
from srl_bench.methods.config import MethodConfig, PCAConfig, RawPixelsConfig
from srl_bench.methods.zoo import build_encoder


class RawPixelsEncoder(Encoder):
    """The image area-downsampled to ``pixels``×``pixels`` (values in [0, 1]), flattened channel by
    channel: ``pixels² × channels`` values, e.g. 8×8×3 = 192."""

    def __init__(self, image_shape: tuple[int, int, int], pixels: int) -> None:
        super().__init__(pixels * pixels * image_shape[2])
        self.pixels = pixels

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(x, self.pixels).flatten(1)


class PCAEncoder(Encoder):
    """Projection of the flattened image (values in [0, 1]) on its first principal components:
    s = Vᵀ(x − μ), with μ and V fitted in closed form on a sample of training frames."""

    def __init__(self, image_shape: tuple[int, int, int], state_dim: int, fit_frames: int = 4096) -> None:
        super().__init__(state_dim)
        self.fit_frames = fit_frames  # the most frames ``fit_pca`` reads
        n_pixels = int(np.prod(image_shape))
        if state_dim > n_pixels:
            raise SrlBenchError(f"PCA cannot give {state_dim} components of {n_pixels}-pixel images")
        self.register_buffer("mean", torch.zeros(n_pixels))
        self.register_buffer("components", torch.zeros(n_pixels, state_dim))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) - self.mean) @ self.components

    @torch.no_grad()
    def fit(self, images: np.ndarray, chunk: int = 1024) -> None:
        """Fit the mean and the principal directions on ``images`` (uint8 N×H×W×C), by a randomised
        low-rank SVD (Halko et al. 2011, as ``torch.pca_lowrank``), seeded by torch's generator."""
        if len(images) <= self.state_dim:
            raise SrlBenchError(f"PCA with {self.state_dim} components needs more than {self.state_dim} frames")
        data = torch.cat([to_float_nchw(np.asarray(images[i : i + chunk])).flatten(1)
                          for i in range(0, len(images), chunk)])
        self.mean.copy_(data.mean(dim=0))
        data -= self.mean
        rank = min(self.state_dim + 10, *data.shape)
        _, _, directions = torch.pca_lowrank(data, q=rank, center=False, niter=4)
        self.components.copy_(directions[:, : self.state_dim])


def build_untrained(config: MethodConfig, context: DataContext) -> SRLModel:
    """The configured encoder left at its seeded random initialisation."""
    return SRLModel(build_encoder(config, context, resolve_state_dim(config, context)))


def build_pca(config: PCAConfig, context: DataContext) -> SRLModel:  # type: ignore[override]
    return SRLModel(PCAEncoder(context.image_shape, resolve_state_dim(config, context), config.fit_frames))


def fit_pca(model: SRLModel, dataset: Any, rows: np.ndarray, rng: np.random.Generator) -> None:
    """Fit PCA on at most ``fit_frames`` training inputs (stacks of the encoder's ``frame_stack``
    frames), a seeded sample read in row order."""
    encoder: PCAEncoder = model.encoder  # type: ignore[assignment]
    limit = encoder.fit_frames
    sample = np.sort(rng.choice(rows, limit, replace=False)) if len(rows) > limit else np.asarray(rows)
    encoder.fit(RowFrames(dataset, sample, encoder.frame_stack))


def build_raw_pixels(config: RawPixelsConfig, context: DataContext) -> SRLModel:  # type: ignore[override]
    encoder = RawPixelsEncoder(context.image_shape, config.pixels)
    if config.state_dim is not None and config.state_dim != encoder.state_dim:
        raise SrlBenchError(f"raw_pixels' state is the {config.pixels}×{config.pixels}×{context.image_shape[2]} image "
                            f"({encoder.state_dim} values), not {config.state_dim}; set `pixels` instead of state_dim")
    return SRLModel(encoder)


register_method(Method(
    name="random",
    description="baseline: the same CNN encoder, untrained (seeded random weights)",
    paper="lower reference, as in Raffin et al. 2018, S-RL Toolbox, arXiv:1809.09369",
    build=build_untrained,
    trainable=False,
))
register_method(Method(
    name="pca",
    description="baseline: principal components of the flattened image, fitted in closed form",
    paper="Pearson 1901, On lines and planes of closest fit to systems of points in space; "
          "as an SRL baseline in Lesort et al. 2018, State representation learning for control: an overview",
    build=build_pca,  # type: ignore[arg-type]
    config_class=PCAConfig,
    trainable=False,
    fit=fit_pca,
))
register_method(Method(
    name="raw_pixels",
    description="baseline: the image itself, area-downsampled to 8×8×3 = 192 values",
    paper="reference representation, as in Raffin et al. 2018, S-RL Toolbox, arXiv:1809.09369",
    build=build_raw_pixels,  # type: ignore[arg-type]
    config_class=RawPixelsConfig,
    trainable=False,
))
