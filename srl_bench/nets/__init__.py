"""Backbones (CNNs for pixels, an MLP for vectors), decoders, and the encoder factory."""

from __future__ import annotations

from srl_bench.encoder import Encoder, FeatureEncoder, gaussian_posterior
from srl_bench.nets.conv import BACKBONES, ConvDecoder, ConvEncoder, conv_backbone
from srl_bench.nets.mlp import MLPEncoder, mlp
from srl_bench.nets.spatial import SpatialSoftArgmax, SpatialSoftmaxEncoder

ENCODER_BACKBONES = (*BACKBONES, "mlp")


def make_encoder(backbone: str, image_shape: tuple[int, ...], state_dim: int, out_dim: int | None = None) -> Encoder:
    """The encoder of a method: a CNN (``small``, suited to 64×64, or ``deep``) or an ``mlp``.

    ``out_dim`` (default ``state_dim``) is the width of the last layer, e.g. ``2 * state_dim`` for a
    Gaussian posterior's mean and log-variance; ``embed`` returns the first ``state_dim`` values.
    """
    if backbone == "mlp":
        return MLPEncoder(image_shape, state_dim, out_dim=out_dim)
    if backbone in BACKBONES:
        return ConvEncoder(tuple(image_shape), state_dim, backbone, out_dim=out_dim)  # type: ignore[arg-type]
    raise ValueError(f"unknown backbone {backbone!r}; choose one of: {', '.join(ENCODER_BACKBONES)}")


__all__ = ["BACKBONES", "ENCODER_BACKBONES", "ConvDecoder", "ConvEncoder", "FeatureEncoder", "MLPEncoder",
           "SpatialSoftArgmax", "SpatialSoftmaxEncoder", "conv_backbone", "gaussian_posterior", "make_encoder", "mlp"]
