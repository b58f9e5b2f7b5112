"""Pixel cart-pole and pendulum: the env contract, the two renderers, seeding, bad kwargs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import srl_bench  # noqa: F401  (registers the envs)

CLASSIC = ["srl/CartPole-v0", "srl/Pendulum-v0"]


@pytest.mark.parametrize("env_id", CLASSIC)
@pytest.mark.parametrize("renderer", ["numpy", "gymnasium"])
def test_check_env_passes(env_id: str, renderer: str) -> None:
    env = gym.make(env_id, renderer=renderer, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


@pytest.mark.parametrize("env_id", CLASSIC)
def test_observation_and_state_contract(env_id: str) -> None:
    env = gym.make(env_id, image_size=(48, 40))
    obs, info = env.reset(seed=0)
    assert obs.shape == (48, 40, 3) and obs.dtype == np.uint8
    state = info["state"]
    assert state.dtype == np.float32 and state.shape == (len(env.unwrapped.state_names),)
    obs, _, _, _, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    assert info["state"].dtype == np.float32


def test_cartpole_state_is_gymnasium_dynamics() -> None:
    """The true state follows Gymnasium's CartPole-v1 exactly when both start from the same state."""
    ours = gym.make("srl/CartPole-v0").unwrapped
    _, info = ours.reset(seed=3)
    reference = gym.make("CartPole-v1").unwrapped
    reference.reset(seed=0)
    reference.state = np.array(info["state"], dtype=np.float64)
    ours.inner.state = reference.state.copy()
    for action in [1, 0, 0, 1, 1]:
        expected, *_ = reference.step(action)
        _, _, _, _, info = ours.step(action)
        np.testing.assert_allclose(info["state"], expected, rtol=1e-6)


@pytest.mark.parametrize(("env_id", "shows_at_once"), [("srl/CartPole-v0", False), ("srl/Pendulum-v0", True)])
def test_when_an_action_shows_in_the_image(env_id: str, shows_at_once: bool) -> None:
    """Cart-pole's explicit Euler step shows a push two frames later, pendulum's torque at once
    (docs/methods.md, "An inverse model needs the action in the next frame")."""
    env = gym.make(env_id)
    low, high = (0, 1) if env_id == "srl/CartPole-v0" else (env.action_space.low, env.action_space.high)
    frames = []
    for action in (low, high):
        env.reset(seed=5)
        frames.append([env.step(action)[0], env.step(low)[0]])
    assert np.array_equal(frames[0][0], frames[1][0]) is not shows_at_once
    assert not np.array_equal(frames[0][1], frames[1][1])

@pytest.mark.parametrize("env_id", CLASSIC)
def test_same_seed_same_frames(env_id: str) -> None:
    def rollout() -> np.ndarray:
        env = gym.make(env_id)
        env.action_space.seed(7)
        frames = [env.reset(seed=11)[0]]
        for _ in range(20):
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            frames.append(obs)
            if terminated or truncated:
                break
        return np.stack(frames)

    np.testing.assert_array_equal(rollout(), rollout())


def _centroid(weights: np.ndarray) -> np.ndarray:
    """(row, column) centre of mass of a per-pixel weight map."""
    rows, cols = np.indices(weights.shape)
    return np.array([(rows * weights).sum(), (cols * weights).sum()]) / weights.sum()


def _pole_weight(frame: np.ndarray) -> np.ndarray:
    """How much of each pixel is pole: the pole's red exceeds its blue; white, black, grey and the
    blue axle do not (anti-aliased edges count in proportion)."""
    f = frame.astype(float)
    return np.clip(f[..., 0] - f[..., 2], 0, None)


def _rod_weight(frame: np.ndarray) -> np.ndarray:
    f = frame.astype(float)
    return np.clip(f[..., 0] - f[..., 1], 0, None)


def _frames_both_renderers(env_id: str, state: list[float], size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    frames = []
    for renderer in ("numpy", "gymnasium"):
        env = gym.make(env_id, renderer=renderer, image_size=size).unwrapped
        env.reset(seed=0)
        env.inner.state = np.array(state, dtype=np.float64)
        frames.append(env._observe())
        env.close()
    return frames[0], frames[1]


@pytest.mark.parametrize("x, theta", [(0.0, 0.0), (-1.5, 0.15), (1.8, -0.2)])
def test_renderers_agree_on_cart_and_pole(x: float, theta: float) -> None:
    fast, reference = _frames_both_renderers("srl/CartPole-v0", [x, 0.0, theta, 0.0])
    pole_fast, pole_ref = _centroid(_pole_weight(fast)), _centroid(_pole_weight(reference))
    assert np.abs(pole_fast - pole_ref).max() < 1.0
    # the cart: dark pixels below the pole's base, in the column band around it, track excluded
    cart_cols = []
    for frame in (fast, reference):
        darkness = 255.0 - frame.max(axis=2).astype(float)
        darkness[darkness < 128] = 0  # the thin track is light grey after resizing; the cart is black
        cart_cols.append(_centroid(darkness)[1])
    assert abs(cart_cols[0] - cart_cols[1]) < 1.0
    expected_col = (x * 600 / 4.8 + 300) / 600 * 64 - 0.5
    assert abs(cart_cols[0] - expected_col) < 1.0
    # the pole leans the way theta says: its top is right of its base when theta > 0
    weights = _pole_weight(fast)
    rows = np.nonzero(weights.sum(axis=1))[0]
    top = _centroid(weights[rows[:5]])[1]
    base = _centroid(weights[rows[-5:]])[1]
    assert np.sign(round(top - base)) == np.sign(round(theta * 10))


@pytest.mark.parametrize("theta", [0.0, 1.0, -2.0, 3.0])
def test_renderers_agree_on_pendulum(theta: float) -> None:
    fast, reference = _frames_both_renderers("srl/Pendulum-v0", [theta, 0.0])
    rod_fast, rod_ref = _centroid(_rod_weight(fast)), _centroid(_rod_weight(reference))
    assert np.abs(rod_fast - rod_ref).max() < 1.0
    # θ = 0 points up and θ grows counter-clockwise: the rod's centre is at (−sin θ, cos θ) of the pivot
    pivot = np.array([31.5, 31.5])
    direction = (rod_fast - pivot) / np.linalg.norm(rod_fast - pivot)
    np.testing.assert_allclose(direction, [-np.cos(theta), -np.sin(theta)], atol=0.05)


@pytest.mark.parametrize("bad", [0, -3, 4, 5000, (64,), "64", (32, 0), True])
def test_bad_image_size_is_a_clear_error(bad) -> None:
    with pytest.raises(ValueError, match="image_size"):
        gym.make("srl/CartPole-v0", image_size=bad)


def test_unknown_renderer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="renderer"):
        gym.make("srl/Pendulum-v0", renderer="opengl")


def test_render_returns_the_observation() -> None:
    env = gym.make("srl/Pendulum-v0", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(env.render(), obs)
