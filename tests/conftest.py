"""Shared fixtures: tiny datasets made on the fly, once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread: the tests' networks are tiny, and on a busy machine extra OpenMP threads
    spin-wait for cores instead of helping (measured: 30× slower training steps under load)."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cartpole_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny cart-pole dataset (32×32 images, 12 short episodes, discrete actions)."""
    from srl_bench.collect import generate_dataset

    out = tmp_path_factory.mktemp("data") / "cartpole"
    return generate_dataset("srl/CartPole-v0", 12, out, seed=0, image_size=32, max_steps=30, progress=False)


@pytest.fixture(scope="session")
def pendulum_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny pendulum dataset (32×32 images, 8 episodes of 25 steps, continuous actions)."""
    from srl_bench.collect import generate_dataset

    out = tmp_path_factory.mktemp("data") / "pendulum"
    return generate_dataset("srl/Pendulum-v0", 8, out, seed=0, image_size=32, max_steps=25, progress=False)
