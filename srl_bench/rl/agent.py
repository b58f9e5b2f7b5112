"""One seed of a run: build the SB3 agent on its training env, train it with its evaluations, save it."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.vec_env import VecEnv

from srl_bench.errors import SrlBenchError
from srl_bench.rl.config import RunnerConfig, algo_class
from srl_bench.rl.protocol import Curve, EvaluationCallback, random_policy_curve
from srl_bench.rl.representations import Representation
from srl_bench.rl.settings import RLRun


@dataclass(frozen=True)
class SeedResult:
    """What one seed's training leaves besides its curve rows."""

    timesteps: int  # env steps the agent was trained for (0 for the random policy)
    observation_shape: list[int] | None  # the shape of what the agent sees (None for the random policy)


def policy_name(runner: RunnerConfig, representation: Representation) -> str | None:
    """The SB3 policy: the config's, else CnnPolicy for raw pixels and MlpPolicy otherwise (None: no agent)."""
    if representation.kind == "random_policy":
        return None
    return runner.policy or ("CnnPolicy" if representation.kind == "raw_pixels" else "MlpPolicy")


def action_noise(runner: RunnerConfig, space: gym.Space) -> ActionNoise | None:
    """The exploration noise of an off-policy continuous agent (``noise_type``, ``noise_std``), if any."""
    if runner.noise_type is None:
        return None
    if not isinstance(space, gym.spaces.Box):
        raise SrlBenchError("noise_type applies to continuous actions only; remove it from the hyper-parameters")
    dim = int(np.prod(space.shape))
    sigma = runner.noise_std * np.ones(dim)
    noise = NormalActionNoise if runner.noise_type == "normal" else OrnsteinUhlenbeckActionNoise
    return noise(np.zeros(dim), sigma)


def build_agent(run: RLRun, train_env: VecEnv, seed: int) -> BaseAlgorithm:
    """The SB3 agent of ``run`` on ``train_env``; a constructor's refusal becomes one SrlBenchError."""
    kwargs = dict(run.config.sb3_kwargs)
    noise = action_noise(run.config.runner, run.action_space)
    if noise is not None:
        kwargs["action_noise"] = noise
    try:
        return algo_class(run.algo)(policy_name(run.config.runner, run.representation), train_env, seed=seed,
                                    device=run.device, verbose=0, tensorboard_log=run.tensorboard_dir, **kwargs)
    except (ValueError, TypeError, AssertionError) as exc:
        raise SrlBenchError(f"cannot build {run.algo} with these hyper-parameters on {run.env_id}: {exc}") from exc


def train_one_seed(run: RLRun, seed: int, curve: Curve) -> SeedResult:
    """Train one agent with its evaluations (rows added to ``curve``); saved when ``run`` asks for it."""
    protocol = run.protocol
    train_env = run.factory.build(run.config.runner.n_envs, seed, training=True)
    eval_env = run.factory.build(protocol.n_eval_envs, protocol.eval_seed(seed), training=False)
    try:
        model = build_agent(run, train_env, seed)
        model.learn(total_timesteps=protocol.budget, callback=EvaluationCallback(eval_env, seed, protocol, curve),
                    tb_log_name=f"{run.representation.name}_seed{seed}")
        agent_path = run.agent_path(seed)
        if agent_path is not None:
            model.save(agent_path)
        return SeedResult(int(model.num_timesteps), list(model.observation_space.shape))
    finally:
        train_env.close()
        eval_env.close()


def evaluate_random_policy(run: RLRun, seed: int, curve: Curve) -> SeedResult:
    """The random-policy "agent" of one seed: evaluated on the schedule, trained for 0 steps."""
    protocol = run.protocol
    eval_env = run.factory.build(protocol.n_eval_envs, protocol.eval_seed(seed), training=False, encode=False)
    try:
        random_policy_curve(eval_env, seed, protocol, curve)
    finally:
        eval_env.close()
    curve.advance(protocol.budget)
    return SeedResult(0, None)
