"""Encoders that see the last k frames: the same stacks in training, scoring and RL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

import srl_bench
from srl_bench.collect import make_env
from srl_bench.data import load_dataset
from srl_bench.data.frames import RowFrames, stacked_rows
from srl_bench.rl.wrappers import FrozenEncoderVecEnv
from srl_bench.trainer import train


def test_stacks_hold_the_episode_s_previous_frames_and_black_before_its_start() -> None:
    # two episodes of 3 and 2 one-pixel frames whose value is the row number
    obs = np.arange(1, 6, dtype=np.uint8).reshape(5, 1, 1, 1)
    first = np.array([0, 0, 0, 3, 3])
    stacks = stacked_rows(obs, first, np.array([0, 1, 2, 3, 4]), 3)[:, 0, 0, :]
    assert stacks.tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 3], [0, 0, 4], [0, 4, 5]]
    assert stacked_rows(obs, first, np.array([4, 2]), 1)[:, 0, 0, 0].tolist() == [5, 3]


def test_a_frame_stacked_encoder_sees_in_rl_what_it_saw_in_its_dataset(cartpole_data: Path, tmp_path: Path) -> None:
    run = train("autoencoder", cartpole_data, tmp_path / "ae", overrides={"epochs": 1, "frame_stack": 2}, progress=False)
    encoder = srl_bench.load_run(run)
    assert encoder.frame_stack == 2 and encoder.image_shape[2] == 6
    metrics = srl_bench.evaluate(run, cartpole_data)
    assert metrics["state_dim"] == 4
    # replay episode 0 of the dataset in the live env (same seed): the wrapper's states equal the
    # states of the dataset's stacked rows
    dataset = load_dataset(cartpole_data)
    rows = dataset.frames_of_episodes(np.array([0]))
    from_dataset = encoder.encode(RowFrames(dataset, rows, 2))
    env_seed = srl_bench.collect.generate.episode_seeds(dataset.meta["seed"], 0)[0]
    venv = DummyVecEnv([lambda: make_env("srl/CartPole-v0", **dataset.meta["env_kwargs"])])
    venv.seed(env_seed)
    wrapped = FrozenEncoderVecEnv(venv, encoder)
    states = [wrapped.reset()[0]]
    for action in np.asarray(dataset.actions)[rows[:-1]]:
        obs, _, done, info = wrapped.step(np.array([action]))
        states.append(info[0]["terminal_observation"] if done[0] else obs[0])
    np.testing.assert_allclose(np.array(states), from_dataset, rtol=1e-4, atol=1e-5)


def test_memory_models_refuse_frame_stacks(cartpole_data: Path, tmp_path: Path) -> None:
    with pytest.raises(srl_bench.SrlBenchError, match="frame_stack must be 1"):
        train("world_models", cartpole_data, tmp_path / "wm", overrides={"epochs": 1, "frame_stack": 2}, progress=False)


@pytest.mark.parametrize("method", sorted(name for name, spec in srl_bench.methods.METHODS.items()
                                          if spec.source != "test" and name != "world_models"))
def test_every_method_trains_and_scores_on_stacks(method: str, cartpole_data: Path, tmp_path: Path) -> None:
    """Each method of the zoo (fitted baselines included: PCA fits on stacks, not on single frames)
    trains with frame_stack 2 and encodes the stacks the metrics give it."""
    run = train(method, cartpole_data, tmp_path / method, overrides={"epochs": 1, "frame_stack": 2}, progress=False)
    encoder = srl_bench.runs.load_run(run)
    assert encoder.frame_stack == 2
    dataset = load_dataset(cartpole_data)
    states = encoder.encode(RowFrames(dataset, np.arange(12), 2))
    assert states.shape[0] == 12 and np.isfinite(states).all()


def test_the_leaderboard_pictures_of_a_frame_stacked_run(cartpole_data: Path, tmp_path: Path) -> None:
    from srl_bench.bench.report.inspect import load_sample

    run = train("autoencoder", cartpole_data, tmp_path / "ae", overrides={"epochs": 1, "frame_stack": 2}, progress=False)
    sample = load_sample(run, cartpole_data, "srl/CartPole-v0", "autoencoder", 0)
    target, output = sample.reconstructions["reconstruction"]
    frames = sample.images.shape[-1]
    assert target.shape[-1] == output.shape[-1] == frames == 3 and len(sample.states) == len(sample.images)
