"""Collection policies: what acts in the environment while a dataset is recorded.

A policy is built per episode by ``make_policy(name, env, seed)`` and called as
``policy(observation, info) -> action``. Environment-specific policies (for example the Kuka arm's
scripted reacher) are registered by import path, so the collector never imports an env it does not use.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from srl_bench.config import unknown_name
from srl_bench.errors import SrlBenchError

Policy = Callable[[np.ndarray, dict[str, Any]], Any]


class RandomPolicy:
    """Uniformly random actions from the env's action space, seeded."""

    def __init__(self, env: gym.Env, seed: int) -> None:
        self.space = env.action_space
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: np.ndarray, info: dict[str, Any]) -> Any:
        if isinstance(self.space, gym.spaces.Discrete):
            return int(self.space.start + self.rng.integers(self.space.n))
        if isinstance(self.space, gym.spaces.Box):
            return self.rng.uniform(self.space.low, self.space.high).astype(self.space.dtype)
        raise SrlBenchError(f"the random policy does not support action space {self.space}")


# name -> (import path "module:Class", one-line description, env ids it works on or None for any).
# Classes take (env, seed).
POLICIES: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "random": ("srl_bench.collect.policies:RandomPolicy", "uniformly random actions", None),
    "kuka_reach": ("srl_bench.envs.kuka_button:NoisyReachButtonPolicy",
                   "scripted reacher with 25% random actions (presses; covers only the path to the button)", ("srl/KukaButton-v0",)),
    "pacman_seek": ("srl_bench.envs.minipacman:SeekPillsPolicy",
                    "heads for the power pills, hunts the ghosts while powered, 25% random actions "
                    "(datasets where pills are eaten and ghosts turn edible)", ("srl/MiniPacman-v0",)),
    "kuka_explore": ("srl_bench.envs.kuka_button:ExploreButtonPolicy",
                     "visits random waypoints over the workspace and presses the button now and then "
                     "(datasets that cover the workspace)", ("srl/KukaButton-v0",)),
}


def register_policy(name: str, import_path: str, description: str, env_ids: tuple[str, ...] | None = None) -> None:
    """Make a collection policy available to ``srl-bench generate --policy NAME``.

    Register at import time of a module the workers import too (not at run time), so that parallel
    workers started with ``spawn`` see it.
    """
    POLICIES[name] = (import_path, description, env_ids)


def make_policy(name: str, env: gym.Env, seed: int) -> Policy:
    """Build the named policy for one episode of ``env``."""
    if name not in POLICIES:
        raise unknown_name("policy", name, POLICIES)
    import_path, _, env_ids = POLICIES[name]
    env_id = env.spec.id if env.spec is not None else None
    if env_ids is not None and env_id not in env_ids:
        raise SrlBenchError(f"policy {name!r} works only on {', '.join(env_ids)}, not on {env_id}")
    module_name, class_name = import_path.split(":")
    policy_class = getattr(importlib.import_module(module_name), class_name)
    return policy_class(env, seed)
