"""The dataset generation loop: seeded episodes, optionally in parallel worker processes.

Episode ``i`` is seeded from ``(seed, i)`` alone, and episodes are written in order, so the same seed
gives the same bytes whatever the number of workers.

Two collectors give the same bytes. Cart-pole and pendulum (NumPy renderer) with the random policy
run batched (``BatchedCollector``): many episodes step together through the vectorised dynamics of
``srl_bench.envs.classic``'s batches, then their frames are drawn in large batches; any other env or policy
plays one episode at a time through the single env (``run_episode``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from srl_bench import envs
from srl_bench.collect.policies import RandomPolicy, make_policy
from srl_bench.envs import classic
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
    return episode_arrays(np.stack(observations), np.stack(states), actions, rewards, bool(terminated),
                          env.action_space)


def episode_arrays(
    observations: np.ndarray, states: np.ndarray, actions: list[Any] | np.ndarray, rewards: list[float] | np.ndarray,
    terminated: bool, action_space: gym.Space,
) -> dict[str, np.ndarray]:
    """One episode's dataset rows: T + 1 observations and states, T actions and rewards (padded)."""
    n = len(observations)
    action_array = np.asarray(actions)
    if isinstance(action_space, gym.spaces.Discrete):
        action_array = np.append(action_array.astype(np.int64), 0)
    else:
        action_array = np.concatenate([action_array.astype(np.float32).reshape(n - 1, -1),
                                       np.zeros((1, int(np.prod(action_space.shape))), np.float32)])
    ends = np.zeros(n, dtype=bool)
    ends[-1] = terminated
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    return {
        "observations": np.asarray(observations, dtype=np.uint8),
        "states": np.asarray(states, dtype=np.float32),
        "actions": action_array,
        "rewards": np.append(np.asarray(rewards, dtype=np.float32), np.float32(0)),
        "episode_starts": starts,
        "terminated": ends,
    }


# Policies whose actions depend on their seed alone (never on the observation or the state): the
# batched collector plays them before drawing the frames.
BATCHED_POLICIES = ("random",)


def use_batched(env_id: str, env_kwargs: dict[str, Any], policy: str) -> bool:
    """Whether ``generate_dataset`` collects ``env_id`` with ``policy`` through the batched collector."""
    return policy in BATCHED_POLICIES and classic.supports(env_id, env_kwargs)


@dataclass
class _Played:
    """One episode after the dynamics, before its frames: float64 inner states (T + 1 rows) and the rest."""

    episode: int
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool


class _Ahead:
    """The next actions of one episode's blind policy, drawn ``block`` at a time when it is the
    random policy: ``k`` draws of ``Generator.integers(n)`` / ``.uniform(low, high)`` are one draw of
    ``size=k``, value for value (tests/test_vector_envs.py checks the dataset bytes against the
    single-env loop); the draws an episode does not use are never seen, its generator being its own."""

    block = 64

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.space = getattr(policy, "space", None)
        self.rng = getattr(policy, "rng", None)
        self.ahead = type(policy) is RandomPolicy and isinstance(self.rng, np.random.Generator) and isinstance(
            self.space, (gym.spaces.Discrete, gym.spaces.Box))
        self.buffer: list[Any] = []

    def __call__(self) -> Any:
        if not self.ahead:
            return self.policy(None, None)
        if not self.buffer:
            if isinstance(self.space, gym.spaces.Discrete):  # RandomPolicy: int(start + rng.integers(n))
                self.buffer = (self.space.start + self.rng.integers(self.space.n, size=self.block)).tolist()
            else:  # RandomPolicy: rng.uniform(low, high).astype(dtype)
                draws = self.rng.uniform(self.space.low, self.space.high, size=(self.block, *self.space.shape))
                self.buffer = list(draws.astype(self.space.dtype))
            self.buffer.reverse()
        return self.buffer.pop()


