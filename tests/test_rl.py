"""Downstream RL: tiny budgets (a few hundred steps), checking what must hold whatever the agent learns."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import srl_bench
from srl_bench.config import parse_assignments, read_yaml_mapping, shipped_file
from srl_bench.errors import SrlBenchError
from srl_bench.nets import ConvEncoder
from srl_bench.rl import (
    GroundTruthObservation,
    FrozenEncoderVecEnv,
    RecurrentEncoderVecEnv,
    load_rl_config,
    normalized_score,
    read_curve,
    rl_evaluate,
)
from srl_bench.rl.config import ALGOS, RunnerConfig
from srl_bench.rl.results import attach_normalized_score, strict_json
from srl_bench.stats import iqm_ci, mean_ci

CARTPOLE = "srl/CartPole-v0"
PENDULUM = "srl/Pendulum-v0"
TINY_PPO = {"n_envs": 4, "n_steps": 16, "batch_size": 32, "n_epochs": 1}
TINY = dict(seeds=[0], n_eval=2, progress=False, torch_threads=1)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _dummy_vec(env_id: str, n: int, **kwargs):
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = DummyVecEnv([lambda: gym.make(env_id, **kwargs) for _ in range(n)])
    venv.seed(0)
    return venv


def test_frozen_encoder_is_unchanged_and_agent_sees_learned_dim(tmp_path: Path) -> None:
    torch.manual_seed(0)
    encoder = ConvEncoder((32, 32, 3), state_dim=5)
    encoder.train()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    result = rl_evaluate(encoder, CARTPOLE, timesteps=128, eval_freq=64, hyperparams=TINY_PPO, out=tmp_path / "rl",
                         frame_stack=1, save_agents=True, **TINY)
    for key, value in encoder.state_dict().items():
        assert torch.equal(value, before[key]), f"{key} changed while the agent trained"
    assert encoder.training and all(p.requires_grad for p in encoder.parameters()), "freezing was not undone"
    from stable_baselines3 import PPO

    agent = PPO.load(tmp_path / "rl" / "agent_seed0.zip", device="cpu")
    assert agent.observation_space.shape == (5,)
    assert result["env_kwargs"]["image_size"] == 32  # taken from the encoder's image_shape
    assert result["representation"]["kind"] == "learned" and result["policy"] == "MlpPolicy"
    assert result["score_ci95"] == [None, None]  # one seed: no interval (NaN, written as null)


def test_curve_has_the_evaluations_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "gt"
    result = rl_evaluate("ground_truth", CARTPOLE, timesteps=256, eval_freq=64, seeds="0,1", n_eval=3, out=out,
                         hyperparams=TINY_PPO, progress=False, torch_threads=1)
    rows = read_curve(out / "curve.csv")
    for seed in (0, 1):
        steps = [r["timesteps"] for r in rows if r["seed"] == seed]
        assert steps == [0, 64, 128, 192, 256]
    assert all(r["n_episodes"] == 3 for r in rows)
    payload = json.loads((out / "rl.json").read_text())
    assert payload["timesteps"] == 256 and payload["seeds"] == [0, 1] and payload["n_seeds"] == 2
    assert payload["timesteps_done"] == {"0": 256, "1": 256}
    last = {r["seed"]: r["mean_return"] for r in rows if r["timesteps"] == 256}
    assert payload["scores"] == {"0": last[0], "1": last[1]}
    assert payload["score_mean"] == pytest.approx(np.mean(list(last.values())))
    # two seeds: the bootstrap means are a, (a+b)/2 and b, so the 95% interval is [min, max]
    assert payload["score_ci95"] == [min(last.values()), max(last.values())]
    assert result["curve"] == rows
    assert srl_bench.rl_evaluate is rl_evaluate
    assert not list(tmp_path.glob(".gt.tmp-*")), "temporary directory left behind"


def test_normalised_score_against_references(tmp_path: Path) -> None:
    common = dict(timesteps=128, eval_freq=128, hyperparams=TINY_PPO, **TINY)
    # a ground-truth reference of the same env, algorithm and budget, above any cart-pole return
    (tmp_path / "ground_truth").mkdir()
    (tmp_path / "ground_truth" / "rl.json").write_text(json.dumps({
        "representation": {"kind": "ground_truth"}, "env_id": CARTPOLE, "algo": "ppo", "timesteps": 128,
        "score_mean": 1000.0}))
    rnd = rl_evaluate("random_policy", CARTPOLE, out=tmp_path / "random_policy", references=tmp_path, **common)
    assert rnd["timesteps_done"] == {"0": 0}
    assert [r["timesteps"] for r in rnd["curve"]] == [0, 128]
    assert rnd["normalized_score"] == 0.0  # the random policy is its own reference
    assert rnd["normalized_reference"]["ground_truth_mean"] == 1000.0
    encoder = ConvEncoder((32, 32, 3), state_dim=3)
    learned = rl_evaluate(encoder, CARTPOLE, out=tmp_path / "learned", references=tmp_path, **common)
    expected = (learned["score_mean"] - rnd["score_mean"]) / (1000.0 - rnd["score_mean"])
    assert learned["normalized_score"] == pytest.approx(expected)
    assert learned["normalized_scores"] == {"0": pytest.approx(expected)}
    assert learned["normalized_reference"]["ground_truth_file"].endswith("ground_truth/rl.json")
    assert learned["normalized_reference"]["random_policy_file"].endswith("random_policy/rl.json")
    # references of another budget do not count
    other = rl_evaluate("random_policy", CARTPOLE, timesteps=64, references=tmp_path,
                        **{k: v for k, v in common.items() if k != "timesteps"})
    assert other["normalized_score"] is None and other["normalized_reference"] == {"missing": ["ground_truth"]}


class _FixedLength(gym.Env):
    """Reward 1 a step; every episode lasts ``length`` steps (so its return is its length)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int) -> None:
        self.length, self.t = length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(1, np.float32), 1.0, self.t >= self.length, False, {}


