"""Tests of the PyBullet Kuka button env (``srl/KukaButton-v0``) and its scripted policy."""

from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import gymnasium as gym
import numpy as np
import pybullet
import pybullet_data
import pytest
from gymnasium.utils.env_checker import check_env

import srl_bench  # noqa: F401  (registers the srl/ ids)
from srl_bench.envs import kuka_button
from srl_bench.envs.kuka_button import ExploreButtonPolicy, KukaButtonEnv, NoisyReachButtonPolicy, ReachButtonPolicy

X_PLUS, X_MINUS, Y_PLUS, Y_MINUS, Z_PLUS, Z_MINUS = range(6)


@pytest.fixture(scope="module")
def env():
    environment = KukaButtonEnv()
    yield environment
    environment.close()


def run_episode(environment: KukaButtonEnv, seed: int, actions) -> tuple[list, list, list]:
    """Reset with ``seed`` and play ``actions``; return observations, states and rewards."""
    observation, info = environment.reset(seed=seed)
    observations, states, rewards = [observation], [info["state"]], []
    for action in actions:
        observation, reward, terminated, truncated, info = environment.step(action)
        observations.append(observation)
        states.append(info["state"])
        rewards.append(reward)
        if terminated or truncated:
            break
    return observations, states, rewards


def tool_point_from_pybullet(environment: KukaButtonEnv) -> np.ndarray:
    ids = environment.body_ids
    link_state = pybullet.getLinkState(
        ids["robot"], kuka_button.GRIPPER_BASE_LINK, computeForwardKinematics=True,
        physicsClientId=environment.client_id,
    )
    position, _ = pybullet.multiplyTransforms(
        link_state[4], link_state[5], kuka_button.TOOL_OFFSET_IN_GRIPPER, (0, 0, 0, 1)
    )
    return np.array(position)


def test_ground_truth_matches_pybullet(env):
    env.reset(seed=0)
    for action in (X_PLUS, Y_MINUS, Z_MINUS):
        _, _, _, _, info = env.step(action)
        state = info["state"]
        assert state.dtype == np.float32 and state.shape == (len(env.state_names),)
        button_position, _ = pybullet.getBasePositionAndOrientation(
            env.body_ids["button"], physicsClientId=env.client_id
        )
        button_top = np.array([button_position[0], button_position[1], kuka_button.BUTTON_TOP_Z])
        np.testing.assert_allclose(state[:3], tool_point_from_pybullet(env) - button_top, atol=1e-5)
        np.testing.assert_allclose(state[3:], button_position[:2], atol=1e-6)


@pytest.mark.parametrize("action", range(6))
def test_each_discrete_action_moves_the_gripper_its_way(env, action):
    _, before = env.reset(seed=1)
    _, _, _, _, after = env.step(action)
    moved = after["state"][:3] - before["state"][:3]
    expected = kuka_button.DISCRETE_MOVES[action] * kuka_button.STEP
    np.testing.assert_allclose(moved, expected, atol=0.012)


def test_continuous_action_is_scaled_to_the_step():
    environment = KukaButtonEnv(continuous=True)
    try:
        assert environment.action_space == gym.spaces.Box(-1, 1, (3,), np.float32)
        _, before = environment.reset(seed=2)
        _, _, _, _, after = environment.step(np.array([0.5, 0.0, -1.0], dtype=np.float32))
        moved = after["state"][:3] - before["state"][:3]
        np.testing.assert_allclose(moved, [0.5 * kuka_button.STEP, 0.0, -kuka_button.STEP], atol=0.012)
    finally:
        environment.close()


def test_pressing_the_button_gives_plus_one_and_five_presses_end_the_episode(env):
    policy = ReachButtonPolicy(env.action_space)
    observation, info = env.reset(seed=3)
    rewards = []
    for _ in range(60):
        observation, reward, terminated, truncated, info = env.step(policy(observation, info))
        rewards.append(reward)
        if terminated or truncated:
            break
    assert terminated and not truncated
    assert rewards.count(1.0) == kuka_button.PRESSES_TO_WIN == info["presses"]
    assert -1.0 not in rewards
    ids = env.body_ids
    assert pybullet.getContactPoints(ids["robot"], ids["button"], physicsClientId=env.client_id)


def test_leaving_the_safety_sphere_gives_minus_one_and_terminates(env):
    _, states, rewards = run_episode(env, seed=4, actions=[Z_PLUS] * 30)
    assert rewards[-1] == -1.0 and len(rewards) < 30
    assert np.linalg.norm(states[-1][:3]) > kuka_button.SAFETY_RADIUS
    assert np.linalg.norm(states[-2][:3]) <= kuka_button.SAFETY_RADIUS


