"""RL hyper-parameters: ``srl_bench/configs/rl/<algo>.yaml`` keyed by environment id, rl-zoo3 style.

A file maps each environment id to the keyword arguments of the SB3 algorithm, plus the keys that
srl-bench reads itself (:class:`RunnerConfig`, where each of their defaults is written). The entry
is merged with the overrides (``--set``, ``rl_evaluate``'s options) by the one merge of
``srl_bench.config``; the runner keys are checked by :class:`RunnerConfig`, every other key against
the SB3 constructor's signature (its name and its annotated type). Values follow rl-zoo3's
conventions where YAML can express them: ``"lin_0.001"`` is a schedule decaying linearly from 0.001
to 0 (SB3's ``LinearSchedule``); ``policy_kwargs`` is a mapping (not a string of Python), with
``activation_fn`` naming a ``torch.nn`` class (``"ReLU"``); ``train_freq: [1, episode]`` is SB3's
``(1, "episode")``.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BeforeValidator, ConfigDict, Field, NonNegativeFloat

from srl_bench.config import (
    ConfigModel,
    closest,
    describe_error,
    merge,
    read_yaml_mapping,
    shipped_file,
    unknown_name,
    validate,
)
from srl_bench.errors import SrlBenchError

ALGOS = ("ppo", "a2c", "dqn", "sac", "td3")
DISCRETE_ONLY = frozenset({"dqn"})
CONTINUOUS_ONLY = frozenset({"sac", "td3"})
RESERVED = ("seed", "device", "verbose", "tensorboard_log")  # set from rl_evaluate's own options
_NOT_HYPERPARAMETERS = ("self", "policy", "env")  # constructor arguments a config cannot set


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a positive integer, not a boolean")
    return value


def _normalize_mode(value: Any) -> Any:
    """``normalize_state`` as written (false, off, true, running, fixed) -> None, "running" or "fixed"."""
    if value is True:
        return "running"
    if value is None or value is False or value == "off":
        return None
    if value in ("running", "fixed"):
        return value
    raise ValueError("must be false (or off), running (or true) or fixed")


Count = Annotated[int, BeforeValidator(_not_a_boolean), Field(ge=1)]  # 1e5 is a count, 1.5 and true are not
NormalizeMode = Annotated[Literal["running", "fixed"] | None, BeforeValidator(_normalize_mode)]


class RunnerConfig(ConfigModel):
    """The keys of an entry that srl-bench reads itself; every other key goes to the SB3 constructor."""

    n_envs: Count = 1  # parallel training envs
    n_timesteps: Count = 100_000  # training budget per seed, in env steps
    # standardise the agent's vector observation (SB3 VecNormalize): None (false/off), "running"
    # (statistics updated throughout training; true means this, as rl-zoo3's `normalize`) or "fixed"
    # (statistics of `normalize_warmup` random-action steps, then frozen)
    normalize_state: NormalizeMode = None
    normalize_warmup: Count = 2000
    normalize_reward: bool = False  # VecNormalize's return-based reward scaling, while training only
    frame_stack: Count = 1  # stack the last k observations (learned states, true states or images)
    eval_freq: Count | None = None  # env steps between evaluations; None: a tenth of the budget
    n_eval: Count = 10  # episodes per evaluation
    # evaluate the greedy action; false samples the policy's actions, as rl-zoo3 evaluates Atari and
    # MiniGrid agents, whose greedy policies can loop forever
    deterministic_eval: bool = True
    noise_type: Literal["normal", "ornstein-uhlenbeck"] | None = None  # action noise of off-policy continuous agents
    noise_std: NonNegativeFloat = 0.1
    policy: str | None = None  # None: MlpPolicy (CnnPolicy for raw_pixels)


RUNNER_KEYS = frozenset(RunnerConfig.model_fields)


@dataclass(frozen=True)
class RLConfig:
    """Resolved hyper-parameters of one (algorithm, environment): srl-bench's own settings and the SB3 kwargs."""

    algo: str
    env_id: str
    runner: RunnerConfig
    sb3_kwargs: dict[str, Any]  # ready for the constructor (schedules and classes built)
    source: str  # the YAML file
    raw: dict[str, Any] = field(default_factory=dict)  # as written (schedules as strings), for rl.json

    @property
    def gamma(self) -> float:
        """The discount factor (SB3's default 0.99 unless set), which VecNormalize's reward scaling uses."""
        return float(self.sb3_kwargs.get("gamma", 0.99))

    def hyperparams(self) -> dict[str, Any]:
        """Every hyper-parameter as written, with srl-bench's own keys resolved (for ``rl.json``)."""
        return {**self.raw, **self.runner.model_dump()}


def algo_class(algo: str) -> type:
    """The Stable-Baselines3 class of ``algo`` (ppo, a2c, dqn, sac, td3)."""
    if algo not in ALGOS:
        raise unknown_name("algorithm", algo, ALGOS)
    import stable_baselines3

    return getattr(stable_baselines3, algo.upper())


_SB3_VALUES = ConfigDict(arbitrary_types_allowed=True, allow_inf_nan=False)


