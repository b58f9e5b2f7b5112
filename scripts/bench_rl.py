"""Downstream-RL speed: PPO on pixels through a frozen encoder, against PPO on the true state.

    python scripts/bench_rl.py [--env srl/CartPole-v0] [--steps 16384] [--extractor-steps 2048] [--repeats 3]
                               [--run RUN_DIR] [--threads 1 2] [--no-extractor] [--device cpu]
                               [--out results/bench/rl.json]

Same run, same PPO hyper-parameters (configs/rl/ppo.yaml for the env), same seed; environment steps per
second of ``model.learn`` (no evaluation), for:

- ``ground_truth``: the agent sees ``info["state"]`` (the env still draws its image every step);
- ``wrapper``: the frozen encoder in a VecEnv wrapper (``srl_bench.rl.FrozenEncoderVecEnv``, what
  ``srl-bench rl`` uses), batched over the vectorised envs;
- ``extractor``: the same frozen encoder as an SB3 features extractor inside the policy (measured
  to justify the choice; not used by the library). It is an order of magnitude slower, so it runs
  for fewer steps (``--extractor-steps``; whole PPO rollouts all the same).

The encoder is a run's (``--run``) or, by default, the zoo's CNN at its seeded initialisation (its
weights do not change its cost). Variants alternate within each repeat and the median is kept, so
load from other processes on a shared machine hits all of them alike; the rates per CPU-second of
this process are recorded too. Each torch thread count asked for is measured (default 1 and 2: the
agents of the suite run on 1, torch's own default on this 2-core machine is 2). ``--device cuda`` puts
the encoder and the agents on the GPU (the ground-truth agent too, as a benchmark's RL cells do). The
goal: the wrapper at least 0.8 of the ground-truth speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.device import resolve_device  # noqa: E402
from srl_bench.errors import SrlBenchError  # noqa: E402
from srl_bench.rl.config import load_rl_config  # noqa: E402
from srl_bench.rl.envs import EnvFactory  # noqa: E402
from srl_bench.rl.representations import Representation  # noqa: E402
from srl_bench.report import write_json_atomic  # noqa: E402

GOAL = 0.8  # the performance issue: PPO through a frozen CNN at >= 0.8x the true-state steps/s


def make_encoder(run: str | None, env_id: str, device: str):
    """The encoder to time, on ``device``: a run's, or the zoo's CNN (64×64) at its seeded random
    initialisation."""
    if run:
        from srl_bench.runs import load_run

        return load_run(run, device)
    import gymnasium as gym

    import srl_bench  # noqa: F401  (registers the envs)
    from srl_bench.nets import ConvEncoder

    torch.manual_seed(0)
    env = gym.make(env_id, image_size=64)
    state_dim = len(env.unwrapped.state_names)
    env.close()
    return ConvEncoder((64, 64, 3), state_dim).to(device)


def extractor_class():
    """A features extractor holding the frozen encoder (SB3 hands it float N×C×H×W in [0, 1])."""
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class FrozenEncoderExtractor(BaseFeaturesExtractor):
        def __init__(self, observation_space, encoder) -> None:
            super().__init__(observation_space, encoder.state_dim)
            self.encoder = encoder.requires_grad_(False).eval()

        def forward(self, observations: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return self.encoder.embed(observations)

        def train(self, mode: bool = True):
            super().train(mode)
            self.encoder.eval()
            return self

    return FrozenEncoderExtractor


def time_variant(variant: str, env_id: str, encoder, steps: int, seed: int, device: str) -> dict[str, float]:
    """Env steps per second (wall and CPU) of PPO ``learn`` for one variant."""
    from stable_baselines3 import PPO

    config = load_rl_config("ppo", env_id)
    kind = {"ground_truth": "ground_truth", "wrapper": "learned", "extractor": "raw_pixels"}[variant]
    factory = EnvFactory(env_id, {"image_size": 64}, Representation(kind=kind, name=variant, encoder=encoder))
    venv = factory.build(config.runner.n_envs, seed, training=True)
    kwargs = dict(config.sb3_kwargs)
    policy = "MlpPolicy"
    if variant == "extractor":
        policy = "CnnPolicy"
        kwargs["policy_kwargs"] = {**kwargs.get("policy_kwargs", {}), "features_extractor_class": extractor_class(),
                                   "features_extractor_kwargs": {"encoder": encoder}}
    model = PPO(policy, venv, seed=seed, device=device, verbose=0, **kwargs)
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=steps)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = model.num_timesteps
    venv.close()
    return {"steps": done, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "steps_per_s": round(done / wall, 1), "steps_per_cpu_s": round(done / cpu, 1)}


def measure(args: argparse.Namespace, encoder, threads: int) -> dict:
    """All variants, ``args.repeats`` times alternating, on ``threads`` torch threads; medians and ratios."""
    torch.set_num_threads(threads)
    variants = ["ground_truth", "wrapper"] + ([] if args.no_extractor else ["extractor"])
    timings: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    for repeat in range(args.repeats):
        for variant in variants:
            steps = args.extractor_steps if variant == "extractor" else args.steps
            timings[variant].append(time_variant(variant, args.env, encoder, steps, seed=repeat, device=args.device))
            print(f"threads {threads} repeat {repeat} {variant:<12} {timings[variant][-1]['steps_per_s']:8.1f} "
                  f"steps/s ({timings[variant][-1]['steps_per_cpu_s']:.1f} per CPU-s)", flush=True)
    median = {v: statistics.median(t["steps_per_s"] for t in timings[v]) for v in variants}
    median_cpu = {v: statistics.median(t["steps_per_cpu_s"] for t in timings[v]) for v in variants}
    ratio = median["wrapper"] / median["ground_truth"]
    result = {
        "steps_per_s": median,
        "steps_per_cpu_s": median_cpu,
        "wrapper_vs_ground_truth": round(ratio, 3),
        "wrapper_vs_ground_truth_cpu": round(median_cpu["wrapper"] / median_cpu["ground_truth"], 3),
        "goal_met": ratio >= GOAL,
        "timings": timings,
        "load_average_1min_after": os.getloadavg()[0],
    }
    if "extractor" in median:
        result["wrapper_vs_extractor"] = round(median["wrapper"] / median["extractor"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="srl/CartPole-v0")
    parser.add_argument("--steps", type=int, default=16384, help="env steps per timing")
    parser.add_argument("--extractor-steps", type=int, default=2048, help="env steps per extractor timing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", default=None, help="run directory of the encoder (default: an untrained CNN)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch CPU thread counts to measure")
    parser.add_argument("--no-extractor", action="store_true", help="skip the features-extractor variant")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto: the encoder's and the agents'")
    parser.add_argument("--out", default="results/bench/rl.json")
    args = parser.parse_args()
    try:
        args.device = str(resolve_device(args.device))
    except SrlBenchError as exc:
        parser.error(str(exc))

    default_threads = torch.get_num_threads()
    encoder = make_encoder(args.run, args.env, args.device)
    by_threads = {str(threads): measure(args, encoder, threads) for threads in args.threads}
    result = {
        "what": "env steps/s of PPO learn(): pixel env + frozen encoder vs the true state, same hyper-parameters",
        "command": "python " + " ".join([f"scripts/{Path(__file__).name}", *sys.argv[1:]]),
        "env_id": args.env,
        "device": args.device,
        "image_size": 64,
        "encoder": {"run": args.run, "class": type(encoder).__name__, "state_dim": int(encoder.state_dim),
                    "parameters": sum(p.numel() for p in encoder.parameters())},
        "ppo_hyperparams": load_rl_config("ppo", args.env).raw,
        "steps_per_timing": args.steps,
        "extractor_steps_per_timing": None if args.no_extractor else args.extractor_steps,
        "repeats": args.repeats,
        "goal": f"wrapper >= {GOAL} x ground_truth",
        "by_torch_threads": by_threads,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "torch_default_threads": default_threads,
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
    }
    write_json_atomic(args.out, result)
    for threads, measured in by_threads.items():
        summary = ", ".join(f"{v} {rate:.0f}" for v, rate in measured["steps_per_s"].items())
        print(f"{threads} thread(s): median env steps/s {summary}; wrapper / ground truth = "
              f"{measured['wrapper_vs_ground_truth']:.2f} (goal {GOAL}: {'met' if measured['goal_met'] else 'not met'})")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
