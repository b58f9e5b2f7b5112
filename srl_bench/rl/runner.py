"""Downstream RL: train an SB3 agent on the live pixel env through a frozen encoder, and score it.

For each seed: a training VecEnv and a separate evaluation VecEnv (seeded apart), both seeing the same
representation; ``n_eval`` deterministic evaluation episodes before training and every ``eval_freq``
steps, and once more at the end; the run's score is the mean return of the last evaluation
(specs/metrics.md, "Downstream RL"). Outputs, written to a temporary directory and moved into place
when complete: ``rl.json`` (scores, budget, seeds, hyper-parameters, normalised score),
``curve.csv`` (the learning curves) and, when TensorBoard is installed, ``tb/``.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from srl_bench import __version__
from srl_bench.errors import SrlBenchError
from srl_bench.rl.config import CONTINUOUS_ONLY, DISCRETE_ONLY, RLConfig, algo_class, load_rl_config
from srl_bench.rl.stats import mean_ci, normalized_score
from srl_bench.rl.wrappers import (
    FrozenEncoderVecEnv,
    GroundTruthObservation,
    RecurrentEncoderVecEnv,
    frozen,
    is_recurrent,
    make_batch_encoder,
)

REFERENCES = ("ground_truth", "raw_pixels", "random_policy")
EVAL_SEED_OFFSET = 10_000  # evaluation envs are seeded apart from the training envs of the same seed
MAX_EVAL_ENVS = 10
CURVE_FIELDS = ("seed", "timesteps", "mean_return", "std_return", "min_return", "max_return", "mean_length",
                "n_episodes", "wall_seconds")
RL_FORMAT = "srl-bench-rl/1"


@dataclass
class Representation:
    """What the agent sees: ``kind`` is ground_truth, raw_pixels, random_policy or learned."""

    kind: str
    name: str
    encoder: Any = None
    info: dict[str, Any] = field(default_factory=dict)
    image_size: tuple[int, int] | None = None  # the image size the encoder was trained on, when known


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


def resolve_representation(encoder_or_run: Any, env_id: str, device: torch.device) -> Representation:
    """A reference name, a run directory, an ``nn.Module`` encoder or a NumPy callable -> ``Representation``."""
    if isinstance(encoder_or_run, str) and encoder_or_run in REFERENCES:
        return Representation(kind=encoder_or_run, name=encoder_or_run)
    if isinstance(encoder_or_run, (str, os.PathLike)):
        run_dir = Path(encoder_or_run)
        if not run_dir.is_dir():
            raise SrlBenchError(f"representation {str(encoder_or_run)!r} is neither one of {', '.join(REFERENCES)} "
                                "nor a run directory; train one with `srl-bench train`")
        from srl_bench.runs import load_run, read_run_config

        config = read_run_config(run_dir)
        meta = config.get("data_meta", {})
        if meta.get("env_id") and meta["env_id"] != env_id:
            raise SrlBenchError(f"the run {run_dir} was trained on {meta['env_id']} images, not {env_id}; "
                                "pass a run trained on this environment")
        encoder = load_run(run_dir, str(device))
        shape = meta.get("image_shape")
        return Representation(
            kind="learned", name=run_dir.name, encoder=encoder,
            info={"run_dir": str(run_dir), "method": config.get("method"), "state_dim": int(encoder.state_dim),
                  "run_seed": config.get("seed")},
            image_size=(int(shape[0]), int(shape[1])) if shape else None,
        )
    if isinstance(encoder_or_run, nn.Module):
        encoder = encoder_or_run.to(device)
        shape = getattr(encoder, "image_shape", None)
        return Representation(
            kind="learned", name=type(encoder).__name__, encoder=encoder,
            info={"class": type(encoder).__name__, "state_dim": getattr(encoder, "state_dim", None)},
            image_size=(int(shape[0]), int(shape[1])) if shape else None,
        )
    if callable(encoder_or_run):
        name = getattr(encoder_or_run, "__name__", type(encoder_or_run).__name__)
        return Representation(kind="learned", name=name, encoder=encoder_or_run, info={"callable": name})
    raise SrlBenchError(f"cannot use {encoder_or_run!r} as a representation: give one of {', '.join(REFERENCES)}, "
                        "a run directory, an srl_bench.Encoder or a callable images -> states")


def check_action_space(algo: str, env_id: str, space: gym.Space) -> None:
    """Refuse, with one sentence, an algorithm that cannot act in ``space``."""
    if algo in DISCRETE_ONLY and not isinstance(space, gym.spaces.Discrete):
        raise SrlBenchError(f"{algo} needs a discrete action space, but {env_id} has {space}; "
                            "use ppo or a2c, or sac/td3 for continuous actions")
    if algo in CONTINUOUS_ONLY and not isinstance(space, gym.spaces.Box):
        raise SrlBenchError(f"{algo} needs a continuous (Box) action space, but {env_id} has {space}; "
                            "use ppo, a2c or dqn for discrete actions")
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise SrlBenchError(f"action space {space} of {env_id} is not supported (only Discrete and Box)")


@dataclass
class EnvFactory:
    """Builds the (training or evaluation) VecEnv of one representation, with the same wrappers."""

    env_id: str
    env_kwargs: dict[str, Any]
    representation: Representation
    frame_stack: int = 1
    normalize_state: str | None = None  # None, "running" or "fixed"
    normalize_warmup: int = 2000
    normalize_reward: bool = False
    gamma: float = 0.99
    vec_env: str = "dummy"
    _encode: Callable[[np.ndarray], np.ndarray] | None = field(default=None, init=False, repr=False)

    def _thunk(self, with_state: bool) -> Callable[[], gym.Env]:
        from stable_baselines3.common.monitor import Monitor

        from srl_bench.collect import make_env

        def make() -> gym.Env:
            env = Monitor(make_env(self.env_id, **self.env_kwargs))
            return GroundTruthObservation(env) if with_state else env

        return make

    def build(self, n_envs: int, seed: int, training: bool, encode: bool = True):
        """``n_envs`` envs seeded ``seed, seed+1, ...``; ``encode=False`` skips the representation."""
        from stable_baselines3.common.vec_env import (
            DummyVecEnv,
            SubprocVecEnv,
            VecFrameStack,
            VecNormalize,
            VecTransposeImage,
        )

        kind = self.representation.kind
        thunks = [self._thunk(encode and kind == "ground_truth") for _ in range(n_envs)]
        venv = SubprocVecEnv(thunks) if self.vec_env == "subproc" and n_envs > 1 else DummyVecEnv(thunks)
        venv.seed(seed)
        if not encode:
            return venv
        if kind == "learned":
            encoder = self.representation.encoder
            if is_recurrent(encoder):
                venv = RecurrentEncoderVecEnv(venv, encoder)
            else:
                if self._encode is None:  # traced once, shared by every VecEnv of this run
                    self._encode = make_batch_encoder(encoder, venv.observation_space.shape)
                venv = FrozenEncoderVecEnv(venv, encoder, getattr(encoder, "state_dim", None), encode=self._encode)
        if self.frame_stack > 1:
            venv = VecFrameStack(venv, self.frame_stack)
        if kind == "raw_pixels":
            venv = VecTransposeImage(venv)
        # outermost: SB3's off-policy agents store VecNormalize's original observation, which must be
        # the stacked (and transposed) one the agent sees
        norm_obs = self.normalize_state is not None and kind in ("learned", "ground_truth")
        norm_reward = self.normalize_reward and training
        if norm_obs or self.normalize_reward:
            venv = VecNormalize(venv, training=training, norm_obs=norm_obs, norm_reward=norm_reward, gamma=self.gamma)
            if training and norm_obs and self.normalize_state == "fixed":
                warm_up_normalization(venv, self.normalize_warmup, seed)
        return venv


def warm_up_normalization(venv, steps: int, seed: int) -> None:
    """Fit VecNormalize's observation statistics on ``steps`` random-action steps, then freeze them."""
    venv.action_space.seed(seed)
    venv.reset()
    for _ in range(-(-steps // venv.num_envs)):
        venv.step(np.stack([venv.action_space.sample() for _ in range(venv.num_envs)]))
    venv.training = False


def _episode_row(seed: int, timesteps: int, returns: Sequence[float], lengths: Sequence[int], start: float) -> dict:
    returns = np.asarray(returns, dtype=np.float64)
    return {"seed": seed, "timesteps": int(timesteps), "mean_return": float(returns.mean()),
            "std_return": float(returns.std()), "min_return": float(returns.min()), "max_return": float(returns.max()),
            "mean_length": float(np.mean(lengths)), "n_episodes": int(len(returns)),
            "wall_seconds": round(time.perf_counter() - start, 2)}


def _make_eval_callback(eval_env, seed: int, eval_freq: int, n_eval: int, rows: list[dict], progress_bar, start: float):
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import sync_envs_normalization

    class EvaluationCallback(BaseCallback):
        """Evaluates before training, every ``eval_freq`` env steps, and at the end."""

        def __init__(self) -> None:
            super().__init__()
            self.next_eval = eval_freq
            self.last_eval = -1
            self.last_count = 0

        def _evaluate(self) -> None:
            sync_envs_normalization(self.training_env, eval_env)
            returns, lengths = evaluate_policy(self.model, eval_env, n_eval_episodes=n_eval, deterministic=True,
                                               return_episode_rewards=True, warn=False)
            row = _episode_row(seed, self.num_timesteps, returns, lengths, start)
            rows.append(row)
            self.last_eval = self.num_timesteps
            self.logger.record("eval/mean_return", row["mean_return"])
            self.logger.record("eval/mean_length", row["mean_length"])
            self.logger.dump(self.num_timesteps)
            if progress_bar is not None:
                progress_bar.set_postfix(seed=seed, eval_return=f"{row['mean_return']:.1f}")

        def _on_training_start(self) -> None:
            self._evaluate()

        def _on_step(self) -> bool:
            if progress_bar is not None:
                progress_bar.update(self.num_timesteps - self.last_count)
                self.last_count = self.num_timesteps
            if self.num_timesteps >= self.next_eval:
                self._evaluate()
                while self.next_eval <= self.num_timesteps:
                    self.next_eval += eval_freq
            return True

        def _on_training_end(self) -> None:
            if self.last_eval != self.num_timesteps:
                self._evaluate()

    return EvaluationCallback()


def _random_policy_curve(factory: EnvFactory, seed: int, n_eval: int, n_eval_envs: int, schedule: list[int],
                         rows: list[dict], start: float) -> None:
    """The uniform-random policy, evaluated at the same points as an agent (it does not learn)."""
    eval_env = factory.build(n_eval_envs, seed + EVAL_SEED_OFFSET, training=False, encode=False)
    eval_env.action_space.seed(seed)
    try:
        for timesteps in schedule:
            returns, lengths = _play_random(eval_env, n_eval)
            rows.append(_episode_row(seed, timesteps, returns, lengths, start))
    finally:
        eval_env.close()


def _play_random(venv, n_episodes: int) -> tuple[list[float], list[int]]:
    venv.reset()
    returns, lengths = [], []
    running = np.zeros(venv.num_envs)
    steps = np.zeros(venv.num_envs, dtype=int)
    while len(returns) < n_episodes:
        actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
        _, rewards, dones, _ = venv.step(actions)
        running += rewards
        steps += 1
        for i in np.flatnonzero(dones):
            if len(returns) < n_episodes:
                returns.append(float(running[i]))
                lengths.append(int(steps[i]))
            running[i], steps[i] = 0.0, 0
    return returns, lengths


def _action_noise(config: RLConfig, space: gym.Space):
    noise_type = config["noise_type"]
    if noise_type is None:
        return None
    if not isinstance(space, gym.spaces.Box):
        raise SrlBenchError("noise_type applies to continuous actions only; remove it from the hyper-parameters")
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    dim = int(np.prod(space.shape))
    sigma = float(config["noise_std"]) * np.ones(dim)
    if noise_type == "normal":
        return NormalActionNoise(np.zeros(dim), sigma)
    if noise_type == "ornstein-uhlenbeck":
        return OrnsteinUhlenbeckActionNoise(np.zeros(dim), sigma)
    raise SrlBenchError(f"noise_type must be normal or ornstein-uhlenbeck, got {noise_type!r}")


def _curve_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CURVE_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_curve(path: str | Path) -> list[dict[str, float]]:
    """The rows of a ``curve.csv`` as dicts of numbers."""
    with open(path, newline="") as handle:
        return [{k: (int(v) if k in ("seed", "timesteps", "n_episodes") else float(v)) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def find_references(references: str | Path, env_id: str, algo: str, timesteps: int) -> dict[str, dict[str, Any]]:
    """The ``rl.json`` of ground_truth and random_policy runs under ``references`` with the same env,
    algorithm and budget (``{kind: payload}``; kinds without a match are absent)."""
    found: dict[str, dict[str, Any]] = {}
    root = Path(references)
    if not root.is_dir():
        raise SrlBenchError(f"references directory {root} does not exist; point it at a folder of rl runs")
    for path in sorted(root.rglob("rl.json")):
        try:
            payload = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        kind = payload.get("representation", {}).get("kind")
        if kind in ("ground_truth", "random_policy") and kind not in found and payload.get("env_id") == env_id \
                and payload.get("algo") == algo and payload.get("timesteps") == timesteps:
            found[kind] = {**payload, "path": str(path)}
    return found


def attach_normalized_score(payload: dict[str, Any], ground_truth_mean: float | None, random_mean: float | None,
                            sources: dict[str, str]) -> None:
    """Add the normalised score (per seed and of the mean) to an ``rl.json`` payload, given the references."""
    if ground_truth_mean is None or random_mean is None:
        payload["normalized_score"] = None
        payload["normalized_reference"] = {"missing": [k for k, v in (("ground_truth", ground_truth_mean),
                                                                      ("random_policy", random_mean)) if v is None]}
        return
    per_seed = {s: normalized_score(v, ground_truth_mean, random_mean) for s, v in payload["scores"].items()}
    payload["normalized_score"] = normalized_score(payload["score_mean"], ground_truth_mean, random_mean)
    payload["normalized_scores"] = per_seed
    payload["normalized_reference"] = {"ground_truth_mean": ground_truth_mean, "random_policy_mean": random_mean,
                                       **sources}


def rl_evaluate(
    encoder_or_run: Any,
    env_id: str,
    algo: str = "ppo",
    timesteps: int | None = None,
    seeds: str | Iterable[int] = (0, 1, 2),
    out: str | Path | None = None,
    device: str = "auto",
    n_envs: int | None = None,
    eval_freq: int | None = None,
    n_eval: int | None = None,
    hyperparams: dict[str, Any] | None = None,
    config_file: str | Path | None = None,
    normalize_state: bool | str | None = None,
    frame_stack: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    references: str | Path | None = None,
    vec_env: str = "dummy",
    overwrite: bool = False,
    progress: bool = True,
    save_agents: bool = False,
    torch_threads: int | None = None,
) -> dict[str, Any]:
    """Train and score an SB3 agent on ``env_id`` through a frozen representation, for each seed.

    Args:
        encoder_or_run: ``"ground_truth"``, ``"raw_pixels"`` (SB3's CNN, trained end to end),
            ``"random_policy"``, a run directory, an ``srl_bench.Encoder`` (any ``nn.Module`` taking
            uint8 N×H×W×C; moved to ``device``, frozen while the agent trains) or a callable NumPy
            images -> states. Encoders with ``initial_state``/``encode_step`` keep a hidden state
            through each episode (see ``srl_bench.rl.wrappers.RecurrentEncoder``).
        env_id: an ``srl/...`` environment id.
        algo: ppo, a2c, dqn (discrete actions), sac or td3 (continuous actions).
        timesteps: training budget in env steps per seed (default: the config's ``n_timesteps``).
        seeds: e.g. ``"0,1,2"`` or ``[0, 1, 2]``.
        out: directory for ``rl.json`` and ``curve.csv`` (nothing written when None).
        device: ``auto`` (CUDA when present, for agent and encoder), ``cpu`` or ``cuda``.
        n_envs, eval_freq, n_eval, frame_stack: override the config's values.
        normalize_state: standardise the state the agent sees: False, ``"running"`` (or True) or
            ``"fixed"`` (statistics of random-action warm-up steps, then frozen); default: the config's.
        hyperparams: overrides merged into ``configs/rl/<algo>.yaml``'s entry for ``env_id``.
        references: a folder searched for ground_truth / random_policy ``rl.json`` of the same env,
            algorithm and budget, for the normalised score.
        vec_env: ``dummy`` (one process) or ``subproc`` (one process per env).
        save_agents: also save each seed's trained agent as ``agent_seed<S>.zip`` in ``out``.
        torch_threads: ``torch.set_num_threads`` for this process (small agents often run fastest on 1).

    Returns:
        The ``rl.json`` payload, plus ``"curve"``: the evaluation rows of every seed.
    """
    from srl_bench.runs import resolve_device

    seed_list = parse_seeds(seeds)
    if torch_threads is not None:
        if torch_threads < 1:
            raise SrlBenchError(f"torch_threads must be at least 1, got {torch_threads}")
        torch.set_num_threads(torch_threads)
    torch_device = resolve_device(device)
    if vec_env not in ("dummy", "subproc"):
        raise SrlBenchError(f"vec_env must be dummy or subproc, got {vec_env!r}")
    out_dir = Path(out) if out is not None else None
    if out_dir is not None and (out_dir / "rl.json").exists() and not overwrite:
        raise SrlBenchError(f"{out_dir / 'rl.json'} already exists; choose another --out or pass --overwrite")

    from srl_bench.collect import make_env

    probe = make_env(env_id, **(env_kwargs or {}))
    action_space = probe.action_space
    true_state_dim = len(getattr(probe.unwrapped, "state_names", ()))
    probe.close()
    check_action_space(algo, env_id, action_space)

    overrides = dict(hyperparams or {})
    for key, value in (("n_envs", n_envs), ("n_timesteps", timesteps), ("eval_freq", eval_freq), ("n_eval", n_eval),
                       ("normalize_state", normalize_state), ("frame_stack", frame_stack)):
        if value is not None:
            overrides[key] = value
    config = load_rl_config(algo, env_id, overrides, config_file)
    budget = config["n_timesteps"]
    every = config["eval_freq"] if config["eval_freq"] is not None else max(budget // 10, 1)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise SrlBenchError(f"eval_freq must be a positive integer, got {every!r}")

    representation = resolve_representation(encoder_or_run, env_id, torch_device)
    if representation.kind == "ground_truth":
        representation.info["state_dim"] = true_state_dim
    kwargs = dict(env_kwargs or {})
    if representation.image_size is not None:
        asked = kwargs.get("image_size")
        asked_hw = (asked, asked) if isinstance(asked, int) else tuple(asked) if asked is not None else None
        if asked_hw is not None and asked_hw != representation.image_size:
            raise SrlBenchError(f"the encoder was trained on {representation.image_size[0]}×{representation.image_size[1]}"
                                f" images but image_size={asked!r} was asked for; leave image_size out")
        h, w = representation.image_size
        kwargs["image_size"] = h if h == w else [h, w]

    factory = EnvFactory(env_id, kwargs, representation, frame_stack=config["frame_stack"],
                         normalize_state=config["normalize_state"], normalize_warmup=config["normalize_warmup"],
                         normalize_reward=bool(config["normalize_reward"]),
                         gamma=float(config.sb3_kwargs.get("gamma", 0.99)), vec_env=vec_env)
    n_eval_episodes = config["n_eval"]
    n_eval_envs = min(n_eval_episodes, MAX_EVAL_ENVS)
    schedule = sorted({0, *range(every, budget, every), budget})

    tmp_dir = None
    if out_dir is not None:
        tmp_dir = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True)
    tensorboard_dir = str(tmp_dir / "tb") if tmp_dir is not None and importlib.util.find_spec("tensorboard") else None

    from tqdm.auto import tqdm

    bar = tqdm(total=budget * len(seed_list), unit="step", desc=f"{algo} {representation.name}",
               disable=not progress, dynamic_ncols=True)
    rows: list[dict] = []
    steps_done: dict[str, int] = {}
    agent_obs_shape: list[int] | None = None
    start = time.perf_counter()
    try:
        with frozen(representation.encoder):
            for seed in seed_list:
                seed_start = time.perf_counter()
                if representation.kind == "random_policy":
                    _random_policy_curve(factory, seed, n_eval_episodes, n_eval_envs, schedule, rows, seed_start)
                    steps_done[str(seed)] = 0
                    bar.update(budget)
                    continue
                steps_done[str(seed)], agent_obs_shape = _train_one_seed(
                    algo, config, factory, action_space, seed, budget, every, n_eval_episodes, n_eval_envs,
                    torch_device, representation, rows, bar, seed_start, tensorboard_dir,
                    tmp_dir / f"agent_seed{seed}.zip" if save_agents and tmp_dir is not None else None)
    except BaseException:
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    finally:
        bar.close()
    seconds = time.perf_counter() - start

    scores = {str(seed): [r for r in rows if r["seed"] == seed][-1]["mean_return"] for seed in seed_list}
    mean, low, high = mean_ci(list(scores.values()))
    total_steps = sum(steps_done.values())
    payload: dict[str, Any] = {
        "format": RL_FORMAT,
        "env_id": env_id,
        "env_kwargs": kwargs,
        "representation": {"kind": representation.kind, "name": representation.name, **representation.info},
        "algo": algo,
        "timesteps": budget,
        "timesteps_done": steps_done,
        "seeds": seed_list,
        "n_seeds": len(seed_list),
        "evaluation": {"eval_freq": every, "n_eval": n_eval_episodes, "deterministic": True,
                       "seed_offset": EVAL_SEED_OFFSET, "score": "mean return of the last evaluation"},
        "scores": scores,
        "score_mean": mean,
        "score_ci95": [low, high],
        "score_std": float(np.std(list(scores.values()))),
        "hyperparams": {**config.raw, **config.runner, "eval_freq": every},
        "hyperparams_file": config.source,
        "policy": _policy_name(config, representation),
        "agent_observation_shape": agent_obs_shape,
        "device": str(torch_device),
        "vec_env": vec_env,
        "seconds": round(seconds, 2),
        "env_steps_per_second": round(total_steps / seconds, 1) if total_steps else None,
        "curve_file": "curve.csv",
        "versions": _versions(),
    }
    if representation.kind == "random_policy":
        payload["hyperparams"] = {"n_timesteps": budget, "eval_freq": every, "n_eval": n_eval_episodes,
                                  "note": "uniform random actions; nothing is trained"}
    _attach_references(payload, references, env_id, algo, budget)
    payload = _finite_or_none(json.loads(json.dumps(payload, default=_json_default)))
    if tmp_dir is not None and out_dir is not None:
        _publish(tmp_dir, out_dir, payload, rows)
    payload["curve"] = rows
    return payload


def _publish(tmp_dir: Path, out_dir: Path, payload: dict[str, Any], rows: list[dict]) -> None:
    """Write rl.json and curve.csv beside the run's other files in ``tmp_dir``, then move all into ``out_dir``."""
    (tmp_dir / "curve.csv").write_text(_curve_csv(rows))
    (tmp_dir / "rl.json").write_text(json.dumps(payload, indent=2))
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in tmp_dir.iterdir():
        target = out_dir / item.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(item, target)
    shutil.rmtree(tmp_dir, ignore_errors=True)


def _attach_references(payload: dict[str, Any], references: str | Path | None, env_id: str, algo: str,
                       budget: int) -> None:
    kind = payload["representation"]["kind"]
    found = find_references(references, env_id, algo, budget) if references is not None else {}
    gt = payload["score_mean"] if kind == "ground_truth" else found.get("ground_truth", {}).get("score_mean")
    rnd = payload["score_mean"] if kind == "random_policy" else found.get("random_policy", {}).get("score_mean")
    sources = {f"{k}_file": v["path"] for k, v in found.items()}
    attach_normalized_score(payload, gt, rnd, sources)


def _policy_name(config: RLConfig, representation: Representation) -> str | None:
    if representation.kind == "random_policy":
        return None
    return config["policy"] or ("CnnPolicy" if representation.kind == "raw_pixels" else "MlpPolicy")


def _train_one_seed(algo: str, config: RLConfig, factory: EnvFactory, action_space: gym.Space, seed: int, budget: int,
                    every: int, n_eval: int, n_eval_envs: int, device: torch.device, representation: Representation,
                    rows: list[dict], bar, start: float, tensorboard_dir: str | None,
                    agent_path: Path | None) -> tuple[int, list[int]]:
    """Train one agent with its evaluations; returns its env steps and the shape of what it sees."""
    train_env = factory.build(config["n_envs"], seed, training=True)
    eval_env = factory.build(n_eval_envs, seed + EVAL_SEED_OFFSET, training=False)
    try:
        kwargs = dict(config.sb3_kwargs)
        noise = _action_noise(config, action_space)
        if noise is not None:
            kwargs["action_noise"] = noise
        try:
            model = algo_class(algo)(_policy_name(config, representation), train_env, seed=seed, device=device,
                                     verbose=0, tensorboard_log=tensorboard_dir, **kwargs)
        except (ValueError, TypeError, AssertionError) as exc:
            raise SrlBenchError(f"cannot build {algo} with these hyper-parameters on {factory.env_id}: {exc}") from exc
        callback = _make_eval_callback(eval_env, seed, every, n_eval, rows, bar, start)
        model.learn(total_timesteps=budget, callback=callback, tb_log_name=f"{representation.name}_seed{seed}")
        if agent_path is not None:
            model.save(agent_path)
        return int(model.num_timesteps), list(model.observation_space.shape)
    finally:
        train_env.close()
        eval_env.close()


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _finite_or_none(value: Any) -> Any:
    """NaN and infinities -> None, so ``rl.json`` stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def _versions() -> dict[str, str]:
    import stable_baselines3

    return {"srl_bench": __version__, "stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__,
            "gymnasium": gym.__version__}


def format_rl(payload: dict[str, Any]) -> str:
    """A short summary of an ``rl.json`` payload: per-seed scores, mean with its interval, normalised score."""
    rep = payload["representation"]
    state = f" (state_dim {rep['state_dim']})" if rep.get("state_dim") else ""
    n_points = len({row["timesteps"] for row in payload.get("curve", [])}) or "?"
    lines = [f"  {payload['algo']} on {payload['env_id']} with {rep['name']}{state}: {payload['timesteps']} steps × "
             f"{payload['n_seeds']} seeds, {n_points} evaluations of {payload['evaluation']['n_eval']} episodes",
             "  " + "   ".join(f"seed {s}: {v:.1f}" for s, v in payload["scores"].items())]
    low, high = payload["score_ci95"]
    lines.append(f"  score {payload['score_mean']:.1f} (95% CI {low:.1f} to {high:.1f}, {payload['n_seeds']} seeds)")
    if payload.get("normalized_score") is not None:
        ref = payload["normalized_reference"]
        lines.append(f"  normalised score {payload['normalized_score']:.3f} (ground_truth {ref['ground_truth_mean']:.1f},"
                     f" random_policy {ref['random_policy_mean']:.1f})")
    else:
        missing = ", ".join(payload.get("normalized_reference", {}).get("missing", []))
        lines.append(f"  normalised score: needs {missing} runs of the same env, algorithm and budget (--references)")
    speed = f", {payload['env_steps_per_second']:.0f} env steps/s" if payload.get("env_steps_per_second") else ""
    lines.append(f"  {payload['seconds']:.1f} s{speed}")
    return "\n".join(lines)
