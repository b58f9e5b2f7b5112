"""The settings of one ``rl_evaluate`` call: its options, checked once (:class:`RunOptions`), and
everything resolved from them before training (:class:`RLRun`), which the per-seed functions take."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal

import gymnasium as gym
import numpy as np
import torch
from pydantic import Field, PositiveInt, field_validator

from srl_bench.config import ConfigModel, merge, validate
from srl_bench.errors import SrlBenchError
from srl_bench.publish import Publisher
from srl_bench.rl.config import Count, RLConfig
from srl_bench.rl.envs import EnvFactory
from srl_bench.rl.protocol import EvaluationProtocol
from srl_bench.rl.representations import Representation

if TYPE_CHECKING:
    from srl_bench.rl.results import ResumeArea

# rl_evaluate's names for keys of the RL config (RunnerConfig), which checks them
CONFIG_OPTIONS = {"timesteps": "n_timesteps", "n_envs": "n_envs", "eval_freq": "eval_freq", "n_eval": "n_eval",
                  "normalize_state": "normalize_state", "frame_stack": "frame_stack"}


def parse_seeds(text: str | int | Iterable[int]) -> list[int]:
    """``"0,1,2"`` (or an int, or a list) -> ``[0, 1, 2]``; seeds must be distinct non-negative ints."""
    if isinstance(text, str):
        try:
            seeds = [int(part) for part in text.replace(" ", "").split(",") if part != ""]
        except ValueError as exc:
            raise SrlBenchError(f"seeds must be comma-separated integers like 0,1,2, got {text!r}") from exc
    elif isinstance(text, (int, np.integer)):
        seeds = [int(text)]
    else:
        seeds = [int(s) for s in text]
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise SrlBenchError(f"seeds must be distinct non-negative integers, got {text!r}")
    return seeds


class RunOptions(ConfigModel):
    """The options of ``rl_evaluate`` (its keyword arguments), beside the representation, env and algorithm.

    ``timesteps``, ``n_envs``, ``eval_freq``, ``n_eval``, ``normalize_state`` and ``frame_stack``
    override the RL config's keys of (nearly) the same names and are checked there; None keeps the
    config's value.
    """

    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])  # "0,1,2", an int or a list
    out: Path | None = None  # directory for rl.json and curve.csv; None writes nothing
    device: str = "auto"  # auto (CUDA when present), cpu or cuda, for the agent and the encoder
    hyperparams: dict[str, Any] = Field(default_factory=dict)  # merged into the config's entry for the env
    config_file: Path | None = None  # a YAML keyed by env id, instead of srl_bench/configs/rl/<algo>.yaml
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    references: Path | None = None  # searched for ground_truth / random_policy rl.json, for the normalised score
    vec_env: Literal["dummy", "subproc"] = "dummy"  # one process, or one process per env
    overwrite: bool = False
    progress: bool = True
    save_agents: bool = False  # also save each seed's agent as agent_seed<S>.zip in `out`
    torch_threads: PositiveInt | None = None  # torch.set_num_threads for this process
    timesteps: Count | None = None  # -> n_timesteps
    n_envs: Count | None = None
    eval_freq: Count | None = None
    n_eval: Count | None = None
    normalize_state: bool | str | None = None
    frame_stack: Count | None = None

    @field_validator("seeds", mode="before")
    @classmethod
    def _parse_seeds(cls, value: Any) -> list[int]:
        return parse_seeds(value)

    @field_validator("hyperparams", "env_kwargs", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @classmethod
    def from_keywords(cls, base: RunOptions | None = None, **keywords: Any) -> RunOptions:
        """``base`` (or the defaults) with ``keywords`` replacing its values, checked: unknown names and
        wrong types are one SrlBenchError (with the closest name for a typo)."""
        values = {**(base.model_dump(exclude_unset=True) if base is not None else {}), **keywords}
        return validate(cls, values, "rl_evaluate")

    def config_overrides(self) -> dict[str, Any]:
        """``hyperparams`` with the options that override config keys merged in (those that are set)."""
        options = {key: getattr(self, name) for name, key in CONFIG_OPTIONS.items() if getattr(self, name) is not None}
        return merge(self.hyperparams, options)


@dataclass
class RLRun:
    """One ``rl_evaluate`` call, resolved: what each seed is trained, evaluated and written with."""

    algo: str
    env_id: str
    options: RunOptions
    config: RLConfig
    protocol: EvaluationProtocol
    representation: Representation
    factory: EnvFactory  # builds the training and evaluation envs (env_kwargs fitted to the encoder)
    action_space: gym.Space
    device: torch.device
    publisher: Publisher | None = None  # writes options.out atomically (None: nothing is written)
    resume: ResumeArea | None = None  # each finished seed, kept beside options.out until published (None: no out)

    @property
    def work_dir(self) -> Path | None:
        """The publisher's temporary directory, once begun: where the run's files are written."""
        return self.publisher.tmp_dir if self.publisher is not None and self.publisher.begun else None

    @property
    def tensorboard_dir(self) -> str | None:
        """Where SB3 writes TensorBoard logs: ``tb/`` of the output, when TensorBoard is installed."""
        if self.work_dir is None or importlib.util.find_spec("tensorboard") is None:
            return None
        return str(self.work_dir / "tb")

    def agent_path(self, seed: int) -> Path | None:
        """Where seed ``seed``'s trained agent is saved (None unless ``save_agents`` and an output)."""
        if not self.options.save_agents or self.work_dir is None:
            return None
        return self.work_dir / f"agent_seed{seed}.zip"
