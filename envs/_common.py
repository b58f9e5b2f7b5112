"""Helpers shared by the srl-bench environments: image-size parsing and the observation space."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Gymnasium's pygame renderers probe for a display; none is needed for rgb_array frames.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

MIN_IMAGE_SIDE = 8
MAX_IMAGE_SIDE = 1024


def parse_image_size(image_size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """Return ``(height, width)`` from an int (square) or a pair, or raise a clear ``ValueError``."""
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        height = width = int(image_size)
    elif (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in image_size)
    ):
        height, width = int(image_size[0]), int(image_size[1])
    else:
        raise ValueError(
            f"image_size must be an int or a (height, width) pair of ints, got {image_size!r}"
        )
    for side in (height, width):
        if not MIN_IMAGE_SIDE <= side <= MAX_IMAGE_SIDE:
            raise ValueError(
                f"image_size sides must be between {MIN_IMAGE_SIDE} and {MAX_IMAGE_SIDE} pixels, "
                f"got {image_size!r}"
            )
    return height, width


def image_space(height: int, width: int) -> spaces.Box:
    """The observation space of every srl-bench env: an RGB uint8 image."""
    return spaces.Box(0, 255, (height, width, 3), dtype=np.uint8)


class FrameEnv(gym.Env):
    """Base of the srl-bench envs: ``render()`` returns the last observation frame (``self._frame``).

    Subclasses draw a frame in ``_draw_frame()`` and observe through ``_observe()``. Setting
    ``draws_frames = False`` (on the unwrapped env) makes every observation one blank image and skips
    the drawing: for agents that read only ``info["state"]`` (the ground-truth and random-policy RL
    references), to which the camera of the robot arm would otherwise cost 70% of a step.
    """

    metadata = {"render_modes": ["rgb_array"]}
    draws_frames: bool = True
    _frame: np.ndarray | None = None

    def _draw_frame(self) -> np.ndarray:
        """The current frame, ``observation_space.shape`` uint8."""
        raise NotImplementedError

    def _observe(self) -> np.ndarray:
        """The observation: the drawn frame, or the blank image when ``draws_frames`` is False."""
        drawn = self._draw_frame() if self.draws_frames else np.zeros(self.observation_space.shape, np.uint8)
        self._frame = drawn
        return drawn

    def render(self) -> np.ndarray | None:
        """The current frame (the observation) when ``render_mode="rgb_array"``."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; make the env with render_mode='rgb_array'")
            return None
        return None if self._frame is None else self._frame.copy()
