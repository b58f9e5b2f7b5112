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


# name -> (import path "module:Class", one-line description). Classes take (env, seed).
POLICIES: dict[str, tuple[str, str]] = {
    "random": ("srl_bench.collect.policies:RandomPolicy", "uniformly random actions"),
    "kuka_reach": ("envs.kuka_button:NoisyReachButtonPolicy",
                   "srl/KukaButton-v0 only: scripted reacher with 25% random actions (datasets with presses)"),
}


def register_policy(name: str, import_path: str, description: str) -> None:
    """Make a collection policy available to ``srl-bench generate --policy NAME``."""
    POLICIES[name] = (import_path, description)


def make_policy(name: str, env: gym.Env, seed: int) -> Policy:
    """Build the named policy for one episode of ``env``."""
    if name not in POLICIES:
        raise SrlBenchError(f"unknown policy {name!r}; choose one of: {', '.join(sorted(POLICIES))}")
    module_name, class_name = POLICIES[name][0].split(":")
    policy_class = getattr(importlib.import_module(module_name), class_name)
    return policy_class(env, seed)
