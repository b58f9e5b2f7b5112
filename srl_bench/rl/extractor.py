"""Any encoder as a Stable-Baselines3 features extractor, frozen or fine-tuned, for your own SB3 code::

    from stable_baselines3 import PPO
    from srl_bench.rl import EncoderFeaturesExtractor

    agent = PPO("CnnPolicy", env, policy_kwargs={
        "features_extractor_class": EncoderFeaturesExtractor,
        "features_extractor_kwargs": {"encoder": encoder, "trainable": False},
    })

What the extractor receives is what SB3 makes of an image observation ``Box(0, 255, (H, W, C), uint8)``:
the agent wraps the env in ``VecTransposeImage`` (channels first), and the policy's ``preprocess_obs``
casts to float and, with ``normalize_images=True`` (SB3's default), divides by 255. So it gets float
N×C×H×W in [0, 1] — exactly what an ``srl_bench.Encoder``'s ``embed`` takes, which it calls directly
(so gradients reach the encoder when it is trainable). Any other encoder (an ``nn.Module`` or a
callable on uint8 N×H×W×C, the srl-bench convention) gets the images converted back to uint8 N×H×W×C.
With ``normalize_images=False`` in ``policy_kwargs``, pass ``normalize_images=False`` here too.
SB3's orthogonal initialisation of on-policy agents (``ortho_init``) is kept off the encoder, so its
trained weights are what the agent starts from.

srl-bench's own downstream RL does not use this: it encodes in a VecEnv wrapper
(``srl_bench.rl.wrappers``), many times faster for a frozen encoder. Use the extractor to fine-tune.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.preprocessing import is_image_space_channels_first
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.plugins import PROBE_FRAMES, check_encoder


class EncoderFeaturesExtractor(BaseFeaturesExtractor):
    """An encoder as SB3's features extractor: ``features_dim`` is its state size.

    Args:
        observation_space: the (image) observation space SB3 hands the policy: ``Box`` of C×H×W (after
            SB3's ``VecTransposeImage``) or H×W×C images.
        encoder: an ``srl_bench.Encoder`` (e.g. from ``srl_bench.load_run``), any ``nn.Module`` mapping
            uint8 N×H×W×C images to N×K states, or a plain callable doing the same on NumPy arrays
            (frozen only). It is checked at the door on a few random images of the space.
        trainable: False (default): the encoder's weights are frozen (``requires_grad`` off, kept in
            eval mode even while SB3 trains the policy, run without gradients); True: they are trained
            with the policy by the agent's optimiser (``requires_grad`` on for all of them).
        normalize_images: whether the policy divides images by 255 (SB3's ``normalize_images``, True
            by default); keep the two equal.
    """

    def __init__(self, observation_space: gym.Space, encoder: Any, trainable: bool = False,
                 normalize_images: bool = True) -> None:
        shape = getattr(observation_space, "shape", None)
        if not isinstance(observation_space, gym.spaces.Box) or shape is None or len(shape) != 3:
            raise SrlBenchError(f"EncoderFeaturesExtractor takes image observations (a Box of H×W×C or C×H×W images), "
                                f"got {observation_space}")
        if trainable and not isinstance(encoder, nn.Module):
            raise SrlBenchError(f"a {type(encoder).__name__} has no weights to train; pass trainable=False, or an "
                                "nn.Module encoder")
        if not callable(encoder):
            raise SrlBenchError(f"the encoder must be an srl_bench.Encoder, an nn.Module or a callable images -> "
                                f"states, got a {type(encoder).__name__}")
        channels_first = bool(is_image_space_channels_first(observation_space))
        height, width, channels = (shape[1], shape[2], shape[0]) if channels_first else shape
        probe = np.random.default_rng(0).integers(0, 256, (PROBE_FRAMES, height, width, channels), dtype=np.uint8)
        features_dim = check_encoder(encoder, probe, where="the observation space (random images)")
        super().__init__(observation_space, features_dim)
        self.channels_first = channels_first
        self.trainable = bool(trainable)
        self.normalize_images = bool(normalize_images)
        if isinstance(encoder, nn.Module):
            self.encoder = encoder  # a submodule: moved with the policy, saved with it
            encoder.requires_grad_(self.trainable)
            if not self.trainable:
                encoder.eval()
        else:
            self._function = encoder
        # an srl_bench.Encoder that keeps the base forward takes SB3's float images as they come
        self._embeds = isinstance(encoder, Encoder) and type(encoder).forward is Encoder.forward

    @property
    def wrapped(self) -> Any:
        """The encoder inside."""
        return self.encoder if hasattr(self, "encoder") else self._function

    def apply(self, fn: Any) -> "EncoderFeaturesExtractor":
        """``nn.Module.apply`` that leaves the encoder alone: SB3's on-policy agents (PPO, A2C) apply an
        orthogonal re-initialisation to the features extractor (``ortho_init``), which would overwrite
        the encoder's (trained) weights, frozen or not."""
        for module in self.children():
            if module is not getattr(self, "encoder", None):
                module.apply(fn)
        fn(self)
        return self

    def train(self, mode: bool = True) -> "EncoderFeaturesExtractor":
        """SB3 switches the policy to training mode while it learns; a frozen encoder stays in eval mode."""
        super().train(mode)
        if not self.trainable and hasattr(self, "encoder"):
            self.encoder.eval()
        return self

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """States of a batch of observations as SB3 gives them (float, channels first, in [0, 1])."""
        if self.trainable:
            return self._encode(observations)
        with torch.no_grad():
            return self._encode(observations)

    def _encode(self, observations: torch.Tensor) -> torch.Tensor:
        x = observations.float()
        if not self.channels_first:
            x = x.permute(0, 3, 1, 2)
        if not self.normalize_images:
            x = x / 255.0
        if self._embeds:
            states = self.encoder.embed(x)
        else:
            images = (x * 255.0).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()
            if hasattr(self, "encoder"):
                states = torch.as_tensor(self.encoder(images))
            else:
                states = torch.as_tensor(np.asarray(self._function(images.cpu().numpy()), dtype=np.float32))
        return states.to(observations.device).float().reshape(len(observations), -1)
