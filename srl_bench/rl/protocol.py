"""The evaluation protocol (docs/metrics.md, "Downstream RL"): when an agent is evaluated, on what, and its score.

``n_eval`` episodes (greedy actions unless the RL config says ``deterministic_eval: false``) on a
separate evaluation VecEnv (``min(n_eval, 10)`` envs seeded from ``seed + 10000``), before
training, every ``eval_freq`` env steps and once more at the end;
each evaluation is one row of the learning curve, and a seed's score is the mean return of its last
evaluation. The random policy is evaluated at the same points, on the same kind of env.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, sync_envs_normalization

from srl_bench.rl.config import RunnerConfig

EVAL_SEED_OFFSET = 10_000  # evaluation envs are seeded apart from the training envs of the same seed
MAX_EVAL_ENVS = 10
SCORE = "mean return of the last evaluation"
EPISODES = "n_eval split evenly over the evaluation envs"  # for the agent (evaluate_policy) and the random policy


@dataclass(frozen=True)
class EvaluationProtocol:
    """The budget and the evaluation schedule of every seed of a run."""

    budget: int  # env steps of training per seed
    eval_freq: int  # env steps between evaluations
    n_eval: int  # episodes per evaluation
    deterministic: bool = True  # greedy actions (False: sampled from the policy)

    @classmethod
    def from_config(cls, runner: RunnerConfig) -> EvaluationProtocol:
        """The config's budget and schedule; ``eval_freq`` defaults to a tenth of the budget."""
        every = runner.eval_freq if runner.eval_freq is not None else max(runner.n_timesteps // 10, 1)
        return cls(budget=runner.n_timesteps, eval_freq=every, n_eval=runner.n_eval,
                   deterministic=runner.deterministic_eval)

    @property
    def n_eval_envs(self) -> int:
        """Envs of the evaluation VecEnv: one per episode, at most ``MAX_EVAL_ENVS``."""
        return min(self.n_eval, MAX_EVAL_ENVS)

    @property
    def schedule(self) -> list[int]:
        """The env steps at which evaluations happen: 0, every ``eval_freq``, and the budget."""
        return sorted({0, *range(self.eval_freq, self.budget, self.eval_freq), self.budget})

    @staticmethod
    def eval_seed(seed: int) -> int:
        """The seed of the evaluation envs of the training seed ``seed``."""
        return seed + EVAL_SEED_OFFSET

    def describe(self) -> dict[str, Any]:
        """The protocol as written in ``rl.json``'s ``evaluation``."""
        return {"eval_freq": self.eval_freq, "n_eval": self.n_eval, "deterministic": self.deterministic, "episodes": EPISODES,
                "seed_offset": EVAL_SEED_OFFSET, "score": SCORE}


def seed_scores(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> dict[str, float]:
    """Each seed's score: the mean return of its last evaluation (``{str(seed): score}``)."""
    return {str(seed): [row for row in rows if row["seed"] == seed][-1]["mean_return"] for seed in seeds}


class Curve:
    """The learning curve of a run (the rows of ``curve.csv``), and the progress bar that follows it."""

    def __init__(self, progress_bar: Any = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.progress_bar = progress_bar
        self._seed_start = time.perf_counter()

    def start_seed(self) -> None:
        """Restart the clock of ``wall_seconds``: each seed's rows count from its own start."""
        self._seed_start = time.perf_counter()

    def record(self, seed: int, timesteps: int, returns: Sequence[float], lengths: Sequence[int]) -> dict[str, Any]:
        """Add the row of one evaluation and return it."""
        returns = np.asarray(returns, dtype=np.float64)
        row = {"seed": seed, "timesteps": int(timesteps), "mean_return": float(returns.mean()),
               "std_return": float(returns.std()), "min_return": float(returns.min()),
               "max_return": float(returns.max()), "mean_length": float(np.mean(lengths)),
               "n_episodes": int(len(returns)), "wall_seconds": round(time.perf_counter() - self._seed_start, 2)}
        self.rows.append(row)
        return row

    def advance(self, steps: int, **postfix: Any) -> None:
        """Move the progress bar on by ``steps`` env steps (and show ``postfix``, if any)."""
        if self.progress_bar is None:
            return
        if steps:
            self.progress_bar.update(steps)
        if postfix:
            self.progress_bar.set_postfix(**postfix)


class EvaluationCallback(BaseCallback):
    """Evaluates the agent on ``eval_env`` before training, every ``eval_freq`` env steps, and at the end.

    SB3's ``EvalCallback`` counts calls (steps of the VecEnv, not env steps) and evaluates neither at
    step 0 nor at the end, hence this one; it uses SB3's ``evaluate_policy`` all the same.
    """

    def __init__(self, eval_env: VecEnv, seed: int, protocol: EvaluationProtocol, curve: Curve) -> None:
        super().__init__()
        self.eval_env = eval_env
        self.run_seed = seed
        self.protocol = protocol
        self.curve = curve
        self.next_eval = protocol.eval_freq
        self.last_eval = -1
        self.last_count = 0

    def _evaluate(self) -> None:
        sync_envs_normalization(self.training_env, self.eval_env)
        returns, lengths = evaluate_policy(self.model, self.eval_env, n_eval_episodes=self.protocol.n_eval,
                                           deterministic=self.protocol.deterministic, return_episode_rewards=True,
                                           warn=False)
        row = self.curve.record(self.run_seed, self.num_timesteps, returns, lengths)
        self.last_eval = self.num_timesteps
        self.logger.record("eval/mean_return", row["mean_return"])
        self.logger.record("eval/mean_length", row["mean_length"])
        self.logger.dump(self.num_timesteps)
        self.curve.advance(0, seed=self.run_seed, eval_return=f"{row['mean_return']:.1f}")

    def _on_training_start(self) -> None:
        self._evaluate()

    def _on_step(self) -> bool:
        self.curve.advance(self.num_timesteps - self.last_count)
        self.last_count = self.num_timesteps
        if self.num_timesteps >= self.next_eval:
            self._evaluate()
            while self.next_eval <= self.num_timesteps:
                self.next_eval += self.protocol.eval_freq
        return True

    def _on_training_end(self) -> None:
        if self.last_eval != self.num_timesteps:
            self._evaluate()


def random_policy_curve(eval_env: VecEnv, seed: int, protocol: EvaluationProtocol, curve: Curve) -> None:
    """The uniform-random policy, evaluated at the points of the schedule (it does not learn)."""
    eval_env.action_space.seed(seed)
    for timesteps in protocol.schedule:
        returns, lengths = play_random(eval_env, protocol.n_eval)
        curve.record(seed, timesteps, returns, lengths)


def play_random(venv: VecEnv, n_episodes: int) -> tuple[list[float], list[int]]:
    """Returns and lengths of ``n_episodes`` episodes of uniform-random actions on ``venv``, counted per
    env as SB3's ``evaluate_policy`` counts them: env i plays ``(n_episodes + i) // num_envs`` episodes.
    Taking the first episodes to end instead would over-sample short episodes (on most tasks, the
    worst ones) and flatter every normalised score."""
    venv.reset()
    targets = np.array([(n_episodes + i) // venv.num_envs for i in range(venv.num_envs)])
    counts = np.zeros(venv.num_envs, dtype=int)
    returns: list[float] = []
    lengths: list[int] = []
    running = np.zeros(venv.num_envs)
    steps = np.zeros(venv.num_envs, dtype=int)
    while (counts < targets).any():
        actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
        _, rewards, dones, _ = venv.step(actions)
        running += rewards
        steps += 1
        for i in np.flatnonzero(dones):
            if counts[i] < targets[i]:
                returns.append(float(running[i]))
                lengths.append(int(steps[i]))
                counts[i] += 1
            running[i], steps[i] = 0.0, 0
    return returns, lengths
