"""Backbones (CNNs for pixels, an MLP for vectors) and decoders."""

from srl_bench.nets.conv import ConvDecoder, ConvEncoder, conv_backbone
from srl_bench.nets.mlp import mlp

__all__ = ["ConvDecoder", "ConvEncoder", "conv_backbone", "mlp"]
