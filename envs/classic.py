"""Pixel cart-pole and pendulum: Gymnasium's own dynamics, observed as small RGB images.

The physics is Gymnasium's ``CartPoleEnv`` / ``PendulumEnv``, held inside and stepped unchanged. The
observation is an image of the scene drawn directly at the observation size by a NumPy rasteriser
(``renderer="numpy"``, the default), or by Gymnasium's pygame renderer followed by a crop and an
area resize (``renderer="gymnasium"``). Both draw the same geometry through the same view, so they
agree on where the cart, pole and pendulum are.

Views (in Gymnasium's canvas pixels, y up): cart-pole keeps the full 600-pixel width (the whole track)
and the band y ∈ [75, 245] that the cart and an upright-ish pole occupy; pendulum keeps the square
[110, 390]² around the pivot that the rod sweeps.

Batches (``ClassicBatch``, ``make_batch``): N envs of one class stepped and drawn as arrays, exactly as
N single envs (the batched VecEnv of ``srl_bench.envs.vector`` and the batched dataset collector use them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control import CartPoleEnv, PendulumEnv
from gymnasium.envs.classic_control.pendulum import angle_normalize
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, TimeLimit

from srl_bench.envs._common import FrameEnv, image_space, parse_image_size
from srl_bench.envs.raster import BatchCanvas, Canvas

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

    @classmethod
    def true_states(cls, states: np.ndarray) -> np.ndarray:
        """The float32 ``info["state"]`` rows of the inner envs' float64 states ``(N, k)``."""
        raise NotImplementedError

    @classmethod
    def paint(cls, canvas: Canvas | BatchCanvas, states: np.ndarray) -> None:
        """Draw the moving parts for the inner state ``states`` (a ``(k,)`` vector on a ``Canvas``,
        or ``(N, k)`` on a ``BatchCanvas``: the same code, so both draw the same pixels)."""
        raise NotImplementedError

    def _true_state(self) -> np.ndarray:
        return self.true_states(np.asarray(self.inner.state, dtype=np.float64)[None])[0]

    def _draw_static(self, canvas: Canvas) -> None:
        """Draw the parts of the scene that never move (kept as the canvas background)."""

    def _draw(self, canvas: Canvas) -> None:
        self.paint(canvas, np.asarray(self.inner.state, dtype=np.float64))

    # -- Gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.reset_dynamics(seed=seed, options=options)
        return self._observe(), self._info()

    def reset_dynamics(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Everything of ``reset`` but the picture: seed ``np_random`` (as ``gym.Env.reset``) and
        reset the inner Gymnasium env from it (the batched envs of ``srl_bench.envs.vector`` share this)."""
        super().reset(seed=seed)
        self.inner.reset(seed=int(self.np_random.integers(2**31 - 1)), options=options)

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

    def _draw_frame(self) -> np.ndarray:
        if self.renderer == "numpy":
            self.canvas.clear()
            self._draw(self.canvas)
            return self.canvas.to_uint8()
        return self._gymnasium_frame()

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

    @classmethod
    def true_states(cls, states: np.ndarray) -> np.ndarray:
        return np.asarray(states, dtype=np.float32)

    def _draw_static(self, canvas: Canvas) -> None:
        canvas.fill_rect(0.0, 600.0, self._CART_Y - 0.5, self._CART_Y + 0.5, (0, 0, 0))  # track

    @classmethod
    def paint(cls, canvas: Canvas | BatchCanvas, states: np.ndarray) -> None:
        x, theta = states[..., 0], states[..., 2]
        if x.ndim == 0:  # one frame: Python floats, as the scalar Canvas expects
            x, theta = float(x), float(theta)
        cart_x = x * cls._SCALE + 300.0
        half_w, half_h = cls._CART_W / 2, cls._CART_H / 2
        canvas.fill_rect(cart_x - half_w, cart_x + half_w, cls._CART_Y - half_h, cls._CART_Y + half_h, (0, 0, 0))
        direction = (np.sin(theta), np.cos(theta))
        half_pole = cls._POLE_W / 2
        start = (cart_x - half_pole * direction[0], cls._AXLE_Y - half_pole * direction[1])
        tip = cls._POLE_LEN - half_pole
        end = (cart_x + tip * direction[0], cls._AXLE_Y + tip * direction[1])
        canvas.fill_segment(start, end, half_pole, (202, 152, 101))
        canvas.fill_disc((cart_x, cls._AXLE_Y), half_pole, (129, 132, 203))


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

    @classmethod
    def true_states(cls, states: np.ndarray) -> np.ndarray:
        theta, theta_dot = states[:, 0], states[:, 1]
        return np.stack([np.cos(theta), np.sin(theta), theta_dot], axis=1).astype(np.float32)

    @classmethod
    def paint(cls, canvas: Canvas | BatchCanvas, states: np.ndarray) -> None:
        theta = states[..., 0]
        if theta.ndim == 0:
            theta = float(theta)
        c = cls._CENTER
        end = (c - cls._ROD_LEN * np.sin(theta), c + cls._ROD_LEN * np.cos(theta))
        canvas.fill_segment((c, c), end, cls._ROD_HALF_W, (204, 77, 77), round_caps=True)
        canvas.fill_disc((c, c), 0.05 * cls._SCALE, (0, 0, 0))


# -- batches: N envs of one class stepped and drawn as arrays ------------------------------------
#
# The batched VecEnv (srl_bench.envs.vector.PixelVecEnv) and the batched dataset collector
# (srl_bench.collect.generate.BatchedCollector) step many envs at once through these. The dynamics are
# Gymnasium's CartPoleEnv.step / PendulumEnv.step written over arrays, operation for operation in the
# same order and dtypes (float64 state; the pendulum's torque term keeps the action's dtype, as in
# Gymnasium). NumPy computes elementwise arithmetic, sin, cos, hypot and % alike on arrays and on
# scalars; the exception is `x ** 2` on a NumPy *scalar*, which calls the C library's pow (one ulp
# off x * x now and then), so the pendulum's squares are taken on scalars as Gymnasium takes them.
# Resets go through each slot's single env (reset_dynamics: its np_random, Gymnasium's own reset), the
# pictures through the single env's own paint() on a BatchCanvas.

# the wrappers gym.make puts around a registered env; anything else falls back to DummyVecEnv
_PLAIN_WRAPPERS = (TimeLimit, OrderEnforcing, PassiveEnvChecker)


class ClassicBatch:
    """The dynamics and pictures of N single envs of one class, as arrays.

    ``envs`` are the unwrapped single envs (one per slot, same class and image size): each slot's
    resets go through its env (``reset_dynamics``), the steps and pictures of all slots through
    this object. ``state`` is the float64 ``(N, k)`` inner state, row ``i`` standing for
    ``envs[i].inner.state``. Methods taking ``indices`` work on those rows only.
    """

    env_class: type[_PixelClassicEnv] = _PixelClassicEnv
    state_size = 0  # entries of the inner (Gymnasium) state

    def __init__(self, envs: Sequence[_PixelClassicEnv], n: int | None = None) -> None:
        """``n`` slots (default: one per env); with one env and ``n`` slots, every slot resets through
        that env, which is exact when each reset is seeded (dataset generation)."""
        if not envs:
            raise ValueError("a batch needs at least one env")
        if n is not None and n != len(envs):
            if len(envs) != 1:
                raise ValueError("give one env per slot, or one env shared by every slot")
            envs = list(envs) * n
        first = envs[0]
        for env in envs:
            if type(env) is not type(first) or (env.height, env.width) != (first.height, first.width):
                raise ValueError("the envs of a batch must be of one class and one image size")
            if env.renderer != "numpy":
                raise ValueError("only the NumPy renderer can be batched")
        self.envs = list(envs)
        self.n = len(self.envs)
        self.inner = first.inner  # the physical constants (shared by every slot)
        self.action_space = first.action_space
        self.state = np.zeros((self.n, self.state_size), dtype=np.float64)
        self.canvas = BatchCanvas(first.canvas)

    # -- per slot (Python, at episode starts) ---------------------------------------------------
    def reset(self, i: int, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Reset slot ``i`` exactly as its single env's ``reset(seed=seed, options=options)``."""
        env = self.envs[i]
        env.reset_dynamics(seed=seed, options=options)
        self.state[i] = env.inner.state

    def push_state(self, i: int) -> None:
        """Write slot ``i``'s state into its single env (before its attributes are read)."""
        self.envs[i].inner.state = self.state[i].copy()

    def pull_state(self, i: int) -> None:
        """Read slot ``i``'s state back from its single env (after a method call may have changed it)."""
        if self.envs[i].inner.state is not None:
            self.state[i] = self.envs[i].inner.state

    # -- all slots at once ----------------------------------------------------------------------
    def check_actions(self, actions: Any, count: int) -> np.ndarray:
        """``actions`` as an array of ``count`` actions of the action space; ValueError otherwise."""
        raise NotImplementedError

    def step(self, actions: np.ndarray, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Step the slots (all, or ``indices``) with checked ``actions``: float64 rewards, terminated."""
        rows = slice(None) if indices is None else indices
        new_state, rewards, terminated = self._dynamics(self.state[rows], actions)
        self.state[rows] = new_state
        return rewards, terminated

    def _dynamics(self, state: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def true_states(self, indices: np.ndarray | None = None) -> np.ndarray:
        """The float32 ``info["state"]`` rows of the slots."""
        return self.env_class.true_states(self.state if indices is None else self.state[indices])

    def render(self, indices: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """The uint8 ``(n, H, W, 3)`` observations of the slots, as their single envs draw them."""
        return self.render_states(self.state if indices is None else self.state[indices], out)

    # below this many frames, one Canvas per frame is quicker than a BatchCanvas (which draws the same)
    batch_from = 8

    def render_states(self, states: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The observations of any float64 inner states ``(n, k)`` (the picture depends on the state alone)."""
        if len(states) < self.batch_from:
            canvas = self.envs[0].canvas  # scratch: the single env keeps its frame apart
            frames = np.empty((len(states), *self.envs[0].observation_space.shape), np.uint8) if out is None else out
            for frame, state in zip(frames, states):
                canvas.clear()
                self.env_class.paint(canvas, state)
                frame[...] = canvas.to_uint8()
            return frames
        self.canvas.clear(len(states))
        self.env_class.paint(self.canvas, states)
        return self.canvas.to_uint8(out)

    def _bad_action(self, actions: Any, i: int | None = None) -> ValueError:
        what = f"action {actions!r}" if i is None else f"action {actions[i]!r} (env {i})"
        return ValueError(f"{what} is not in the action space {self.action_space}")


class CartPoleBatch(ClassicBatch):
    """Gymnasium's ``CartPoleEnv.step`` over N carts (``srl/CartPole-v0``)."""

    env_class = PixelCartPoleEnv
    state_size = 4

    def check_actions(self, actions: Any, count: int) -> np.ndarray:
        array = np.asarray(actions)
        space = self.action_space
        if array.shape != (count,) or not np.issubdtype(array.dtype, np.integer):
            raise self._bad_action(actions)
        bad = (array < space.start) | (array >= space.start + space.n)
        if bad.any():
            raise self._bad_action(array, int(np.argmax(bad)))
        return array

    def _dynamics(self, state: np.ndarray, actions: np.ndarray):
        env = self.inner  # CartPoleEnv.step, line for line
        x, x_dot, theta, theta_dot = state[:, 0], state[:, 1], state[:, 2], state[:, 3]
        force = np.where(actions == 1, env.force_mag, -env.force_mag)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        temp = (force + env.polemass_length * np.square(theta_dot) * sintheta) / env.total_mass
        thetaacc = (env.gravity * sintheta - costheta * temp) / (
            env.length * (4.0 / 3.0 - env.masspole * np.square(costheta) / env.total_mass)
        )
        xacc = temp - env.polemass_length * thetaacc * costheta / env.total_mass
        if env.kinematics_integrator == "euler":
            x = x + env.tau * x_dot
            x_dot = x_dot + env.tau * xacc
            theta = theta + env.tau * theta_dot
            theta_dot = theta_dot + env.tau * thetaacc
        else:  # semi-implicit euler
            x_dot = x_dot + env.tau * xacc
            x = x + env.tau * x_dot
            theta_dot = theta_dot + env.tau * thetaacc
            theta = theta + env.tau * theta_dot
        terminated = (
            (x < -env.x_threshold) | (x > env.x_threshold)
            | (theta < -env.theta_threshold_radians) | (theta > env.theta_threshold_radians)
        )
        # a batch never steps past termination (it resets), so this is the first terminating step's reward
        if env._sutton_barto_reward:
            rewards = np.where(terminated, -1.0, 0.0)
        else:
            rewards = np.ones(len(state))
        return np.stack([x, x_dot, theta, theta_dot], axis=1), rewards, terminated


def _squares(values: np.ndarray) -> np.ndarray:
    """``v ** 2`` of each entry taken on a NumPy scalar, as Gymnasium's scalar code takes it (the C
    library's ``pow``; an array's ``** 2`` is ``v * v``, which differs in the last bit now and then)."""
    return np.array([v**2 for v in values], dtype=values.dtype).reshape(values.shape)


class PendulumBatch(ClassicBatch):
    """Gymnasium's ``PendulumEnv.step`` over N pendulums (``srl/Pendulum-v0``)."""

    env_class = PixelPendulumEnv
    state_size = 2

    def check_actions(self, actions: Any, count: int) -> np.ndarray:
        array = np.asarray(actions)
        space = self.action_space
        if array.shape != (count, *space.shape) or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
        ):
            raise self._bad_action(actions)
        as_space = array.astype(space.dtype)  # the single env checks the action cast to the space's dtype
        inside = (as_space >= space.low) & (as_space <= space.high)
        bad = ~inside.reshape(count, -1).all(axis=1)
        if bad.any():
            raise self._bad_action(array, int(np.argmax(bad)))
        return array

    def _dynamics(self, state: np.ndarray, actions: np.ndarray):
        env = self.inner  # PendulumEnv.step, line for line
        th, thdot = state[:, 0], state[:, 1]
        g, m, l, dt = env.g, env.m, env.l, env.dt
        u = np.clip(actions, -env.max_torque, env.max_torque)[:, 0]
        costs = _squares(angle_normalize(th)) + 0.1 * _squares(thdot) + 0.001 * (_squares(u))
        newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = np.clip(newthdot, -env.max_speed, env.max_speed)
        newth = th + newthdot * dt
        return np.stack([newth, newthdot], axis=1), -costs, np.zeros(len(state), dtype=bool)


BATCHES: dict[type[gym.Env], type[ClassicBatch]] = {PixelCartPoleEnv: CartPoleBatch, PixelPendulumEnv: PendulumBatch}
BATCHED_ENV_IDS = {"srl/CartPole-v0": PixelCartPoleEnv, "srl/Pendulum-v0": PixelPendulumEnv}


def supports(env_id: str, env_kwargs: dict[str, Any] | None = None) -> bool:
    """Whether ``gym.make(env_id, **env_kwargs)`` can run batched (cart-pole and pendulum with the
    NumPy renderer), judged from the id and kwargs alone."""
    kwargs = env_kwargs or {}
    return env_id in BATCHED_ENV_IDS and kwargs.get("renderer", "numpy") == "numpy"


def batchable(env: gym.Env) -> bool:
    """Whether a made env can be batched: a batched class under only ``gym.make``'s own wrappers."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        if not isinstance(layer, _PLAIN_WRAPPERS):
            return False
        layer = layer.env
    return type(layer) in BATCHES and getattr(layer, "renderer", None) == "numpy"


def time_limit(env: gym.Env) -> TimeLimit | None:
    """The ``TimeLimit`` wrapper of a made env, if any."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, TimeLimit):
            return layer
        layer = layer.env
    return None


def make_batch(envs: Sequence[gym.Env], n: int | None = None) -> ClassicBatch:
    """The batch of made (wrapped) single envs (``n`` slots sharing one env: see ``ClassicBatch``);
    ValueError when they cannot be batched."""
    for env in envs:
        if not batchable(env):
            raise ValueError(f"{env} cannot be batched (only srl/CartPole-v0 and srl/Pendulum-v0 with the "
                             "NumPy renderer, under gym.make's own wrappers)")
    return BATCHES[type(envs[0].unwrapped)]([env.unwrapped for env in envs], n)
