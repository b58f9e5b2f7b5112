"""The dataset generation loop: seeded episodes, optionally in parallel worker processes.

Episode ``i`` is seeded from ``(seed, i)`` alone, and episodes are written in order, so the same seed
gives the same bytes whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from srl_bench import envs
from srl_bench.collect.policies import make_policy
from srl_bench.data.format import DatasetWriter
from srl_bench.config import closest
from srl_bench.errors import SrlBenchError


def make_env(env_id: str, **env_kwargs: Any) -> gym.Env:
    """``gymnasium.make`` with srl-bench's envs registered and errors turned into clear sentences."""
    if env_id not in gym.registry:
        known = ", ".join(envs.ENV_IDS)
        raise SrlBenchError(f"unknown environment {env_id!r}{closest(env_id, envs.ENV_IDS)}; srl-bench provides: {known}")
    try:
        return gym.make(env_id, **env_kwargs)
    except (ValueError, TypeError) as exc:
        raise SrlBenchError(f"cannot make {env_id} with {env_kwargs}: {exc}") from exc


def describe_action_space(space: gym.Space) -> dict[str, Any]:
    """A JSON-friendly description of an action space."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "discrete", "n": int(space.n)}
    if isinstance(space, gym.spaces.Box):
        return {"type": "box", "shape": list(space.shape), "low": space.low.tolist(), "high": space.high.tolist()}
    raise SrlBenchError(f"action space {space} is not supported (only Discrete and Box)")


def episode_seeds(seed: int, episode: int) -> tuple[int, int]:
    """The (env seed, policy seed) of one episode, derived from the dataset seed only."""
    env_seed, policy_seed = np.random.SeedSequence([seed, episode]).generate_state(2)
    return int(env_seed), int(policy_seed)


def run_episode(
    env: gym.Env, policy_name: str, seed: int, episode: int, max_steps: int | None
) -> dict[str, np.ndarray]:
    """Play one seeded episode and return its arrays (T + 1 rows for T steps)."""
    env_seed, policy_seed = episode_seeds(seed, episode)
    policy = make_policy(policy_name, env, policy_seed)
    obs, info = env.reset(seed=env_seed)
    observations, states, actions, rewards = [obs], [info["state"]], [], []
    terminated = truncated = False
    while not (terminated or truncated):
        action = policy(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        states.append(info["state"])
        actions.append(action)
        rewards.append(reward)
        if max_steps is not None and len(actions) >= max_steps:
            truncated = True
    n = len(observations)
    action_array = np.asarray(actions)
    if isinstance(env.action_space, gym.spaces.Discrete):
        action_array = np.append(action_array.astype(np.int64), 0)
    else:
        action_array = np.concatenate([action_array.astype(np.float32).reshape(n - 1, -1),
                                       np.zeros((1, int(np.prod(env.action_space.shape))), np.float32)])
    ends = np.zeros(n, dtype=bool)
    ends[-1] = bool(terminated)
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    return {
        "observations": np.stack(observations).astype(np.uint8),
        "states": np.stack(states).astype(np.float32),
        "actions": action_array,
        "rewards": np.append(np.asarray(rewards, dtype=np.float32), np.float32(0)),
        "episode_starts": starts,
        "terminated": ends,
    }


# Each worker process builds its env once and reuses it for every episode it plays.
_worker_env: gym.Env | None = None
_worker_args: dict[str, Any] = {}


def _init_worker(env_id: str, env_kwargs: dict[str, Any], policy: str, seed: int, max_steps: int | None) -> None:
    global _worker_env, _worker_args
    # Ctrl-C reaches the whole process group: the parent alone handles it (and terminates the pool),
    # so workers neither print tracebacks nor leave the pool's result handler waiting for them
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_env = make_env(env_id, **env_kwargs)
    _worker_args = {"policy_name": policy, "seed": seed, "max_steps": max_steps}


def _worker_episode(episode: int) -> dict[str, np.ndarray]:
    assert _worker_env is not None
    return run_episode(_worker_env, episode=episode, **_worker_args)


def generate_dataset(
    env_id: str,
    n_episodes: int,
    out_dir: str | Path,
    seed: int = 0,
    image_size: int = 64,
    policy: str = "random",
    workers: int = 1,
    max_steps: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Record ``n_episodes`` episodes of ``env_id`` into a dataset directory and return its path."""
    if n_episodes < 1:
        raise SrlBenchError(f"--episodes must be at least 1, got {n_episodes}")
    if workers < 1:
        raise SrlBenchError(f"--workers must be at least 1, got {workers}")
    if max_steps is not None and max_steps < 1:
        raise SrlBenchError(f"--max-steps must be at least 1, got {max_steps}")
    if seed < 0:
        raise SrlBenchError(f"--seed must be at least 0, got {seed}")
    writer = DatasetWriter(out_dir, overwrite=overwrite)  # checks the output path before any work
    env_kwargs = {"image_size": image_size, **(env_kwargs or {})}
    probe = make_env(env_id, **env_kwargs)  # validates the id and kwargs before any work starts
    make_policy(policy, probe, 0)
    meta = {
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "image_shape": list(probe.observation_space.shape),
        "state_names": list(probe.unwrapped.state_names),
        "action_space": describe_action_space(probe.action_space),
        "policy": policy,
        "seed": seed,
        "max_steps": max_steps,
    }
    bar = tqdm(total=n_episodes, desc=f"generate {env_id}", unit="ep", disable=not progress)
    with writer:
        if workers == 1:
            for episode in range(n_episodes):
                writer.add_episode(run_episode(probe, policy, seed, episode, max_steps))
                bar.update()
        else:
            probe.close()
            context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            with context.Pool(workers, _init_worker, (env_id, env_kwargs, policy, seed, max_steps)) as pool:
                for arrays in pool.imap(_worker_episode, range(n_episodes)):
                    writer.add_episode(arrays)
                    bar.update()
        bar.close()
        meta["episode_lengths"] = writer.episode_lengths
        path = writer.close(meta)
    probe.close()
    return path
