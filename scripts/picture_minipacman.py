"""Draw ``results/envs/minipacman.png``: eight 64×64 observations per mode from a seeded episode.

The player heads for the nearest pill, then (while powered) the nearest ghost, then food, with a
10% chance of a random move, so the frames show pills being eaten and ghosts turning yellow.

    python scripts/picture_minipacman.py [--out results/envs/minipacman.png] [--seed 3]
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.envs.minipacman import COLS, MODES, NEXT_CELL, MiniPacmanEnv  # noqa: E402

FRAMES, EVERY = 8, 6


def first_step_towards(start: tuple[int, int], targets: set[tuple[int, int]]) -> int:
    """The action that starts a shortest path from ``start`` to the nearest target (0 if none)."""
    if not targets:
        return 0
    first: dict[tuple[int, int], int] = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell in targets:
            return first[cell]
        for action in (1, 2, 3, 4):
            nxt = NEXT_CELL[cell][action]
            if nxt not in first:
                first[nxt] = first[cell] or action
                queue.append(nxt)
    return 0


def greedy_action(env: MiniPacmanEnv, rng: np.random.Generator) -> int:
    if rng.random() < 0.1:
        return int(rng.integers(5))
    ghosts = {(g[0], g[1]) for g in env.ghosts if g is not None}
    pills = {p for p in env.pills if p is not None}
    food = {divmod(int(i), COLS) for i in np.flatnonzero(env.food)}
    targets = ghosts if env.power_time > 0 and ghosts else pills or food
    return first_step_towards(env.pacman, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/envs/minipacman.png"))
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    fig, axes = plt.subplots(len(MODES), FRAMES, figsize=(FRAMES * 1.6, len(MODES) * 1.75))
    for row, mode in enumerate(MODES):
        env = MiniPacmanEnv(mode=mode)
        rng = np.random.default_rng(args.seed)
        obs, info = env.reset(seed=args.seed)
        total, step = 0.0, 0
        for col in range(FRAMES):
            ax = axes[row, col]
            ax.imshow(obs, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"t={step} R={total:+.1f}", fontsize=7)
            if col == 0:
                ax.set_ylabel(mode, fontsize=10)
            for _ in range(EVERY):
                obs, reward, terminated, truncated, info = env.step(greedy_action(env, rng))
                total += reward
                step += 1
                if terminated or truncated:
                    break
            if terminated or truncated:
                ax.set_xlabel("(episode ends)", fontsize=6)
                obs, info = env.reset(seed=args.seed + 1)
                step, total = 0, 0.0
    fig.suptitle("srl/MiniPacman-v0, 64×64 observations (green Pacman, red ghosts turn yellow "
                 "when edible, cyan pills, blue food)", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