class BatchedCollector:
    """Plays seeded episodes many at a time and draws their frames in large batches; each episode's
    arrays are exactly ``run_episode``'s for the same ``(seed, episode)``.

    The policy (one of ``BATCHED_POLICIES``) acts without looking, so a block of episodes is first
    played through the vectorised dynamics (``slots`` episodes at a time, each new episode seeded and
    reset as ``run_episode`` resets it), keeping only the states; then the frames of the block are
    drawn ``frames_per_draw`` at a time, across episode boundaries, and the episodes are handed out in
    order. Memory holds one block's states and one draw's frames.
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], policy: str, seed: int, max_steps: int | None,
                 slots: int = 128, block: int = 512, frames_per_draw: int = 256) -> None:
        if policy not in BATCHED_POLICIES:
            raise ValueError(f"policy {policy!r} cannot be collected batched (only {', '.join(BATCHED_POLICIES)})")
        self.env = make_env(env_id, **env_kwargs)
        self.policy_name, self.seed, self.max_steps = policy, seed, max_steps
        self.slots, self.block, self.frames_per_draw = slots, block, frames_per_draw
        self.batch = classic.make_batch([self.env], slots)
        limit = classic.time_limit(self.env)
        self.limit = None if limit is None else limit._max_episode_steps
        self.action_space = self.env.action_space

    def close(self) -> None:
        self.env.close()

    def episodes(self, episodes: Iterable[int]) -> Iterator[dict[str, np.ndarray]]:
        """The arrays of ``episodes`` (dataset episode indices), in that order."""
        for block in self._blocks(episodes):
            yield from self.draw(self._play(block))

    def play(self, episodes: Iterable[int]) -> list[_Played]:
        """The dynamics of ``episodes``, in that order, without their frames (``draw`` makes them):
        what the episode lengths are known from before any frame is drawn."""
        return [played for block in self._blocks(episodes) for played in self._play(block)]

    def _blocks(self, episodes: Iterable[int]) -> Iterator[list[int]]:
        pending = iter(episodes)
        while block := [e for _, e in zip(range(self.block), pending)]:
            yield block

    def _cap(self) -> int | None:
        caps = [c for c in (self.limit, self.max_steps) if c is not None]
        return min(caps) if caps else None

    def _play(self, block: list[int]) -> list[_Played]:
        """Run the dynamics of the episodes of ``block``, ``slots`` at a time; per step, only the
        policies are called one by one (each episode draws from its own seeded generator)."""
        batch, cap = self.batch, self._cap()
        waiting = iter(block)
        slots = min(self.slots, len(block))
        discrete = isinstance(self.action_space, gym.spaces.Discrete)
        episode_of = np.full(slots, -1)  # the episode each slot plays (-1: none)
        first_step = np.zeros(slots, dtype=np.int64)  # the batch step after which it started
        steps = np.zeros(slots, dtype=np.int64)
        policies: list[Any] = [None] * slots
        initial: dict[int, np.ndarray] = {}
        ended: dict[int, tuple[int, int, int, bool]] = {}  # episode -> (slot, first step, last step, terminated)
        history: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per batch step: states, rewards, actions

        def start(slot: int) -> None:
            episode = next(waiting, None)
            episode_of[slot] = -1 if episode is None else episode
            if episode is None:
                return
            env_seed, policy_seed = episode_seeds(self.seed, episode)
            policies[slot] = _Ahead(make_policy(self.policy_name, self.env, policy_seed))
            batch.reset(slot, seed=env_seed)
            initial[episode] = batch.state[slot].copy()
            first_step[slot], steps[slot] = len(history), 0

        for slot in range(slots):
            start(slot)
        while (episode_of >= 0).any():
            active = np.flatnonzero(episode_of >= 0)
            chosen = [policies[slot]() for slot in active]
            actions = np.asarray(chosen, dtype=np.int64) if discrete else np.stack(chosen)
            rewards, terminated = batch.step(batch.check_actions(actions, len(active)), active)
            all_rewards = np.zeros(slots)
            all_rewards[active] = rewards
            all_actions = np.zeros((slots, *actions.shape[1:]), dtype=actions.dtype)
            all_actions[active] = actions
            history.append((batch.state.copy(), all_rewards, all_actions))
            steps[active] += 1
            over = terminated if cap is None else terminated | (steps[active] >= cap)
            for row in np.flatnonzero(over):
                slot = int(active[row])
                ended[int(episode_of[slot])] = (slot, int(first_step[slot]), len(history), bool(terminated[row]))
                start(slot)
        states, rewards, actions = (np.stack(column) for column in zip(*history))
        played = []
        for episode in block:
            slot, begin, end, terminated = ended[episode]
            played.append(_Played(episode, np.concatenate([initial[episode][None], states[begin:end, slot]]),
                                  actions[begin:end, slot], rewards[begin:end, slot], terminated))
        return played

    def draw(self, played: list[_Played]) -> Iterator[dict[str, np.ndarray]]:
        """Draw the frames of the played episodes, many per call, and hand the episodes out in order."""
        group: list[_Played] = []
        frames = 0
        for i, record in enumerate(played):
            group.append(record)
            frames += len(record.states)
            if frames >= self.frames_per_draw or i == len(played) - 1:
                observations = self.batch.render_states(np.concatenate([r.states for r in group]))
                offset = 0
                for r in group:
                    rows = len(r.states)
                    states = self.batch.env_class.true_states(r.states)
                    yield episode_arrays(observations[offset: offset + rows], states, r.actions, r.rewards,
                                         r.terminated, self.action_space)
                    offset += rows
                group, frames = [], 0


def _one_thread() -> None:
    """Keep a worker process to one thread (BLAS / OpenMP pools, torch) so workers do not fight over cores."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = "1"  # for libraries loaded from here on
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # for those already loaded (forked from the parent)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


