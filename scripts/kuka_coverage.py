"""Kuka button: how much of the workspace the true states of a collection policy's datasets cover.

    python scripts/kuka_coverage.py [--episodes 40] [--max-steps 100] [--image-size 32]
                                    [--policies random kuka_reach kuka_explore] [--voxel 0.04]
                                    [--out results/envs/kuka_coverage.json]

Episodes are played exactly as ``srl-bench generate`` plays them (``srl_bench.collect.generate.
run_episode``: the same per-episode seeds from ``--seed``, the same policies), on the default button.

The workspace is where the tool point may be without ending the episode: within ``SAFETY_RADIUS``
(0.4 m) of the button's top, above the table (dz ≥ −0.04 m, the table top relative to the button's
top), and within the arm's reach with the gripper pointing down. Reach is measured, not assumed:
the space is cut into cubes of ``--voxel`` metres, and a cube is reachable when inverse kinematics
(the env's own, joint limits included) puts the tool point within 1.5 cm of its centre.

Per state dimension (``gripper_dx``, ``gripper_dy``, ``gripper_dz``) it reports the quantiles of the
collected states, the workspace's extent along that axis, and the fraction of that extent between
the 1% and 99% quantiles; overall, the fraction of reachable cubes that hold at least one collected
frame (``voxels_visited``) and at least 5 (``voxels_visited_5``), the episode lengths and how the
episodes ended. Writes the JSON to ``--out`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gymnasium as gym  # noqa: E402

import srl_bench  # noqa: E402,F401  (registers the srl/ ids)
from srl_bench.collect.generate import run_episode  # noqa: E402
from srl_bench.envs import kuka_button  # noqa: E402

ENV_ID = "srl/KukaButton-v0"
AXES = ("gripper_dx", "gripper_dy", "gripper_dz")
QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
REACH_TOLERANCE = 0.015  # metres between the IK's tool point and the cube's centre


def workspace_cubes(voxel: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres (relative to the button's top) of the cubes inside the safety ball and above the
    table, and whether the arm reaches each one."""
    radius, table = kuka_button.SAFETY_RADIUS, -kuka_button.BUTTON_TOP_Z
    axis = np.arange(-radius + voxel / 2, radius, voxel)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    inside = (np.linalg.norm(grid, axis=1) <= radius) & (grid[:, 2] >= table)
    centres = grid[inside]
    env = kuka_button.KukaButtonEnv(image_size=16)
    try:
        env.reset(seed=0)
        top = env.button_top()
        reach = np.zeros(len(centres), dtype=bool)
        for i, centre in enumerate(centres):
            for joint, angle in env._home_joints.items():
                env.client.resetJointState(env.body_ids["robot"], joint, angle)
            for _ in range(5):  # as reset() does: converge from the home posture
                for joint, angle in env._inverse_kinematics(top + centre).items():
                    env.client.resetJointState(env.body_ids["robot"], joint, angle)
            reach[i] = np.linalg.norm(env.tool_position() - (top + centre)) <= REACH_TOLERANCE
    finally:
        env.close()
    return centres, reach


def collect(policy: str, episodes: int, max_steps: int, image_size: int, seed: int) -> dict[str, Any]:
    """The states, episode lengths and endings of ``episodes`` episodes of ``policy``."""
    env = gym.make(ENV_ID, image_size=image_size)
    states, lengths, endings = [], [], {"pressed": 0, "minus_one": 0, "truncated": 0}
    try:
        for episode in range(episodes):
            arrays = run_episode(env, policy, seed, episode, max_steps)
            states.append(arrays["states"])
            rewards = arrays["rewards"][:-1]
            lengths.append(len(rewards))
            endings["pressed"] += bool((rewards > 0).any())
            endings["minus_one"] += bool(len(rewards) and rewards[-1] < 0)
            endings["truncated"] += not bool(arrays["terminated"][-1])
    finally:
        env.close()
    return {"states": np.concatenate(states), "lengths": np.array(lengths), "endings": endings}


