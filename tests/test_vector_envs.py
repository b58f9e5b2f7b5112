"""Batched pixel envs (srl_bench.envs.vector): frame for frame what DummyVecEnv of the single env gives.

The batched canvas against the single canvas on random shapes; the batched dynamics against
Gymnasium's own envs; PixelVecEnv against make_vec_env(DummyVecEnv) over several episodes with
auto-resets; the batched dataset collector against the single-env loop (same bytes); the RL env stack
with and without the batched env.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.classic_control import CartPoleEnv, PendulumEnv
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecCheckNan, VecEnv, VecFrameStack, VecTransposeImage

from srl_bench.collect import generate_dataset, make_env
from srl_bench.envs.classic import ClassicBatch, make_batch
from srl_bench.envs.raster import BatchCanvas, Canvas
from srl_bench.envs.vector import PixelVecEnv, make_pixel_vec_env

CARTPOLE, PENDULUM = "srl/CartPole-v0", "srl/Pendulum-v0"


# -- the canvas ------------------------------------------------------------------------------------
def _random_shapes(rng: np.random.Generator, n: int) -> list[tuple]:
    shapes = []
    for _ in range(5):
        kind = ["rect", "segment", "capsule", "disc"][rng.integers(4)]
        points = rng.uniform(-150, 750, (n, 4))
        if rng.random() < 0.3:  # axis-aligned and degenerate segments, off-screen shapes
            points[:, 2 + rng.integers(2)] = points[:, rng.integers(2)]
        if rng.random() < 0.1:
            points[:, 2:] = points[:, :2]
        size = float(rng.choice([rng.uniform(0.05, 3), rng.uniform(3, 80)]))
        shapes.append((kind, points, tuple(rng.uniform(0, 255, 3)), size))
    return shapes


def _draw(canvas, kind: str, p, color, size: float) -> None:
    if kind == "rect":
        canvas.fill_rect(np.minimum(p[0], p[1]), np.maximum(p[0], p[1]), np.minimum(p[2], p[3]),
                         np.maximum(p[2], p[3]), color)
    elif kind == "disc":
        canvas.fill_disc((p[0], p[1]), size, color)
    else:
        canvas.fill_segment((p[0], p[1]), (p[2], p[3]), size, color, round_caps=kind == "capsule")


@pytest.mark.parametrize("margin", ["tiny", "wide"])
def test_batch_canvas_draws_what_canvas_draws(margin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if margin == "wide":  # many samples between the shrunk and the grown chords: Canvas's own test decides
        tiny = BatchCanvas._margin
        monkeypatch.setattr(BatchCanvas, "_margin", lambda self, *args: tiny(self, *args) * 1e8)
    rng = np.random.default_rng(0)
    for trial in range(25):
        height, width = (int(v) for v in rng.integers(8, 48, 2))
        view = (float(rng.uniform(-50, 50)), float(rng.uniform(100, 700)),
                float(rng.uniform(-50, 50)), float(rng.uniform(100, 500)))
        single = Canvas(height, width, view, supersample=int(rng.integers(1, 4)))
        single.fill_rect(view[0], view[1], 60.0, 61.3, (10, 20, 30))
        single.keep_as_background()
        batch = BatchCanvas(single)
        for _ in range(2):  # a second round on the same batch canvas: the background was restored
            n = int(rng.integers(1, 9))
            shapes = _random_shapes(rng, n)
            batch.clear(n)
            for kind, points, color, size in shapes:
                _draw(batch, kind, points.T, color, size)
            frames = batch.to_uint8()
            assert frames.shape == (n, height, width, 3) and frames.dtype == np.uint8
            for i in range(n):
                single.clear()
                for kind, points, color, size in shapes:
                    _draw(single, kind, [float(v) for v in points[i]], color, size)
                np.testing.assert_array_equal(frames[i], single.to_uint8(), err_msg=f"trial {trial}, frame {i}")


# -- the dynamics ----------------------------------------------------------------------------------
def _pow_differs(rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Values whose NumPy-scalar square (the C library's pow) is not their array square (x * x)."""
    values = rng.uniform(-8, 8, 20000).astype(dtype)
    scalar = np.array([v**2 for v in values], dtype=dtype)
    return values[scalar != values * values]


