"""Batched pixel cart-pole and pendulum: N envs stepped and drawn in one vectorised NumPy call.

``PixelVecEnv`` is a native Stable-Baselines3 ``VecEnv`` that gives, frame for frame, what
``DummyVecEnv`` of the single env gives (``make_vec_env`` of ``srl/CartPole-v0`` or ``srl/Pendulum-v0``,
with its ``Monitor``): the same pixels, rewards, dones, ``infos`` (``state``, ``TimeLimit.truncated``,
``terminal_observation``, Monitor's ``episode``) and auto-resets, for the same seeds.

How it stays exact: the dynamics are ``srl_bench.envs.classic``'s batches (Gymnasium's ``step``
written over arrays, operation for operation); each env keeps its own single env (``gym.make`` of
the id), whose ``reset_dynamics`` is the single env's reset without the picture, so every reset and
auto-reset draws on that env's ``np_random`` as ``DummyVecEnv``'s would; the scene is drawn by the
single env's own ``paint`` on a ``BatchCanvas``, which reproduces ``Canvas`` pixel for pixel,
anti-aliasing included (``srl_bench.envs.raster``).

The single envs also answer ``get_attr`` / ``set_attr`` / ``env_method`` (their inner state and time
limit are brought up to date first, and read back after a method call), so those behave as on
``DummyVecEnv``'s envs. ``tests/test_vector_envs.py`` checks all of it against ``DummyVecEnv``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import OrderEnforcing
from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from srl_bench.envs.classic import (  # noqa: F401  (the batches are re-exported here)
    BATCHED_ENV_IDS,
    BATCHES,
    CartPoleBatch,
    ClassicBatch,
    PendulumBatch,
    batchable,
    make_batch,
    supports,
    time_limit,
)


class PixelVecEnv(VecEnv):
    """A Stable-Baselines3 ``VecEnv`` of N pixel cart-poles or pendulums, stepped and drawn as one batch.

    Args:
        envs: the single envs, as ``gym.make`` of ``srl/CartPole-v0`` or ``srl/Pendulum-v0`` makes
            them (same kwargs); they hold each env's seeding, time limit and attributes.
        monitor: give each episode's end Monitor's ``info["episode"]`` (``r``, ``l``, ``t``), as
            ``make_vec_env``'s ``Monitor`` does; ``env_is_wrapped(Monitor)`` then answers True.

    Reset and auto-reset as ``DummyVecEnv``: ``seed(s)`` seeds the next ``reset`` with ``s + i``; an
    env whose episode ends returns the first observation of the next one, the last one being in
    ``infos[i]["terminal_observation"]``; ``infos[i]["TimeLimit.truncated"]`` says whether the time
    limit cut it; ``infos[i]["state"]`` is the true state after the step (of the ended episode).
    """

    def __init__(self, envs: Sequence[gym.Env], monitor: bool = True) -> None:
        self.envs = list(envs)
        self.batch = make_batch(self.envs)
        self.monitor = monitor
        self._limits = [time_limit(env) for env in self.envs]
        max_steps = {None if limit is None else limit._max_episode_steps for limit in self._limits}
        if len(max_steps) != 1:
            raise ValueError("the envs of a PixelVecEnv must share one time limit")
        self.max_episode_steps: int | None = max_steps.pop()
        n = len(self.envs)
        self._elapsed = np.zeros(n, dtype=np.int64)
        self._started = np.zeros(n, dtype=bool)
        self._episode_rewards: list[list[float]] = [[] for _ in range(n)]
        self._t_start = time.time()
        self._actions: np.ndarray | None = None
        super().__init__(n, self.envs[0].observation_space, self.envs[0].action_space)
        self.metadata = self.envs[0].metadata

    # -- the VecEnv API ---------------------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        for i in range(self.num_envs):
            self._reset_env(i, seed=self._seeds[i], options=self._options[i] or None)
        self._reset_seeds()
        self._reset_options()
        return self.batch.render()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if not self._started.all():
            raise RuntimeError("call reset() before step()")
        actions = self.batch.check_actions(self._actions, self.num_envs)
        rewards, terminated = self.batch.step(actions)
        self._elapsed += 1
        if self.max_episode_steps is None:
            truncated = np.zeros(self.num_envs, dtype=bool)
        else:
            truncated = self._elapsed >= self.max_episode_steps
        dones = terminated | truncated
        states = self.batch.true_states()
        ended = np.flatnonzero(dones)
        episodes: dict[int, dict[str, Any]] = {}
        if self.monitor:  # as stable_baselines3.common.monitor.Monitor.step
            for i, reward in enumerate(rewards.tolist()):
                self._episode_rewards[i].append(reward)
            for i in ended.tolist():
                episode = self._episode_rewards[i]
                episodes[i] = {"r": round(sum(episode), 6), "l": len(episode),
                               "t": round(time.time() - self._t_start, 6)}
        after = self.batch.state.copy() if len(ended) else self.batch.state
        for i in ended.tolist():  # auto-reset
            self._reset_env(i)
        # one draw for the frames after the step and the first frames of the new episodes
        frames = self.batch.render_states(np.concatenate([after, self.batch.state[ended]]) if len(ended) else after)
        obs = frames[: self.num_envs]
        infos: list[dict[str, Any]] = []
        for i in range(self.num_envs):
            info: dict[str, Any] = {"state": states[i]}
            if i in episodes:
                info["episode"] = episodes[i]
            info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            if dones[i]:
                info["terminal_observation"] = obs[i].copy()
            infos.append(info)
        if len(ended):
            obs[ended] = frames[self.num_envs:]
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            warnings.warn(f"The render mode is {self.render_mode}, but this method assumes it is `rgb_array` "
                          "to obtain images.")
            return [None for _ in self.envs]
        return list(self.batch.render())

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        targets = list(self._get_indices(indices))
        self._push(targets)
        return [self.envs[i].get_wrapper_attr(attr_name) for i in targets]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for i in self._get_indices(indices):
            setattr(self.envs[i], attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        targets = list(self._get_indices(indices))
        self._push(targets, frames=True)
        results = [self.envs[i].get_wrapper_attr(method_name)(*method_args, **method_kwargs) for i in targets]
        self._pull(targets, reset=method_name == "reset")
        return results

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        monitored = self.monitor and issubclass(Monitor, wrapper_class)
        return [monitored or is_wrapped(self.envs[i], wrapper_class) for i in self._get_indices(indices)]

    # -- internals ----------------------------------------------------------------------------
    def _reset_env(self, i: int, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        self.batch.reset(i, seed=seed, options=options)
        self._elapsed[i] = 0
        self._started[i] = True
        self._episode_rewards[i] = []
        self.reset_infos[i] = {"state": self.batch.true_states(np.array([i]))[0]}

    def _push(self, targets: list[int], frames: bool = False) -> None:
        """Bring the single envs of ``targets`` up to date: inner state, time limit, last frame."""
        started = [i for i in targets if self._started[i]]
        for i in started:
            self.batch.push_state(i)
            if self._limits[i] is not None:
                self._limits[i]._elapsed_steps = int(self._elapsed[i])
            layer = self.envs[i]
            while isinstance(layer, gym.Wrapper):  # the single env counts as reset (it was, through the batch)
                if isinstance(layer, OrderEnforcing):
                    layer._has_reset = True
                layer = layer.env
        if frames and started and self.render_mode == "rgb_array":
            for i, frame in zip(started, self.batch.render(np.array(started))):
                self.envs[i].unwrapped._frame = frame

    def _pull(self, targets: list[int], reset: bool) -> None:
        """Read back what a method call on the single envs of ``targets`` changed."""
        for i in targets:
            if self.envs[i].unwrapped.inner.state is None:
                continue
            self.batch.pull_state(i)
            self._started[i] = True
            if self._limits[i] is not None and self._limits[i]._elapsed_steps is not None:
                self._elapsed[i] = self._limits[i]._elapsed_steps
            if reset:
                self._episode_rewards[i] = []


def make_pixel_vec_env(
    env_fn: Callable[[], gym.Env],
    n_envs: int = 1,
    seed: int | None = None,
    start_index: int = 0,
    monitor: bool = True,
) -> PixelVecEnv:
    """``PixelVecEnv`` of ``n_envs`` envs made by ``env_fn``, seeded as SB3's ``make_vec_env(env_fn,
    n_envs, seed)`` seeds its ``DummyVecEnv``: env ``i``'s action space with ``seed + start_index + i``,
    and the first reset with ``seed + i``. ValueError when the env cannot be batched."""
    envs = [env_fn() for _ in range(n_envs)]
    if seed is not None:
        for rank, env in enumerate(envs):
            env.action_space.seed(seed + start_index + rank)
    venv = PixelVecEnv(envs, monitor=monitor)
    venv.seed(seed)
    return venv
