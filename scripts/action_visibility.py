"""How soon an action shows in the image: the frame one and two steps after it, for two different actions.

    python scripts/action_visibility.py [--envs srl/CartPole-v0 ...] [--samples 50]
                                        [--out results/findings/action_visibility.json]

An inverse model guesses a_t from the encodings of o_t and o_{t+1} (with frame stacks, of the last k
frames up to t and up to t+1); it can only learn if o_{t+1} depends on a_t. For each sample this
script resets the env twice with the same seed, plays the same random warm-up actions (0–20
steps), then plays two different actions (the two ends of a continuous action box; for a discrete
space, two distinct actions drawn at random) and one same action after them. It counts how often the
frames differ one step later (o_{t+1}) and two steps later (o_{t+2}), and their mean absolute
difference in grey levels per pixel and channel. Samples whose episode ends before o_{t+2} are drawn
again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import srl_bench.envs  # noqa: E402,F401 - registers the srl/ ids
from srl_bench.report import write_json_atomic  # noqa: E402

ENVS = ["srl/CartPole-v0", "srl/Pendulum-v0", "srl/MiniPacman-v0", "srl/KukaButton-v0"]


def _two_actions(space: gym.Space, rng: np.random.Generator):
    """Two actions as different as the space allows: the box's two ends, or two distinct discrete actions."""
    if isinstance(space, gym.spaces.Box):
        return space.low.copy(), space.high.copy()
    first, second = rng.choice(int(space.n), size=2, replace=False) + int(space.start)
    return first, second


def _play(env: gym.Env, seed: int, warm_up: list, action, follow_up) -> list[np.ndarray] | None:
    """The frames one and two steps after ``action``, played after ``warm_up`` from ``reset(seed)``; None if
    the episode ends first."""
    env.reset(seed=seed)
    for step, played in enumerate([*warm_up, action, follow_up]):
        observation, _, terminated, truncated, _ = env.step(played)
        if step == len(warm_up):
            after_one = observation.astype(np.float64)
        if terminated or truncated:
            return None
    return [after_one, observation.astype(np.float64)]


def action_visibility(env_id: str, samples: int, seed: int = 0) -> dict:
    """Per env: how often, and by how much, the frame 1 and 2 steps after an action depends on it."""
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)  # one env, reset with each sample's seed: the same start for both actions
    space = env.action_space
    space.seed(seed)
    differ = {1: [], 2: []}
    tries = 0
    while len(differ[1]) < samples:
        tries += 1
        if tries > 10 * samples:
            raise SystemExit(f"{env_id}: episodes keep ending within the warm-up; fewer than {samples} samples")
        episode_seed = int(rng.integers(2**31))
        warm_up = [space.sample() for _ in range(int(rng.integers(0, 21)))]
        action, other = _two_actions(space, rng)
        follow_up = space.sample()
        first = _play(env, episode_seed, warm_up, action, follow_up)
        second = _play(env, episode_seed, warm_up, other, follow_up)
        if first is None or second is None:
            continue
        for lag in (1, 2):
            differ[lag].append(float(np.abs(first[lag - 1] - second[lag - 1]).mean()))
    env.close()
    return {f"t+{lag}": {"share_differing": round(float(np.mean(np.array(values) > 0)), 3),
                         "mean_abs_difference": round(float(np.mean(values)), 4)}
            for lag, values in differ.items()} | {"samples": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", nargs="+", default=ENVS)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/findings/action_visibility.json")
    args = parser.parse_args()

    rows = {env_id: action_visibility(env_id, args.samples, args.seed) for env_id in args.envs}
    write_json_atomic(args.out, {
        "what": "frames one and two steps after two different actions, from the same state: the share of "
                "samples where they differ, and their mean absolute difference (grey levels per pixel and channel)",
        "command": "python " + " ".join([f"scripts/{Path(__file__).name}", *sys.argv[1:]]),
        "envs": rows})
    print("| env | o_{t+1} differs | mean abs. difference | o_{t+2} differs | mean abs. difference |\n|---|---|---|---|---|")
    for env_id, row in rows.items():
        one, two = row["t+1"], row["t+2"]
        print(f"| {env_id} | {one['share_differing']:.0%} | {one['mean_abs_difference']:.4f} "
              f"| {two['share_differing']:.0%} | {two['mean_abs_difference']:.4f} |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