def test_batched_dynamics_are_gymnasiums() -> None:
    rng = np.random.default_rng(1)
    envs = [make_env(CARTPOLE) for _ in range(6)]
    batch = make_batch(envs)
    batch.state[:] = rng.uniform([-2.4, -3, -0.25, -3], [2.4, 3, 0.25, 3], (6, 4))
    reference = CartPoleEnv()
    for _ in range(30):
        actions = rng.integers(0, 2, 6)
        before = batch.state.copy()
        rewards, terminated = batch.step(batch.check_actions(actions, 6))
        for i in range(6):
            reference.state = before[i].copy()
            reference.steps_beyond_terminated = None
            _, reward, done, _, _ = reference.step(int(actions[i]))
            assert np.array_equal(batch.state[i], reference.state) and reward == rewards[i] and done == terminated[i]

    # pendulum: float32 and float64 torques; states whose squares take the C library's pow
    tricky = _pow_differs(rng)
    assert len(tricky) > 0
    envs = [make_env(PENDULUM) for _ in range(len(tricky))]
    batch = make_batch(envs)
    reference = PendulumEnv()
    for dtype in (np.float32, np.float64):
        batch.state[:] = np.stack([rng.uniform(-8, 8, len(tricky)), tricky], axis=1)
        actions = rng.uniform(-2, 2, (len(tricky), 1)).astype(dtype)
        actions[: len(actions) // 2, 0] = _pow_differs(rng, np.float32)[: len(actions) // 2] / 4
        before = batch.state.copy()
        rewards, _ = batch.step(batch.check_actions(actions, len(actions)))
        for i in range(len(actions)):
            reference.state = before[i].copy()
            _, reward, _, _, _ = reference.step(actions[i])
            assert np.array_equal(batch.state[i], reference.state) and reward == rewards[i], (dtype, i)


def test_bad_actions_are_refused() -> None:
    venv = make_pixel_vec_env(functools.partial(make_env, CARTPOLE, image_size=16), n_envs=2, seed=0)
    venv.reset()
    for bad in (np.array([0, 2]), np.array([0.0, 1.0]), np.array([[0], [1]])):
        with pytest.raises(ValueError, match="is not in the action space"):
            venv.step(bad)
    venv = make_pixel_vec_env(functools.partial(make_env, PENDULUM, image_size=16), n_envs=2, seed=0)
    venv.reset()
    with pytest.raises(ValueError, match="is not in the action space"):
        venv.step(np.array([[0.0], [2.5]], dtype=np.float32))
    with pytest.raises(ValueError, match="cannot be batched"):
        PixelVecEnv([make_env(CARTPOLE, renderer="gymnasium")])


# -- the VecEnv against DummyVecEnv ----------------------------------------------------------------
def _pair(env_id: str, n_envs: int, seed: int, **env_kwargs) -> tuple[VecEnv, VecEnv]:
    env_fn = functools.partial(make_env, env_id, **env_kwargs)
    reference = make_vec_env(env_fn, n_envs=n_envs, seed=seed, vec_env_cls=DummyVecEnv)
    return reference, make_pixel_vec_env(env_fn, n_envs=n_envs, seed=seed)


def _assert_same_step(ref: tuple, new: tuple, where: str) -> int:
    for name, a, b in zip(("observations", "rewards", "dones"), ref[:3], new[:3]):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {name}"
        np.testing.assert_array_equal(a, b, err_msg=f"{where}: {name}")
    ends = 0
    for i, (a, b) in enumerate(zip(ref[3], new[3])):
        assert a.keys() == b.keys(), f"{where}: info keys of env {i}"
        for key, value in a.items():
            if key == "episode":  # Monitor's; "t" is a wall-clock time
                assert (value["r"], value["l"]) == (b[key]["r"], b[key]["l"]), where
            elif isinstance(value, np.ndarray):
                assert value.dtype == b[key].dtype, f"{where}: {key}"
                np.testing.assert_array_equal(value, b[key], err_msg=f"{where}: {key} of env {i}")
            else:
                assert value == b[key], f"{where}: {key} of env {i}"
        ends += "terminal_observation" in a
    return ends


@pytest.mark.parametrize("draw", ["batch canvas", "canvas per frame"])
@pytest.mark.parametrize(("env_id", "kwargs", "steps"), [
    (CARTPOLE, {"image_size": (48, 40)}, 160),
    (CARTPOLE, {"image_size": 24, "max_episode_steps": 15}, 60),  # truncations too
    (PENDULUM, {"image_size": 32, "max_episode_steps": 40}, 130),
])
def test_pixel_vec_env_is_dummy_vec_env_frame_for_frame(env_id: str, kwargs: dict, steps: int, draw: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ClassicBatch, "batch_from", 1 if draw == "batch canvas" else 100)
    reference, batched = _pair(env_id, 4, 7, **kwargs)
    np.testing.assert_array_equal(reference.reset(), batched.reset())
    for a, b in zip(reference.reset_infos, batched.reset_infos):
        np.testing.assert_array_equal(a["state"], b["state"])
    rng = np.random.default_rng(3)
    ends = truncations = 0
    for t in range(steps):
        if env_id == CARTPOLE:
            actions = rng.integers(0, 2, 4)
        else:  # float64 for half the steps: the torque term keeps the action's dtype, as in Gymnasium
            actions = rng.uniform(-2, 2, (4, 1)).astype(np.float32 if t % 2 else np.float64)
        ref, new = reference.step(actions), batched.step(actions)
        ends += _assert_same_step(ref, new, f"step {t}")
        truncations += sum(info["TimeLimit.truncated"] for info in ref[3])
        if t == steps // 2:  # a reset in the middle, with new seeds
            reference.seed(11)
            batched.seed(11)
            np.testing.assert_array_equal(reference.reset(), batched.reset())
    assert ends >= 4 and (env_id == CARTPOLE and "max_episode_steps" not in kwargs or truncations > 0)


def test_sb3_vec_env_semantics() -> None:
    reference, batched = _pair(CARTPOLE, 3, 0, image_size=32)
    assert batched.observation_space == reference.observation_space
    assert batched.action_space == reference.action_space and batched.num_envs == 3
    assert batched.render_mode is None and batched.get_attr("render_mode") == [None] * 3
    assert batched.env_is_wrapped(Monitor) == reference.env_is_wrapped(Monitor) == [True] * 3
    assert batched.get_attr("state_names", 1) == [reference.get_attr("state_names", 1)[0]]
    assert batched.has_attr("state_names") and not batched.has_attr("no_such_thing")
    assert batched.seed(5) == reference.seed(5) == [5, 6, 7]
    reference.reset()
    batched.reset()
    # attributes and methods reach the single envs, brought up to date with the batch
    batched.step(np.array([1, 0, 1]))
    reference.step(np.array([1, 0, 1]))
    inner = batched.get_attr("inner")
    assert all(np.array_equal(a.state, e.unwrapped.inner.state) for a, e in zip(inner, reference.envs))
    assert batched.get_attr("_elapsed_steps") == [1, 1, 1]
    batched.set_attr("custom", 3, indices=[0])
    assert batched.get_attr("custom", 0) == [3]
    obs, info = batched.env_method("reset", seed=42, indices=2)[0]
    ref_obs, ref_info = reference.env_method("reset", seed=42, indices=2)[0]
    np.testing.assert_array_equal(obs, ref_obs)
    np.testing.assert_array_equal(info["state"], ref_info["state"])
    _assert_same_step(reference.step(np.array([0, 0, 0])), batched.step(np.array([0, 0, 0])), "after env_method")
    # SB3's wrappers on top: NaN check, frame stacking, channel-first images
    stacked = VecTransposeImage(VecFrameStack(VecCheckNan(batched, raise_exception=True), 2))
    assert stacked.reset().shape == (3, 6, 32, 32)
    for _ in range(30):
        obs, _, _, infos = stacked.step(np.array([1, 1, 0]))
    assert obs.shape == (3, 6, 32, 32)
    batched.close()
    with pytest.raises(RuntimeError, match="reset"):
        make_pixel_vec_env(functools.partial(make_env, CARTPOLE, image_size=16)).step(np.array([0]))


def test_images_for_video() -> None:
    venv = make_pixel_vec_env(functools.partial(make_env, PENDULUM, image_size=16, render_mode="rgb_array"),
                              n_envs=2, seed=1)
    obs = venv.reset()
    images = venv.get_images()
    assert len(images) == 2 and all(np.array_equal(a, b) for a, b in zip(images, obs))
    assert venv.render().shape[2] == 3
    assert np.array_equal(venv.env_method("render", indices=1)[0], obs[1])


# -- dataset generation ------------------------------------------------------------------------------
@pytest.mark.parametrize(("env_id", "episodes", "kwargs"), [
    (CARTPOLE, 9, {"image_size": 24}),
    (CARTPOLE, 5, {"image_size": (20, 28), "max_steps": 12}),
    (PENDULUM, 3, {"image_size": 16, "env_kwargs": {"max_episode_steps": 30}}),
])
def test_batched_generation_writes_the_same_bytes(tmp_path: Path, env_id: str, episodes: int, kwargs: dict) -> None:
    def meta(batched: bool | None, workers: int) -> dict:
        path = generate_dataset(env_id, episodes, tmp_path / f"{batched}-{workers}", seed=4, workers=workers,
                                batched=batched, progress=False, **kwargs)
        return json.loads((path / "meta.json").read_text())

    single = meta(False, 1)
    assert meta(None, 1) == single
    assert meta(True, 2) == single


def test_batched_generation_only_where_it_applies(tmp_path: Path) -> None:
    from srl_bench.errors import SrlBenchError

    with pytest.raises(SrlBenchError, match="batched collector handles"):
        generate_dataset(CARTPOLE, 1, tmp_path / "d", image_size=16, env_kwargs={"renderer": "gymnasium"},
                         batched=True, progress=False)


# -- the RL env stack --------------------------------------------------------------------------------
def _mean_colour(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1, 3).mean(axis=1).astype(np.float32)


@pytest.mark.parametrize(("env_id", "kind", "frame_stack"), [
    (CARTPOLE, "raw_pixels", 2), (PENDULUM, "learned", 1), (CARTPOLE, "learned", 2),
])  # the random policy's envs draw nothing (tests/test_rl.py)
def test_rl_env_stack_is_the_same_batched(env_id: str, kind: str, frame_stack: int,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ClassicBatch, "batch_from", 2)  # the batch canvas, even for 3 envs
    from srl_bench.rl.config import RunnerConfig
    from srl_bench.rl.envs import EnvFactory
    from srl_bench.rl.representations import Representation

    representation = Representation(kind=kind, name=kind, encoder=_mean_colour if kind == "learned" else None)
    runner = RunnerConfig(frame_stack=frame_stack, normalize_state="running" if kind == "learned" else None)
    stacks = [EnvFactory(env_id, {"image_size": 24, "max_episode_steps": 25}, representation, runner, batched=flag)
              .build(3, seed=2, training=True) for flag in (True, False)]
    assert isinstance(stacks[0].unwrapped, PixelVecEnv) and isinstance(stacks[1].unwrapped, DummyVecEnv)
    np.testing.assert_array_equal(stacks[0].reset(), stacks[1].reset())
    for t in range(60):
        actions = np.stack([stacks[1].action_space.sample() for _ in range(3)])
        _assert_same_step(stacks[1].step(actions), stacks[0].step(actions), f"step {t}")


def test_ppo_first_rollout_is_the_same_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ClassicBatch, "batch_from", 1)
    from stable_baselines3 import PPO

    from srl_bench.rl.envs import EnvFactory
    from srl_bench.rl.representations import Representation

    representation = Representation(kind="learned", name="mean", encoder=_mean_colour)
    buffers = []
    for flag in (True, False):
        venv = EnvFactory(CARTPOLE, {"image_size": 24}, representation, batched=flag).build(2, seed=0, training=True)
        model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu",
                    policy_kwargs={"net_arch": [8]})
        model.learn(64)
        buffers.append((model.rollout_buffer.observations.copy(), model.rollout_buffer.rewards.copy(),
                        [p.detach().clone() for p in model.policy.parameters()]))
        venv.close()
    (obs_a, rew_a, params_a), (obs_b, rew_b, params_b) = buffers
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(rew_a, rew_b)
    assert all(bool((a == b).all()) for a, b in zip(params_a, params_b))