def test_touching_the_table_gives_minus_one_and_terminates(env):
    _, states, rewards = run_episode(env, seed=5, actions=[Y_MINUS] * 5 + [Z_MINUS] * 20)
    assert rewards[-1] == -1.0 and set(rewards[:-1]) == {0.0}
    assert np.linalg.norm(states[-1][:3]) < kuka_button.SAFETY_RADIUS  # ended by the table, not the sphere
    ids = env.body_ids
    assert pybullet.getContactPoints(ids["robot"], ids["table"], physicsClientId=env.client_id)


def test_step_cap_truncates():
    environment = KukaButtonEnv(max_steps=3)
    try:
        environment.reset(seed=6)
        endings = [environment.step(X_PLUS if t % 2 else X_MINUS)[2:4] for t in range(3)]
        assert endings == [(False, False), (False, False), (False, True)]
    finally:
        environment.close()


def test_same_seed_same_episode_and_envs_do_not_interfere(env):
    actions = list(np.random.default_rng(0).integers(6, size=25))
    observations, states, rewards = run_episode(env, seed=7, actions=actions)

    # the same env after other episodes, interleaved step by step with a second env
    run_episode(env, seed=8, actions=[Z_MINUS] * 10)
    other = KukaButtonEnv(random_target=True)
    try:
        observation, info = env.reset(seed=7)
        other.reset(seed=9)
        assert np.array_equal(observation, observations[0])
        for t, action in enumerate(actions[: len(rewards)]):
            other.step(Z_MINUS)
            observation, reward, *_, info = env.step(action)
            assert np.array_equal(observation, observations[t + 1])
            assert np.array_equal(info["state"], states[t + 1]) and reward == rewards[t]
    finally:
        other.close()


def test_reset_start_depends_on_the_seed(env):
    starts = {tuple(np.round(env.reset(seed=seed)[1]["state"][:3], 4)) for seed in range(4)}
    assert len(starts) > 1


def test_random_target_draws_the_button_in_its_rectangle():
    environment = KukaButtonEnv(random_target=True)
    try:
        buttons = np.array([environment.reset(seed=seed)[1]["state"][3:] for seed in range(8)])
        low = np.subtract(kuka_button.DEFAULT_BUTTON_XY, kuka_button.RANDOM_BUTTON_HALF_EXTENT)
        high = np.add(kuka_button.DEFAULT_BUTTON_XY, kuka_button.RANDOM_BUTTON_HALF_EXTENT)
        assert np.all((buttons >= low) & (buttons <= high))
        assert len(np.unique(buttons[:, 1])) == 8
    finally:
        environment.close()


def test_scripted_policy_presses_in_random_target_episodes():
    environment = KukaButtonEnv(random_target=True, continuous=True)
    policy = NoisyReachButtonPolicy(environment, seed=0)
    try:
        for seed in range(3):
            observation, info = environment.reset(seed=seed)
            pressed = False
            for _ in range(80):
                observation, reward, terminated, truncated, info = environment.step(policy(observation, info))
                pressed |= reward > 0
                if terminated or truncated:
                    break
            assert pressed, f"no press in the episode with seed {seed}"
    finally:
        environment.close()


def _explore(environment: KukaButtonEnv, seed: int, steps: int) -> tuple[np.ndarray, int]:
    """States and presses of one episode of the exploring policy (policy seeded like the env)."""
    policy = ExploreButtonPolicy(environment, seed=seed)
    observation, info = environment.reset(seed=seed)
    states = [info["state"]]
    for _ in range(steps):
        observation, _, terminated, truncated, info = environment.step(policy(observation, info))
        states.append(info["state"])
        if terminated or truncated:
            break
    return np.array(states), info["presses"]


def test_exploring_policy_covers_more_of_the_workspace_and_still_presses(env):
    spread, presses = {}, {}
    for name, make_policy in (("explore", ExploreButtonPolicy), ("reach", NoisyReachButtonPolicy)):
        states, presses[name] = [], 0
        for seed in range(3):
            policy = make_policy(env, seed=seed)
            observation, info = env.reset(seed=seed)
            states.append(info["state"])
            for _ in range(60):
                observation, _, terminated, truncated, info = env.step(policy(observation, info))
                states.append(info["state"])
                if terminated or truncated:
                    break
            presses[name] += info["presses"]
        spread[name] = np.array(states)[:, :3].std(axis=0)
    # the scripted reacher goes straight down to the button; the explorer wanders, and still presses
    assert (spread["explore"][:2] > 3 * spread["reach"][:2]).all() and spread["explore"][2] > spread["reach"][2]
    assert presses["explore"] > 0


def test_exploring_policy_is_seeded_and_works_with_continuous_actions():
    environment = KukaButtonEnv(continuous=True, random_target=True)
    try:
        first, _ = _explore(environment, seed=4, steps=25)
        again, _ = _explore(environment, seed=4, steps=25)
        other, _ = _explore(environment, seed=5, steps=25)
        np.testing.assert_array_equal(first, again)
        assert first.shape != other.shape or not np.array_equal(first, other)
        assert np.linalg.norm(first[:, :3], axis=1).max() <= kuka_button.SAFETY_RADIUS
    finally:
        environment.close()
    with pytest.raises(ValueError, match="epsilon"):
        ExploreButtonPolicy(gym.spaces.Discrete(6), epsilon=2.0)