def coverage(states: np.ndarray, centres: np.ndarray, reach: np.ndarray, voxel: float) -> dict[str, Any]:
    """Per-axis quantiles against the reachable workspace's extent, and the cubes visited."""
    relative = states[:, :3].astype(np.float64)
    reachable = centres[reach]
    per_axis = {}
    for d, name in enumerate(AXES):
        q = np.quantile(relative[:, d], QUANTILES)
        low, high = reachable[:, d].min() - voxel / 2, reachable[:, d].max() + voxel / 2
        per_axis[name] = {
            "quantiles": {f"q{round(100 * p):02d}": float(v) for p, v in zip(QUANTILES, q)},
            "std": float(relative[:, d].std()),
            "workspace": [float(low), float(high)],
            "fraction_of_extent_q01_q99": float((q[7] - q[1]) / (high - low)),
        }
    # the cube each frame falls in (cubes are aligned with the workspace grid)
    radius = kuka_button.SAFETY_RADIUS
    index = np.floor((relative + radius) / voxel).astype(int)
    cell_index = np.floor((reachable + radius) / voxel).astype(int)
    keys = {tuple(k): i for i, k in enumerate(cell_index)}
    counts = np.zeros(len(reachable), dtype=int)
    for k in map(tuple, index):
        if k in keys:
            counts[keys[k]] += 1
    return {"per_axis": per_axis, "voxels_visited": float((counts >= 1).mean()),
            "voxels_visited_5": float((counts >= 5).mean()), "frames": int(len(relative))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=32, help="observation size (coverage does not depend on it)")
    parser.add_argument("--policies", nargs="+", default=["random", "kuka_reach", "kuka_explore"])
    parser.add_argument("--voxel", type=float, default=0.04, help="cube side in metres")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/envs/kuka_coverage.json")
    args = parser.parse_args(argv)

    centres, reach = workspace_cubes(args.voxel)
    result: dict[str, Any] = {
        "env": ENV_ID, "button": list(kuka_button.DEFAULT_BUTTON_XY), "episodes": args.episodes,
        "max_steps": args.max_steps, "seed": args.seed, "voxel": args.voxel,
        "workspace": {"cubes_in_safe_region": int(len(centres)), "cubes_reachable": int(reach.sum()),
                      "reach_tolerance": REACH_TOLERANCE},
        "policies": {},
    }
    print(f"workspace: {reach.sum()} of {len(centres)} cubes of {args.voxel * 100:.0f} cm in the safe region are "
          f"reachable with the gripper down")
    for policy in args.policies:
        run = collect(policy, args.episodes, args.max_steps, args.image_size, args.seed)
        report = coverage(run["states"], centres, reach, args.voxel)
        lengths = run["lengths"]
        report.update({"mean_episode_length": float(lengths.mean()),
                       "episodes_with_press": run["endings"]["pressed"] / args.episodes,
                       "episodes_ending_minus_one": run["endings"]["minus_one"] / args.episodes,
                       "episodes_truncated": run["endings"]["truncated"] / args.episodes})
        result["policies"][policy] = report
        print(f"\n{policy}: {report['frames']} frames, mean episode {report['mean_episode_length']:.1f} steps, "
              f"press in {report['episodes_with_press']:.0%}, -1 in {report['episodes_ending_minus_one']:.0%}, "
              f"truncated {report['episodes_truncated']:.0%}; reachable cubes visited "
              f"{report['voxels_visited']:.0%} (>= 5 frames: {report['voxels_visited_5']:.0%})")
        print(f"  {'axis':<11} {'q01':>7} {'q25':>7} {'q50':>7} {'q75':>7} {'q99':>7}   workspace        q01..q99")
        for name, axis in report["per_axis"].items():
            q = axis["quantiles"]
            low, high = axis["workspace"]
            print(f"  {name:<11} {q['q01']:7.3f} {q['q25']:7.3f} {q['q50']:7.3f} {q['q75']:7.3f} {q['q99']:7.3f}"
                  f"   [{low:6.3f}, {high:6.3f}]  {axis['fraction_of_extent_q01_q99']:5.0%}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(out)
    print(f"\nwrote {out}")
    return result


if __name__ == "__main__":
    main()
