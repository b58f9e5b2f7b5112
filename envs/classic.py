"""Pixel cart-pole and pendulum: Gymnasium's own dynamics, observed as small RGB images.

The physics is Gymnasium's ``CartPoleEnv`` / ``PendulumEnv``, held inside and stepped unchanged. The
observation is an image of the scene drawn directly at the observation size by a NumPy rasteriser
(``renderer="numpy"``, the default), or by Gymnasium's pygame renderer followed by a crop and an
area resize (``renderer="gymnasium"``). Both draw the same geometry through the same view, so they
agree on where the cart, pole and pendulum are.

Views (in Gymnasium's canvas pixels, y up): cart-pole keeps the full 600-pixel width (the whole track)
and the band y ∈ [75, 245] that the cart and an upright-ish pole occupy; pendulum keeps the square
[110, 390]² around the pivot that the rod sweeps.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control import CartPoleEnv, PendulumEnv

from srl_bench.envs._common import FrameEnv, image_space, parse_image_size
from srl_bench.envs.raster import Canvas

RENDERERS = ("numpy", "gymnasium")


class _PixelClassicEnv(FrameEnv):
    """Shared plumbing: an inner Gymnasium env, an image observation, the true state in ``info``."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}
    state_names: tuple[str, ...] = ()
    view: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)

    def __init__(
        self,
        image_size: int | tuple[int, int] = 64,
        renderer: str = "numpy",
        render_mode: str | None = None,
    ) -> None:
        if renderer not in RENDERERS:
            raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.height, self.width = parse_image_size(image_size)
        self.renderer = renderer
        self.render_mode = render_mode
        self.inner = self._make_inner(render_mode="rgb_array" if renderer == "gymnasium" else None)
        self.action_space = self.inner.action_space
        self.observation_space = image_space(self.height, self.width)
        self.canvas = Canvas(self.height, self.width, self.view)
        self._draw_static(self.canvas)
        self.canvas.keep_as_background()
        self._frame: np.ndarray | None = None

    # -- to be provided by subclasses ---------------------------------------------------------
    def _make_inner(self, render_mode: str | None) -> gym.Env:
        raise NotImplementedError

    def _true_state(self) -> np.ndarray:
        raise NotImplementedError

    def _draw_static(self, canvas: Canvas) -> None:
        """Draw the parts of the scene that never move (kept as the canvas background)."""

    def _draw(self, canvas: Canvas) -> None:
        raise NotImplementedError

    # -- Gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.inner.reset(seed=int(self.np_random.integers(2**31 - 1)), options=options)
        return self._observe(), self._info()

    def step(self, action):
        if not self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype)
                                          if not isinstance(action, (int, np.integer)) else action):
            raise ValueError(f"action {action!r} is not in the action space {self.action_space}")
        _, reward, terminated, truncated, _ = self.inner.step(action)
        return self._observe(), float(reward), bool(terminated), bool(truncated), self._info()

    def close(self) -> None:
        self.inner.close()

    # -- internals ----------------------------------------------------------------------------
    def _info(self) -> dict[str, Any]:
        return {"state": self._true_state()}

    def _observe(self) -> np.ndarray:
        if self.renderer == "numpy":
            self.canvas.clear()
            self._draw(self.canvas)
            frame = self.canvas.to_uint8()
        else:
            frame = self._gymnasium_frame()
        self._frame = frame
        return frame

    def _gymnasium_frame(self) -> np.ndarray:
        from PIL import Image

        full = self.inner.render()
        canvas_height = full.shape[0]
        x0, x1, y0, y1 = self.view
        # the view is in y-up canvas units; image rows count from the top
        crop = full[int(round(canvas_height - y1)) : int(round(canvas_height - y0)), int(x0) : int(x1)]
        resized = Image.fromarray(np.ascontiguousarray(crop)).resize(
            (self.width, self.height), Image.Resampling.BOX
        )
        return np.asarray(resized, dtype=np.uint8)


class PixelCartPoleEnv(_PixelClassicEnv):
    """``srl/CartPole-v0``: Gymnasium's CartPole-v1 seen as an image.

    State (``info["state"]``, float32): cart position, cart velocity, pole angle (rad, 0 upright,
    positive leaning right), pole angular velocity. Actions: 0 push left, 1 push right.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}
    state_names = ("cart_x", "cart_x_dot", "pole_theta", "pole_theta_dot")
    view = (0.0, 600.0, 75.0, 245.0)

    # Gymnasium's cart-pole drawing, in its canvas pixels (600×400, y up)
    _SCALE = 600 / 4.8
    _CART_Y = 100.0
    _CART_W, _CART_H = 50.0, 30.0
    _POLE_W = 10.0
    _POLE_LEN = _SCALE * 1.0
    _AXLE_Y = _CART_Y + _CART_H / 4

    def _make_inner(self, render_mode: str | None) -> gym.Env:
        return CartPoleEnv(render_mode=render_mode)

    def _true_state(self) -> np.ndarray:
        return np.asarray(self.inner.state, dtype=np.float32)

    def _draw_static(self, canvas: Canvas) -> None:
        canvas.fill_rect(0.0, 600.0, self._CART_Y - 0.5, self._CART_Y + 0.5, (0, 0, 0))  # track

    def _draw(self, canvas: Canvas) -> None:
        x, _, theta, _ = (float(v) for v in self.inner.state)
        cart_x = x * self._SCALE + 300.0
        half_w, half_h = self._CART_W / 2, self._CART_H / 2
        canvas.fill_rect(cart_x - half_w, cart_x + half_w, self._CART_Y - half_h, self._CART_Y + half_h, (0, 0, 0))
        direction = (np.sin(theta), np.cos(theta))
        half_pole = self._POLE_W / 2
        start = (cart_x - half_pole * direction[0], self._AXLE_Y - half_pole * direction[1])
        tip = self._POLE_LEN - half_pole
        end = (cart_x + tip * direction[0], self._AXLE_Y + tip * direction[1])
        canvas.fill_segment(start, end, half_pole, (202, 152, 101))
        canvas.fill_disc((cart_x, self._AXLE_Y), half_pole, (129, 132, 203))


class PixelPendulumEnv(_PixelClassicEnv):
    """``srl/Pendulum-v0``: Gymnasium's Pendulum-v1 seen as an image.

    State (``info["state"]``, float32): cos θ, sin θ, θ_dot (θ = 0 upright). Action: torque in
    [-2, 2]. The NumPy renderer leaves out Gymnasium's torque arrow: it shows the last action,
    which is not part of the state.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}
    state_names = ("cos_theta", "sin_theta", "theta_dot")
    view = (110.0, 390.0, 110.0, 390.0)

    _SCALE = 500 / 4.4
    _ROD_LEN = _SCALE * 1.0
    _ROD_HALF_W = 0.1 * _SCALE
    _CENTER = 250.0

    def _make_inner(self, render_mode: str | None) -> gym.Env:
        return PendulumEnv(render_mode=render_mode)

    def _true_state(self) -> np.ndarray:
        theta, theta_dot = (float(v) for v in self.inner.state)
        return np.array([np.cos(theta), np.sin(theta), theta_dot], dtype=np.float32)

    def _draw(self, canvas: Canvas) -> None:
        theta = float(self.inner.state[0])
        c = self._CENTER
        end = (c - self._ROD_LEN * np.sin(theta), c + self._ROD_LEN * np.cos(theta))
        canvas.fill_segment((c, c), end, self._ROD_HALF_W, (204, 77, 77), round_caps=True)
        canvas.fill_disc((c, c), 0.05 * self._SCALE, (0, 0, 0))
