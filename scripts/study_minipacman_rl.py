"""Can PPO learn MiniPacman from its true state? A study of what the ground-truth agent is given.

    python scripts/study_minipacman_rl.py [--variants state food stack] [--seeds 0 1] [--steps 100000]
        [--out results/bench/minipacman_rl_study.json]

The standard leaderboard's MiniPacman references are not separated at PPO 100k (docs/findings.md,
section 5). This trains SB3's PPO with ``configs/rl/ppo.yaml``'s MiniPacman values on three views of
the game, per seed:

- ``state``: ``info["state"]`` (Pacman, ghosts, pills, counts, power, level), as ``ground_truth`` sees it;
- ``food``: the same plus the 15×19 food map (regular mode's reward is the food, which the state does
  not locate);
- ``stack``: the last 2 states (the ghosts' headings are not in one state).

Observations are standardised with SB3's ``VecNormalize`` running statistics (srl-bench's runner
uses statistics of 2,000 random steps instead, ``normalize_state: fixed``). Each trained agent is
scored on 50 evaluation episodes (10 envs seeded ``seed + 10000``, 5 episodes each), both
deterministically (the leaderboard's protocol) and sampling its actions; the random policy on the
same envs gives the floor. One torch thread; the seconds are not speed figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.config import read_yaml_mapping  # noqa: E402
from srl_bench.envs.minipacman import MiniPacmanEnv  # noqa: E402
from srl_bench.rl.config import RUNNER_KEYS  # noqa: E402
from srl_bench.rl.protocol import EVAL_SEED_OFFSET, MAX_EVAL_ENVS  # noqa: E402

ENV_ID = "srl/MiniPacman-v0"
EVAL_EPISODES, EVAL_ENVS = 50, MAX_EVAL_ENVS  # the leaderboard's evaluation envs, 5 episodes each


class TrueState(gym.Wrapper):
    """The observation is the true state, with the food map appended when ``food``."""

    def __init__(self, env: MiniPacmanEnv, food: bool) -> None:
        super().__init__(env)
        self.food = food
        size = len(env.state_names) + (env.occupancy()["food"].size if food else 0)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)

    def _view(self, info: dict) -> np.ndarray:
        state = np.asarray(info["state"], np.float32)
        if not self.food:
            return state
        return np.concatenate([state, self.env.unwrapped.occupancy()["food"].reshape(-1).astype(np.float32)])

    def reset(self, **kwargs):
        _, info = self.env.reset(**kwargs)
        return self._view(info), info

    def step(self, action):
        _, reward, terminated, truncated, info = self.env.step(action)
        return self._view(info), reward, terminated, truncated, info


def venv(variant: str, n_envs: int, seed: int):
    """``n_envs`` MiniPacman envs seeded ``seed, seed+1, …`` showing ``variant``'s observation."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecFrameStack

    envs = make_vec_env(lambda: TrueState(MiniPacmanEnv(), food=variant == "food"), n_envs=n_envs, seed=seed)
    return VecFrameStack(envs, 2) if variant == "stack" else envs


def random_policy(seed: int) -> list[float]:
    """Returns of the uniform-random policy on the evaluation envs, 5 episodes per env."""
    returns = []
    for i in range(EVAL_ENVS):
        env = MiniPacmanEnv()
        env.action_space.seed(seed + i)
        env.reset(seed=seed + EVAL_SEED_OFFSET + i)
        for _ in range(EVAL_EPISODES // EVAL_ENVS):
            total, done = 0.0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total, done = total + reward, terminated or truncated
            returns.append(total)
            env.reset()
    return returns


def train_and_score(variant: str, seed: int, steps: int, hyperparams: dict) -> dict:
    """Train PPO on ``variant`` for ``steps`` env steps; score it on the evaluation episodes."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    train = VecNormalize(venv(variant, int(hyperparams["n_envs"]), seed), norm_reward=False)
    sb3 = {k: v for k, v in hyperparams.items() if k not in RUNNER_KEYS}
    model = PPO("MlpPolicy", train, seed=seed, device="cpu", **sb3)
    start = time.perf_counter()
    model.learn(steps)
    evaluation = VecNormalize(venv(variant, EVAL_ENVS, seed + EVAL_SEED_OFFSET), norm_reward=False, training=False)
    evaluation.obs_rms = train.obs_rms
    scores = {}
    for name, deterministic in (("deterministic", True), ("sampled", False)):
        returns, lengths = evaluate_policy(model, evaluation, n_eval_episodes=EVAL_EPISODES,
                                           deterministic=deterministic, return_episode_rewards=True)
        scores[name] = {"mean_return": float(np.mean(returns)), "mean_length": float(np.mean(lengths))}
    return {"variant": variant, "seed": seed, "steps": steps, **scores,
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["state", "food", "stack"], choices=["state", "food", "stack"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--out", default="results/bench/minipacman_rl_study.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    hyperparams = read_yaml_mapping(Path(__file__).resolve().parents[1] / "configs" / "rl" / "ppo.yaml")[ENV_ID]
    runs = [{"variant": "random_policy", "seed": seed, "mean_return": float(np.mean(random_policy(seed)))}
            for seed in args.seeds]
    print(json.dumps(runs[-1]))
    for variant in args.variants:
        for seed in args.seeds:
            runs.append(train_and_score(variant, seed, args.steps, hyperparams))
            print(json.dumps(runs[-1]), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python scripts/study_minipacman_rl.py " + " ".join(sys.argv[1:])
    out.write_text(json.dumps({"command": command.strip(), "hyperparams": hyperparams, "runs": runs}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