def test_random_policy_episodes_are_counted_per_env_not_by_who_ends_first() -> None:
    """One env's episodes last 1 step, the other's 5: of 4 episodes, each env plays 2 (as SB3's
    evaluate_policy counts them), so the mean is 3. The first four to end would all be 1 step long."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    from srl_bench.rl.protocol import play_random

    venv = DummyVecEnv([lambda: _FixedLength(1), lambda: _FixedLength(5)])
    returns, lengths = play_random(venv, 4)
    assert sorted(returns) == [1.0, 1.0, 5.0, 5.0] and sorted(lengths) == [1, 1, 5, 5]
    returns, _ = play_random(venv, 3)  # (3 + i) // 2: env 0 plays 1, env 1 plays 2
    assert sorted(returns) == [1.0, 5.0, 5.0]


def test_normalised_score_formula_and_its_undefined_cases() -> None:
    assert normalized_score(5.0, 10.0, 0.0) == 0.5 and normalized_score(0.0, 10.0, 0.0) == 0.0
    assert normalized_score(-5.0, 10.0, 0.0) == -0.5 and np.isnan(normalized_score(1.0, 2.0, 2.0))
    payload = {"scores": {"0": 4.0, "1": 6.0}, "score_mean": 5.0}
    attach_normalized_score(payload, 10.0, 0.0, {"ground_truth_file": "gt/rl.json"})
    assert payload["normalized_score"] == 0.5 and payload["normalized_scores"] == {"0": 0.4, "1": 0.6}
    assert payload["normalized_reference"]["ground_truth_file"] == "gt/rl.json"
    attach_normalized_score(payload, 2.0, 2.0, {})  # the references tie: undefined, written as null
    assert strict_json(payload)["normalized_score"] is None
    attach_normalized_score(payload, None, 0.0, {})
    assert payload["normalized_score"] is None and payload["normalized_reference"] == {"missing": ["ground_truth"]}


def test_mean_and_iqm_intervals_on_known_cases() -> None:
    assert mean_ci([3.0, 3.0, 3.0]) == (3.0, 3.0, 3.0)  # constant: the interval is the point
    mean, low, high = mean_ci([0.1] * 7)
    assert low == mean == high == pytest.approx(0.1)
    mean, low, high = mean_ci([7.0])  # one seed: no interval, never a fake zero-width one
    assert mean == 7.0 and np.isnan(low) and np.isnan(high)
    assert all(np.isnan(v) for v in mean_ci([]))
    assert mean_ci([8.5, 60.5]) == (34.5, 8.5, 60.5)  # bootstrap means a, (a+b)/2, b: 95% interval [a, b]
    mean, low, high = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and 1.0 < low < 2.5 < high < 4.0
    assert mean_ci([1.0, 2.0, 3.0, 4.0]) == (mean, low, high)  # seeded
    # stratified: seeds are resampled within each task; the constant task adds no spread
    assert mean_ci(np.array([[1.0, 10.0], [3.0, 10.0]])) == (6.0, 5.5, 6.5)
    point, low, high = iqm_ci([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0])  # the middle half: 2, 3, 4, 5
    assert point == 3.5 and low < 3.5 < high
    assert iqm_ci([2.0, 2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    mean, low, high = mean_ci([1.0, np.nan, 2.0])
    assert np.isnan(mean) and np.isnan(low) and np.isnan(high)


def test_run_directory_sac_and_state_normalisation(cartpole_data: Path, pendulum_data: Path, tmp_path: Path) -> None:
    from srl_bench.trainer import train

    run = train("random", pendulum_data, tmp_path / "run", progress=False, device="cpu")
    result = rl_evaluate(run, PENDULUM, algo="sac", timesteps=120, eval_freq=60, normalize_state=True,
                         hyperparams={"learning_starts": 60, "batch_size": 16, "policy_kwargs": {"net_arch": [16]}},
                         **TINY)
    assert result["representation"]["run_dir"] == str(run) and result["representation"]["method"] == "random"
    assert result["env_kwargs"]["image_size"] == 32
    assert result["hyperparams"]["normalize_state"] == "running"
    assert [r["timesteps"] for r in result["curve"]] == [0, 60, 120]
    with pytest.raises(SrlBenchError, match="trained on srl/Pendulum-v0 images, not srl/CartPole-v0"):
        rl_evaluate(run, CARTPOLE, timesteps=64, **TINY)


def test_fixed_normalisation_is_fitted_on_a_warm_up_then_frozen() -> None:
    from stable_baselines3.common.vec_env import VecNormalize

    from srl_bench.rl.envs import EnvFactory
    from srl_bench.rl.representations import Representation

    factory = EnvFactory(CARTPOLE, {"image_size": 32}, Representation(kind="ground_truth", name="ground_truth"),
                         RunnerConfig(frame_stack=2, normalize_state="fixed", normalize_warmup=40))
    venv = factory.build(4, seed=0, training=True)
    assert isinstance(venv, VecNormalize) and not venv.training
    assert venv.obs_rms.mean.shape == (8,) and 40 <= venv.obs_rms.count <= 50  # warm-up steps (+ resets)
    frozen_mean = venv.obs_rms.mean.copy()
    venv.reset()
    venv.step(np.zeros(4, dtype=int))
    assert np.array_equal(venv.obs_rms.mean, frozen_mean)
    with pytest.raises(SrlBenchError, match="key 'normalize_state': must be false"):
        load_rl_config("ppo", CARTPOLE, {"normalize_state": "sometimes"})
    assert load_rl_config("ppo", CARTPOLE, {"normalize_state": "off"}).runner.normalize_state is None
    assert load_rl_config("ppo", CARTPOLE, {"normalize_state": True}).runner.normalize_state == "running"


def test_raw_pixels_uses_the_cnn_policy() -> None:
    result = rl_evaluate("raw_pixels", CARTPOLE, timesteps=64, eval_freq=64, env_kwargs={"image_size": 40},
                         hyperparams={**TINY_PPO, "batch_size": 64}, **TINY)
    assert result["policy"] == "CnnPolicy" and len(result["curve"]) == 2


@pytest.mark.parametrize(("algo", "env_id", "sentence"), [
    ("dqn", PENDULUM, "dqn needs a discrete action space"),
    ("sac", CARTPOLE, "sac needs a continuous (Box) action space"),
    ("td3", CARTPOLE, "td3 needs a continuous (Box) action space"),
])
def test_algorithms_refuse_the_wrong_action_space(algo: str, env_id: str, sentence: str) -> None:
    with pytest.raises(SrlBenchError, match=sentence.replace("(", r"\(").replace(")", r"\)")):
        rl_evaluate("ground_truth", env_id, algo=algo, timesteps=64, **TINY)


def test_cli_rl_and_its_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from srl_bench.cli import main

    out = tmp_path / "cli"
    args = ["rl", "--env", CARTPOLE, "--representation", "ground_truth", "--timesteps", "64", "--seeds", "3",
            "--n-eval", "2", "--eval-freq", "32", "--set", "n_envs=2", "--set", "n_steps=16", "--set", "batch_size=16",
            "--set", "n_epochs=1", "--threads", "1", "--frame-stack", "3", "--save-agents", "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert json.loads((out / "rl.json").read_text())["seeds"] == [3]
    from stable_baselines3 import PPO

    assert PPO.load(out / "agent_seed3.zip", device="cpu").observation_space.shape == (3 * 4,)  # 3 stacked states
    assert "(no interval, 1 seeds)" in capsys.readouterr().out
    assert main(args) == 2  # exists already
    assert "already exists" in capsys.readouterr().err
    assert main(["rl", "--env", PENDULUM, "--representation", "ground_truth", "--algo", "dqn", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "discrete action space" in err
    assert main(["rl", "--env", CARTPOLE, "--representation", "nowhere", "--out", str(tmp_path / "y")]) == 2
    assert "neither one of ground_truth" in capsys.readouterr().err
    assert main(["rl", "--env", CARTPOLE, "--representation", "ground_truth", "--set", "n_epoch=3",
                 "--out", str(tmp_path / "z")]) == 2
    assert "unknown hyper-parameter(s) for ppo: 'n_epoch' (did you mean 'n_epochs'?)" in capsys.readouterr().err
    assert main(["rl", "--env", CARTPOLE, "--representation", "ground_truth", "--set", "gamma=abc",
                 "--out", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "key 'gamma': input should be a valid number" in err and "ppo.yaml" in err
    assert not any((tmp_path / name).exists() for name in ("x", "z", "g"))
    mine = tmp_path / "mine"  # --overwrite replaces only an earlier RL result, checked before any work
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["rl", "--env", CARTPOLE, "--representation", "ground_truth", "--out", str(mine), "--overwrite"]) == 2
    assert "not an earlier srl-bench RL result directory" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_every_config_entry_builds() -> None:
    for algo in ALGOS:
        table = read_yaml_mapping(shipped_file("rl", algo))
        assert table, f"{algo}.yaml is empty"
        for env_id in table:
            config = load_rl_config(algo, env_id)
            assert isinstance(config.runner.n_timesteps, int) and config.runner.n_timesteps >= 1
    ppo = load_rl_config("ppo", CARTPOLE, {"n_epochs": 3, "policy_kwargs": {"activation_fn": "ReLU"}})
    assert ppo.sb3_kwargs["learning_rate"](0.5) == pytest.approx(0.0005)  # lin_0.001 at half-way
    assert ppo.sb3_kwargs["n_epochs"] == 3 and ppo.sb3_kwargs["policy_kwargs"]["activation_fn"] is nn.ReLU
    assert load_rl_config("td3", PENDULUM).sb3_kwargs["train_freq"] == (1, "episode")
    with pytest.raises(SrlBenchError, match="no entry for srl/Pendulum-v0"):
        load_rl_config("dqn", PENDULUM)


def test_rl_config_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    def error(*assignments: str) -> str:
        with pytest.raises(SrlBenchError) as info:
            load_rl_config("ppo", CARTPOLE, parse_assignments(assignments))
        assert "\n" not in str(info.value)
        return str(info.value)

    assert "ppo.yaml [srl/CartPole-v0] with the overrides: unknown hyper-parameter(s) for ppo: 'n_epoch' (did you " \
           "mean 'n_epochs'?)" in error("n_epoch=3")
    assert "'n_env' (did you mean 'n_envs'?)" in error("n_env=3")  # srl-bench's own keys are suggested too
    assert "key 'gamma': input should be a valid number, unable to parse string as a number, got 'abc'" \
        in error("gamma=abc")
    assert "key 'n_envs': input should be greater than or equal to 1, got 0" in error("n_envs=0")
    assert "key 'n_timesteps': input should be a valid integer" in error("n_timesteps=1.5")
    assert "key 'frame_stack': must be a positive integer, not a boolean" in error("frame_stack=true")
    assert "key 'noise_type': input should be 'normal' or 'ornstein-uhlenbeck'" in error("noise_type=pink")
    assert "key 'learning_rate': expected lin_<number>" in error("learning_rate=lin_fast")
    assert "key 'policy_kwargs.activation_fn': 'Relu' is not a torch.nn class" in error("policy_kwargs.activation_fn=Relu")
    assert "seed cannot be set as hyper-parameters" in error("seed=1")

    config = load_rl_config("ppo", CARTPOLE, parse_assignments(["learning_rate=3e-4", "n_timesteps=1e6"]))
    assert config.sb3_kwargs["learning_rate"] == 3e-4 and config.raw["learning_rate"] == 3e-4
    assert config.runner.n_timesteps == 1_000_000 and isinstance(config.runner.n_timesteps, int)
    assert config.runner.eval_freq is None and config.runner.n_eval == 10  # the model's defaults
    # a user's file: numbers as people write them (YAML 1.2), one entry per env id
    path = tmp_path / "mine.yaml"
    path.write_text("srl/CartPole-v0:\n  n_timesteps: 1e5\n  learning_rate: 3e-4\n  train_freq: 4\n")
    with pytest.raises(SrlBenchError, match=r"mine\.yaml \[srl/CartPole-v0\]: unknown hyper-parameter\(s\) for ppo: "
                                            r"'train_freq'"):
        load_rl_config("ppo", CARTPOLE, config_file=path)
    config = load_rl_config("dqn", CARTPOLE, config_file=path)
    assert config.runner.n_timesteps == 100_000 and config.sb3_kwargs == {"learning_rate": 3e-4, "train_freq": 4}
    assert config.source == str(path)
    with pytest.raises(SrlBenchError, match="unknown key 'timestep' \\(did you mean 'timesteps'\\?\\)"):
        rl_evaluate("ground_truth", CARTPOLE, timestep=64, **TINY)
    with pytest.raises(SrlBenchError, match="key 'vec_env': input should be 'dummy' or 'subproc'"):
        rl_evaluate("ground_truth", CARTPOLE, vec_env="threads", **TINY)


def test_ground_truth_and_encoder_wrappers() -> None:
    env = GroundTruthObservation(gym.make(CARTPOLE, image_size=32))
    obs, info = env.reset(seed=1)
    assert obs.shape == (4,) and np.array_equal(obs, info["state"])
    obs, *_, info = env.step(0)
    assert np.array_equal(obs, info["state"])

    from srl_bench.rl.wrappers import make_batch_encoder, optimized_embed

    encoder = ConvEncoder((32, 32, 3), state_dim=5).eval()
    assert optimized_embed(encoder, (32, 32, 3)) is not None
    images = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    fast, eager = make_batch_encoder(encoder, (32, 32, 3))(images), make_batch_encoder(encoder)(images)
    np.testing.assert_allclose(fast, eager, rtol=1e-4, atol=1e-5)

    venv = FrozenEncoderVecEnv(_dummy_vec(CARTPOLE, 2, image_size=32), lambda images: images.reshape(len(images), -1)[:, :7])
    assert venv.reset().shape == (2, 7)
    seen_terminal = False
    for _ in range(200):
        obs, _, dones, infos = venv.step(np.array([0, 0]))
        assert obs.shape == (2, 7) and obs.dtype == np.float32
        for done, info in zip(dones, infos):
            if done:
                assert info["terminal_observation"].shape == (7,)
                seen_terminal = True
    assert seen_terminal


@pytest.mark.parametrize("env_id", [CARTPOLE, PENDULUM, "srl/MiniPacman-v0", "srl/KukaButton-v0"])
def test_state_only_agents_skip_the_drawing_and_see_the_same_episode(env_id: str) -> None:
    from srl_bench.rl.envs import EnvFactory
    from srl_bench.rl.representations import Representation

    kwargs = {} if env_id in (CARTPOLE, PENDULUM) else {"max_steps": 12}
    drawn, blind = gym.make(env_id, **kwargs), GroundTruthObservation(gym.make(env_id, **kwargs))
    drawn.action_space.seed(3)
    actions = [drawn.action_space.sample() for _ in range(12)]
    try:
        for env in (drawn, blind):
            env.reset(seed=5)
        for action in actions:
            frame, reward, *ends, info = drawn.step(action)
            state, blind_reward, *blind_ends, blind_info = blind.step(action)
            assert np.array_equal(state, info["state"]) and reward == blind_reward and ends == blind_ends
            if any(ends):
                break
        assert frame.any() and not blind.unwrapped._frame.any() and not blind.unwrapped.draws_frames
    finally:
        drawn.close()
        blind.close()
    random_policy = EnvFactory(CARTPOLE, {"image_size": 32}, Representation(kind="random_policy", name="random_policy"))
    venv = random_policy.build(2, seed=0, training=False, encode=False)
    assert not any(venv.get_attr("draws_frames")) and not venv.reset().any()
    venv.close()


class CountingRecurrentEncoder(nn.Module):
    """A fake [z, h] encoder: z = mean pixel; h = (steps since the episode began, sum of previous actions)."""

    state_dim = 3

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        return (torch.zeros(batch_size, 2),)

    def encode_step(self, images, prev_actions, hidden):
        (h,) = hidden
        h = h + torch.stack([torch.ones(len(images)), prev_actions[:, 1]], dim=1)
        z = images.float().mean(dim=(1, 2, 3)).unsqueeze(1) * self.scale
        return torch.cat([z, h], dim=1), (h,)


def test_recurrent_encoder_carries_and_resets_its_state() -> None:
    venv = RecurrentEncoderVecEnv(_dummy_vec(CARTPOLE, 2, image_size=32), CountingRecurrentEncoder())
    obs = venv.reset()
    assert obs.shape == (2, 3) and np.allclose(obs[:, 1:], [[1, 0], [1, 0]])
    steps, pushes = np.ones(2), np.zeros(2)
    ended = 0
    for t in range(150):
        actions = np.array([1, t % 2])
        obs, _, dones, infos = venv.step(actions)
        for i in range(2):
            if dones[i]:
                ended += 1
                assert np.allclose(infos[i]["terminal_observation"][1:], [steps[i] + 1, pushes[i] + actions[i]])
                steps[i], pushes[i] = 1, 0  # a fresh episode: initial state, no previous action
            else:
                steps[i] += 1
                pushes[i] += actions[i]
            assert np.allclose(obs[i, 1:], [steps[i], pushes[i]])
    assert ended >= 2

    encoder = CountingRecurrentEncoder()
    result = rl_evaluate(encoder, CARTPOLE, timesteps=64, eval_freq=64, hyperparams=TINY_PPO,
                         env_kwargs={"image_size": 32}, **TINY)
    assert len(result["curve"]) == 2 and float(encoder.scale.detach()) == 1.0


def test_world_models_zh_run_goes_through_the_recurrent_wrapper(cartpole_data: Path, tmp_path: Path) -> None:
    from srl_bench.methods import METHODS

    if "world_models" not in METHODS:
        pytest.skip("the zoo has no world_models method yet")
    from srl_bench.runs import load_run
    from srl_bench.trainer import train

    run = train("world_models", cartpole_data, tmp_path / "wm", overrides={"epochs": 1, "representation": "zh"},
                progress=False, device="cpu")
    encoder = load_run(run)
    assert encoder.state_dim > 4  # [z, h]
    venv = RecurrentEncoderVecEnv(_dummy_vec(CARTPOLE, 2, image_size=32), encoder)
    first = venv.reset()
    obs, *_ = venv.step(np.array([1, 0]))
    assert obs.shape == (2, encoder.state_dim)
    h = slice(encoder.z_dim, None)
    assert np.allclose(first[:, h], 0) and not np.allclose(obs[:, h], 0)  # memory starts empty, then fills
    result = rl_evaluate(run, CARTPOLE, timesteps=64, eval_freq=64, hyperparams=TINY_PPO, **TINY)
    assert result["representation"]["state_dim"] == encoder.state_dim and len(result["curve"]) == 2


@pytest.mark.slow
def test_ppo_ground_truth_cartpole_learns(tmp_path: Path) -> None:
    result = rl_evaluate("ground_truth", CARTPOLE, timesteps=60_000, eval_freq=20_000, seeds=[0], n_eval=10,
                         progress=False, torch_threads=1)
    assert result["score_mean"] > 400, result["curve"]
