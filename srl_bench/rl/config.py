"""RL hyper-parameters: ``configs/rl/<algo>.yaml`` keyed by environment id, rl-zoo3 style.

A file maps each environment id to the keyword arguments of the SB3 algorithm, plus a few keys that
srl-bench reads itself (``RUNNER_KEYS``). Values follow rl-zoo3's conventions where YAML can express
them: ``"lin_0.001"`` is a schedule decaying linearly from 0.001 to 0; ``policy_kwargs`` is a mapping
(not a string of Python), with ``activation_fn`` naming a ``torch.nn`` class (``"ReLU"``);
``train_freq: [1, episode]`` is SB3's ``(1, "episode")``.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from srl_bench.errors import SrlBenchError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "rl"
ALGOS = ("ppo", "a2c", "dqn", "sac", "td3")
DISCRETE_ONLY = {"dqn"}
CONTINUOUS_ONLY = {"sac", "td3"}

# keys srl-bench reads itself, with their defaults; all other keys go to the SB3 constructor
RUNNER_DEFAULTS: dict[str, Any] = {
    "n_envs": 1,
    "n_timesteps": 100_000,
    # standardise the agent's vector observation (SB3 VecNormalize): false, "running" (statistics
    # updated throughout training; true means this, as rl-zoo3's `normalize`) or "fixed" (statistics
    # of `normalize_warmup` random-action steps, then frozen)
    "normalize_state": False,
    "normalize_warmup": 2000,
    "normalize_reward": False,
    "frame_stack": 1,  # stack the last k observations (learned states, true states or images)
    "eval_freq": None,  # env steps between evaluations; default: a tenth of the budget
    "n_eval": 10,  # deterministic episodes per evaluation
    "noise_type": None,  # action noise of off-policy continuous agents: normal or ornstein-uhlenbeck
    "noise_std": 0.1,
    "policy": None,  # default MlpPolicy (CnnPolicy for raw_pixels)
}
RUNNER_KEYS = frozenset(RUNNER_DEFAULTS)


@dataclass
class RLConfig:
    """Resolved hyper-parameters of one (algorithm, environment): runner settings and SB3 kwargs."""

    algo: str
    env_id: str
    runner: dict[str, Any]
    sb3_kwargs: dict[str, Any]
    source: str
    raw: dict[str, Any] = field(default_factory=dict)  # as written (schedules as strings), for rl.json

    def __getitem__(self, key: str) -> Any:
        return self.runner[key]


def algo_class(algo: str) -> type:
    """The Stable-Baselines3 class of ``algo`` (ppo, a2c, dqn, sac, td3)."""
    if algo not in ALGOS:
        raise SrlBenchError(f"unknown algorithm {algo!r}; choose one of: {', '.join(ALGOS)}")
    import stable_baselines3

    return getattr(stable_baselines3, algo.upper())


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged into it key by key (nested mappings merge too)."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def linear_schedule(start: float) -> Callable[[float], float]:
    """SB3 schedule from ``start`` (progress remaining 1) down to 0 (progress remaining 0)."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start

    return schedule


def _to_sb3_value(key: str, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            return linear_schedule(float(value[4:]))
        except ValueError as exc:
            raise SrlBenchError(f"hyper-parameter {key}={value!r}: expected lin_<number>, e.g. lin_0.001") from exc
    if key == "train_freq" and isinstance(value, list):
        return tuple(value)
    if key == "policy_kwargs":
        if not isinstance(value, dict):
            raise SrlBenchError(f"policy_kwargs must be a mapping, got {value!r}")
        kwargs = dict(value)
        if isinstance(kwargs.get("activation_fn"), str):
            from torch import nn

            name = kwargs["activation_fn"].removeprefix("nn.")
            if not isinstance(getattr(nn, name, None), type):
                raise SrlBenchError(f"policy_kwargs.activation_fn {name!r} is not a torch.nn class (e.g. ReLU, Tanh)")
            kwargs["activation_fn"] = getattr(nn, name)
        return kwargs
    return value


def load_rl_config(
    algo: str, env_id: str, overrides: dict[str, Any] | None = None, config_file: str | Path | None = None
) -> RLConfig:
    """The hyper-parameters of ``algo`` on ``env_id``: the YAML entry, then ``overrides`` merged in."""
    cls = algo_class(algo)
    path = Path(config_file) if config_file else CONFIG_DIR / f"{algo}.yaml"
    if not path.is_file():
        raise SrlBenchError(f"no hyper-parameter file {path}; write one keyed by environment id (see configs/rl/ppo.yaml)")
    try:
        table = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SrlBenchError(f"{path} is not valid YAML: {exc}") from exc
    if env_id not in table:
        known = ", ".join(sorted(table)) or "none"
        raise SrlBenchError(f"{path} has no entry for {env_id} (it has: {known}); add one, or pass a file with --config")
    raw = deep_merge(table[env_id] or {}, overrides or {})
    runner = {**RUNNER_DEFAULTS, **{k: v for k, v in raw.items() if k in RUNNER_KEYS}}
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "policy", "env"}
    unknown = sorted(k for k in raw if k not in RUNNER_KEYS and k not in accepted)
    if unknown:
        raise SrlBenchError(f"unknown hyper-parameter(s) for {algo}: {', '.join(unknown)} (from {path} or --set)")
    reserved = sorted(k for k in raw if k in {"seed", "device", "verbose", "tensorboard_log"})
    if reserved:
        raise SrlBenchError(f"{', '.join(reserved)} cannot be set as hyper-parameters; use the command's own options")
    mode = runner["normalize_state"]
    if mode is True:
        mode = "running"
    if mode not in (False, None, "off", "running", "fixed"):
        raise SrlBenchError(f"normalize_state must be false, running or fixed, got {mode!r}")
    runner["normalize_state"] = None if mode in (False, None, "off") else mode
    for key in ("n_envs", "n_timesteps", "frame_stack", "n_eval", "normalize_warmup"):
        value = runner[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1 or int(value) != value:
            raise SrlBenchError(f"{key} must be a positive integer, got {value!r}")
        runner[key] = int(value)
    sb3_kwargs = {k: _to_sb3_value(k, v) for k, v in raw.items() if k not in RUNNER_KEYS}
    return RLConfig(algo=algo, env_id=env_id, runner=runner, sb3_kwargs=sb3_kwargs, source=str(path), raw=raw)
