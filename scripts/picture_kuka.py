"""Draw ``results/envs/kuka_button.png``: Kuka button episodes played by the scripted policy.

Rows: the default env (fixed button) and ``random_target=True``; eight 64×64 observations each,
spread over the episode, titled with the step, the return so far and the gripper's height above the
button. On the right, the random-target episode's first frame rendered at 256×256.

    python scripts/picture_kuka.py [--out results/envs/kuka_button.png] [--seed 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.envs.kuka_button import KukaButtonEnv, ReachButtonPolicy  # noqa: E402

FRAMES = 8
LARGE_SIZE = 256


def scripted_episode(env: KukaButtonEnv, seed: int) -> list[tuple[np.ndarray, int, float, float]]:
    """Play one episode; return (observation, step, return so far, gripper dz) for every step."""
    policy = ReachButtonPolicy(env.action_space)
    observation, info = env.reset(seed=seed)
    total, step = 0.0, 0
    record = [(observation, step, total, float(info["state"][2]))]
    while True:
        observation, reward, terminated, truncated, info = env.step(policy(observation, info))
        total += reward
        step += 1
        record.append((observation, step, total, float(info["state"][2])))
        if terminated or truncated:
            return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/envs/kuka_button.png"))
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    variants = {"fixed button": {}, "random_target": {"random_target": True}}
    fig = plt.figure(figsize=(FRAMES * 1.6 + 4.2, len(variants) * 1.9))
    grid = fig.add_gridspec(len(variants), FRAMES + 3)
    for row, (label, kwargs) in enumerate(variants.items()):
        env = KukaButtonEnv(**kwargs)
        record = scripted_episode(env, args.seed)
        env.close()
        picks = np.unique(np.linspace(0, len(record) - 1, FRAMES).round().astype(int))
        for col, index in enumerate(picks):
            observation, step, total, dz = record[index]
            ax = fig.add_subplot(grid[row, col])
            ax.imshow(observation, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"t={step} R={total:+.0f} dz={dz:.2f}", fontsize=7)
            if col == 0:
                ax.set_ylabel(label, fontsize=9)

    large = KukaButtonEnv(image_size=LARGE_SIZE, **variants["random_target"])
    observation, _ = large.reset(seed=args.seed)
    large.close()
    ax = fig.add_subplot(grid[:, FRAMES:])
    ax.imshow(observation)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"random_target, t=0, {LARGE_SIZE}×{LARGE_SIZE}", fontsize=8)

    fig.suptitle("srl/KukaButton-v0: scripted policy (64×64 observations)", fontsize=10)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