@functools.lru_cache(maxsize=None)
def sb3_parameters(algo: str) -> dict[str, pydantic.TypeAdapter]:
    """The constructor arguments of ``algo`` a config may name, each with a validator of its annotated type."""
    adapters: dict[str, pydantic.TypeAdapter] = {}
    for name, param in inspect.signature(algo_class(algo).__init__).parameters.items():
        if name in _NOT_HYPERPARAMETERS or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = Any if param.annotation is param.empty else param.annotation
        try:
            adapters[name] = pydantic.TypeAdapter(annotation, config=_SB3_VALUES)
        except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError, NameError):
            adapters[name] = pydantic.TypeAdapter(Any)  # an annotation pydantic cannot check: the name only
    return adapters


def _to_sb3_value(key: str, value: Any, source: str) -> Any:
    """rl-zoo3's YAML conventions -> SB3 objects: ``lin_X`` schedules, ``train_freq`` pairs, activation classes."""
    if isinstance(value, str) and value.startswith("lin_"):
        from stable_baselines3.common.utils import LinearSchedule

        try:
            return LinearSchedule(float(value[4:]), 0.0, 1.0)
        except ValueError:
            raise SrlBenchError(f"{source}: key {key!r}: expected lin_<number> (e.g. lin_0.001), got {value!r}") from None
    if key == "train_freq" and isinstance(value, list):
        return tuple(value)
    if key == "policy_kwargs" and isinstance(value, dict) and isinstance(value.get("activation_fn"), str):
        from torch import nn

        name = value["activation_fn"].removeprefix("nn.")
        if not isinstance(getattr(nn, name, None), type):
            raise SrlBenchError(f"{source}: key 'policy_kwargs.activation_fn': {name!r} is not a torch.nn class "
                                "(e.g. ReLU, Tanh)")
        return {**value, "activation_fn": getattr(nn, name)}
    return value


def sb3_kwargs(algo: str, values: dict[str, Any], source: str) -> dict[str, Any]:
    """``values`` (SB3 keys only) converted and checked against ``algo``'s constructor annotations."""
    adapters = sb3_parameters(algo)
    checked: dict[str, Any] = {}
    for key, value in values.items():
        value = _to_sb3_value(key, value, source)
        try:
            checked[key] = adapters[key].validate_python(value)
        except pydantic.ValidationError as exc:
            error = {**exc.errors(include_url=False)[0], "loc": (key,)}
            raise SrlBenchError(f"{source}: {describe_error(error, RunnerConfig)}") from None
    return checked


def _check_names(algo: str, raw: dict[str, Any], source: str) -> None:
    """Unknown keys (with the closest valid name) and keys reserved for rl_evaluate's own options."""
    accepted = set(sb3_parameters(algo))
    valid = sorted(RUNNER_KEYS | (accepted - set(RESERVED)))
    unknown = [key for key in raw if key not in RUNNER_KEYS and key not in accepted]
    if unknown:
        names = ", ".join(f"{key!r}{closest(key, valid)}" for key in unknown)
        raise SrlBenchError(f"{source}: unknown hyper-parameter(s) for {algo}: {names}; valid keys are srl-bench's "
                            f"own ({', '.join(RunnerConfig.model_fields)}) and {algo_class(algo).__name__}'s "
                            "keyword arguments")
    reserved = [key for key in raw if key in RESERVED]
    if reserved:
        raise SrlBenchError(f"{source}: {', '.join(reserved)} cannot be set as hyper-parameters; the run's own "
                            "options set them (seeds, device, progress)")


def load_rl_config(
    algo: str, env_id: str, overrides: dict[str, Any] | None = None, config_file: str | Path | None = None
) -> RLConfig:
    """The hyper-parameters of ``algo`` on ``env_id``: the YAML entry, then ``overrides`` merged in.

    Any problem (a missing file or entry, an unknown key, a value of the wrong type) is one
    SrlBenchError naming the file, the entry and the key.
    """
    algo_class(algo)
    path = Path(config_file) if config_file is not None else shipped_file("rl", algo)
    if not path.is_file():
        raise SrlBenchError(f"no hyper-parameter file {path}; write one keyed by environment id "
                            f"(see {shipped_file('rl', 'ppo')})")
    table = read_yaml_mapping(path, "hyper-parameter")
    if env_id not in table:
        known = ", ".join(sorted(map(str, table))) or "none"
        raise SrlBenchError(f"{path} has no entry for {env_id} (it has: {known}); add one, "
                            "or pass a file with --config")
    entry = table[env_id] if table[env_id] is not None else {}
    if not isinstance(entry, dict):
        raise SrlBenchError(f"{path}: the entry {env_id} must be a mapping of hyper-parameters, got {entry!r}")
    source = f"{path} [{env_id}]" + (" with the overrides" if overrides else "")
    raw = merge(entry, overrides)
    _check_names(algo, raw, source)
    runner = validate(RunnerConfig, {k: v for k, v in raw.items() if k in RUNNER_KEYS}, source)
    kwargs = sb3_kwargs(algo, {k: v for k, v in raw.items() if k not in RUNNER_KEYS}, source)
    return RLConfig(algo=algo, env_id=env_id, runner=runner, sb3_kwargs=kwargs, source=str(path), raw=raw)