# Each worker process builds its env once and reuses it for every episode it plays.
_worker_env: gym.Env | None = None
_worker_args: dict[str, Any] = {}


def _init_worker(env_id: str, env_kwargs: dict[str, Any], policy: str, seed: int, max_steps: int | None) -> None:
    global _worker_env, _worker_args
    # Ctrl-C reaches the whole process group: the parent alone handles it (and terminates the pool),
    # so workers neither print tracebacks nor leave the pool's result handler waiting for them
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _one_thread()
    _worker_env = make_env(env_id, **env_kwargs)
    _worker_args = {"policy_name": policy, "seed": seed, "max_steps": max_steps}


def _worker_episode(episode: int) -> dict[str, np.ndarray]:
    assert _worker_env is not None
    return run_episode(_worker_env, episode=episode, **_worker_args)


QUEUE_BYTES = 64 << 20  # per batched worker: what its finished episodes may hold while waiting for the parent


def _chunking(env: gym.Env, max_steps: int | None, workers: int, n_episodes: int) -> tuple[int, int]:
    """(episodes per chunk, queue length in episodes) of the batched workers: worker ``w`` plays
    chunks ``w, w + workers, ...``; the parent takes chunk by chunk, so a worker's queue holds two
    chunks while the parent takes the other workers' chunks."""
    limit = classic.time_limit(env)
    caps = [c for c in (None if limit is None else limit._max_episode_steps, max_steps) if c is not None]
    episode_bytes = (min(caps) + 1 if caps else 1000) * int(np.prod(env.observation_space.shape))
    queue_length = max(2, QUEUE_BYTES // episode_bytes)
    chunk = max(1, min(queue_length // 2, -(-n_episodes // workers)))
    return chunk, queue_length


def _chunks_of(rank: int, workers: int, chunk: int, n_episodes: int) -> list[int]:
    """The episodes batched worker ``rank`` plays: chunks ``rank, rank + workers, ...``."""
    return [e for start in range(rank * chunk, n_episodes, workers * chunk)
            for e in range(start, min(start + chunk, n_episodes))]


def _batched_worker(rank: int, workers: int, chunk: int, n_episodes: int, outbox: Any, inbox: Any, env_id: str,
                    env_kwargs: dict[str, Any], policy: str, seed: int, max_steps: int | None) -> None:
    """A batched worker: plays the dynamics of its episodes and puts their row counts on ``outbox``;
    gets from ``inbox`` the observations file and the byte offset of each episode's frames; then draws its episodes'
    frames, writes them in place (``os.pwrite``) and puts each episode's other arrays on ``outbox``, in
    order (then None). An exception is put there instead, for the parent to raise."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _one_thread()
    try:
        collector = BatchedCollector(env_id, env_kwargs, policy, seed, max_steps)
        played = collector.play(_chunks_of(rank, workers, chunk, n_episodes))
        outbox.put({record.episode: len(record.states) for record in played})
        path, offsets = inbox.get()
        fd = os.open(path, os.O_WRONLY)
        try:
            for record, arrays in zip(played, collector.draw(played)):
                frames = memoryview(np.ascontiguousarray(arrays.pop("observations"))).cast("B")
                position = offsets[record.episode]
                while frames:
                    written = os.pwrite(fd, frames, position)
                    frames, position = frames[written:], position + written
                outbox.put(arrays)
        finally:
            os.close(fd)
        collector.close()
        outbox.put(None)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        outbox.put(exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))


def _picklable(obj: Any) -> bool:
    import pickle

    try:
        pickle.dumps(obj)
        return True
    except Exception:  # noqa: BLE001
        return False


def _batched_parallel(writer: DatasetWriter, workers: int, n_episodes: int, probe: gym.Env, args: tuple,
                      bar: Any) -> None:
    """Write ``n_episodes`` episodes with ``workers`` batched worker processes, each on one thread.

    The frames, nearly all of a dataset's bytes, never pass through the parent: once the workers have
    played the dynamics (cheap) and reported each episode's length, the parent creates the
    observations file at its final size (``DatasetWriter.presize``) and the workers write their frames
    straight into it; the parent writes the small arrays and hashes the frames in order as the episodes
    are reported done. Measured on 2 cores (scripts/bench_generate.py), sending frames through a queue
    made the parent the bottleneck: 2 workers were slower than 1.
    """
    max_steps = args[-1]
    chunk, queue_length = _chunking(probe, max_steps, workers, n_episodes)
    workers = min(workers, -(-n_episodes // chunk))
    context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    outboxes = [context.Queue(maxsize=queue_length) for _ in range(workers)]
    inboxes = [context.Queue() for _ in range(workers)]
    processes = [context.Process(target=_batched_worker, daemon=True, name=f"srl-bench-generate-{rank}",
                                 args=(rank, workers, chunk, n_episodes, outboxes[rank], inboxes[rank], *args))
                 for rank in range(workers)]
    for process in processes:
        process.start()
    try:
        rows: dict[int, int] = {}
        for outbox, process in zip(outboxes, processes):
            rows.update(_receive(outbox, process))
        first_rows = np.concatenate([[0], np.cumsum([rows[e] for e in range(n_episodes)])]).tolist()
        frames = writer.presize("observations", np.uint8, probe.observation_space.shape, first_rows[-1])
        for rank, inbox in enumerate(inboxes):
            mine = _chunks_of(rank, workers, chunk, n_episodes)
            inbox.put((str(frames.path), {e: frames.offset(first_rows[e]) for e in mine}))
        for start in range(0, n_episodes, chunk):
            rank = (start // chunk) % workers
            for episode in range(start, min(start + chunk, n_episodes)):
                writer.add_episode(_receive(outboxes[rank], processes[rank]))
                frames.hash_through(first_rows[episode + 1])
                bar.update()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for q in [*outboxes, *inboxes]:
            q.close()
            q.cancel_join_thread()


def _receive(source: Any, process: Any) -> dict[str, np.ndarray]:
    """The next episode from a batched worker; its exception if it failed; an error if it died."""
    while True:
        try:
            item = source.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive():
                raise SrlBenchError(f"a generation worker stopped unexpectedly (exit code {process.exitcode}); "
                                    "run again, or with --workers 1") from None
            continue
        if isinstance(item, BaseException):
            raise item
        if item is None:
            raise SrlBenchError("a generation worker ended before its episodes were all written")
        return item


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
    batched: bool | None = None,
) -> Path:
    """Record ``n_episodes`` episodes of ``env_id`` into a dataset directory and return its path.

    ``batched``: None (default) collects cart-pole and pendulum with the random policy through the
    batched collector and everything else one episode at a time; False forces the one-at-a-time
    single-env loop; True asks for the batched collector (an error where it does not apply). Both
    write the same bytes.
    """
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
        "state_kinds": list(getattr(probe.unwrapped, "state_kinds", ["continuous"] * len(probe.unwrapped.state_names))),
        "action_space": describe_action_space(probe.action_space),
        "policy": policy,
        "seed": seed,
        "max_steps": max_steps,
    }
    can_batch = use_batched(env_id, env_kwargs, policy) and classic.batchable(probe)
    if batched and not can_batch:
        probe.close()
        raise SrlBenchError(f"the batched collector handles {', '.join(classic.BATCHED_ENV_IDS)} (NumPy renderer) "
                            f"with the {' or '.join(BATCHED_POLICIES)} policy, not {env_id} with {policy!r}")
    bar = tqdm(total=n_episodes, desc=f"generate {env_id}", unit="ep", disable=not progress)
    with writer:
        if can_batch and batched is not False:
            args = (env_id, env_kwargs, policy, seed, max_steps)
            if workers == 1:
                collector = BatchedCollector(*args)
                try:
                    for arrays in collector.episodes(range(n_episodes)):
                        writer.add_episode(arrays)
                        bar.update()
                finally:
                    collector.close()
            else:
                _batched_parallel(writer, workers, n_episodes, probe, args, bar)
        elif workers == 1:
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