def test_observation_and_render():
    environment = gym.make("srl/KukaButton-v0", image_size=(32, 48), render_mode="rgb_array")
    try:
        observation, _ = environment.reset(seed=0)
        assert observation.shape == (32, 48, 3) and observation.dtype == np.uint8
        assert np.array_equal(environment.render(), observation)
        # the red button cap is in the picture
        red = (observation[..., 0] > 120) & (observation[..., 1] < 60) & (observation[..., 2] < 60)
        assert red.any()
    finally:
        environment.close()


def test_close_disconnects_and_is_idempotent():
    environment = KukaButtonEnv()
    client_id = environment.client_id
    assert pybullet.getConnectionInfo(client_id)["isConnected"] == 1
    environment.close()
    assert pybullet.getConnectionInfo(client_id)["isConnected"] == 0
    environment.close()
    with pytest.raises(RuntimeError, match="closed"):
        environment.reset(seed=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_size": 0}, "image_size"),
        ({"continuous": "yes"}, "continuous"),
        ({"random_target": 1}, "random_target"),
        ({"max_steps": 0}, "max_steps"),
        ({"render_mode": "rgb"}, "render_mode"),
        ({"arm_mesh": "low"}, "arm_mesh"),
    ],
)
def test_bad_kwargs_raise_a_clear_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        KukaButtonEnv(**kwargs)


def test_make_passes_kwargs_and_reports_bad_ones():
    with pytest.raises(ValueError, match="image_size"):
        gym.make("srl/KukaButton-v0", image_size=0)


def test_bad_actions_raise(env):
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(6)


def test_passes_gymnasium_env_checker():
    environment = gym.make("srl/KukaButton-v0", render_mode="rgb_array")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(environment.unwrapped, skip_render_check=False)
    finally:
        environment.close()


def _seeded_states(seed: int) -> np.ndarray:
    environment = KukaButtonEnv()
    try:
        _, states, _ = run_episode(environment, seed=seed, actions=[X_MINUS, Y_PLUS, Z_MINUS] * 3)
        return np.array(states)
    finally:
        environment.close()


def test_worker_processes_reproduce_the_in_process_episode():
    expected = [_seeded_states(seed) for seed in (10, 11)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_seeded_states, (10, 11)))
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_cluster_vertices_on_a_known_mesh():
    from srl_bench.envs._arm_mesh import cluster_vertices

    # a unit square of two triangles, plus a sliver whose corners fall in one cell
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0.01, 0.01, 0], [0.02, 0, 0]], dtype=float)
    faces = np.array([[0, 1, 2], [0, 2, 3], [0, 4, 5]])
    merged, kept, normals = cluster_vertices(vertices, faces, cell=0.5)
    assert len(merged) == 4 and len(kept) == 2  # the sliver collapsed into the corner's vertex
    assert np.allclose(merged[kept[0, 0]], [0.01, 0.01 / 3, 0])  # the mean of the three merged vertices
    assert np.allclose(normals, [0, 0, 1])  # counter-clockwise winding seen from +z kept


def test_the_simplified_arm_looks_like_the_full_one_and_moves_the_same():
    from srl_bench.envs._arm_mesh import read_obj

    simplified, full = KukaButtonEnv(), KukaButtonEnv(arm_mesh="full")
    try:
        frames = []
        for environment in (simplified, full):
            observation, info = environment.reset(seed=3)
            states, seen = [info["state"]], [observation]
            for action in (0, 2, 4, 1, 5, 3):
                observation, *_, info = environment.step(action)
                states.append(info["state"])
                seen.append(observation)
            frames.append((np.stack(seen).astype(int), np.stack(states)))
        (pixels_s, states_s), (pixels_f, states_f) = frames
        assert np.array_equal(states_s, states_f)  # collisions and dynamics use the full meshes either way
        difference = np.abs(pixels_s - pixels_f)
        assert 0 < difference.mean() < 2.0 and (difference.max(axis=-1) > 60).mean() < 0.02
        sdf = Path(kuka_button.simplified_arm_sdf(pybullet_data.getDataPath()))
        simplified_triangles = sum(len(read_obj(mesh)[1]) for mesh in sdf.parent.glob("link_*.obj"))
        full_triangles = sum(len(read_obj(Path(pybullet_data.getDataPath()) / "kuka_iiwa/meshes" / mesh.name)[1])
                             for mesh in sdf.parent.glob("link_*.obj"))
        assert simplified_triangles < full_triangles / 3 + 100 and full_triangles > 14000
    finally:
        simplified.close()
        full.close()