def test_sample_lookup_is_searchsorted() -> None:
    rng = np.random.default_rng(2)
    for supersample in (1, 2, 3):
        batch = BatchCanvas(Canvas(20, 37, (-20.0, 600.0, 0.0, 300.0), supersample=supersample))
        xs = batch._sample_x
        values = np.concatenate([rng.uniform(-100, 700, 2000), xs, np.nextafter(xs, np.inf),
                                 np.nextafter(xs, -np.inf), [np.inf, -np.inf, np.nan]])
        for side, beyond in (("left", False), ("right", True)):
            np.testing.assert_array_equal(batch._first_sample(values, beyond), np.searchsorted(xs, values, side))


def test_parallel_generation_in_many_chunks_writes_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers write their frames in place at offsets the parent computes from every episode's length:
    with one-episode chunks handed round three workers, the bytes are still the single loop's."""
    from srl_bench.collect import generate

    monkeypatch.setattr(generate, "QUEUE_BYTES", 1)  # chunks of one episode
    paths = [generate_dataset(CARTPOLE, 7, tmp_path / str(workers), seed=2, workers=workers, image_size=16,
                              progress=False, batched=None if workers > 1 else False) for workers in (1, 3)]
    metas = [json.loads((path / "meta.json").read_text()) for path in paths]
    assert metas[0]["checksums"] == metas[1]["checksums"]
    assert len(set(metas[0]["episode_lengths"])) > 1  # episodes of different lengths, so offsets matter
    assert not list(tmp_path.glob("*/.*tmp*")) and not list(tmp_path.glob(".*"))
