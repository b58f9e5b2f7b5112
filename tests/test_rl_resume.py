"""An interrupted `srl-bench rl` keeps each finished seed beside its output; the same call again resumes.

Tiny budgets (as tests/test_rl.py): what is checked is the bookkeeping, not what the agent learns.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from srl_bench.errors import SrlBenchError
from srl_bench.publish import Publisher, clean_stale
from srl_bench.rl import read_curve, rl_evaluate
from srl_bench.rl import agent, runner
from srl_bench.resume import RESUME_MARKER, resume_dir_for

CARTPOLE = "srl/CartPole-v0"
TINY_PPO = {"n_envs": 4, "n_steps": 16, "batch_size": 32, "n_epochs": 1}
TWO_SEEDS = dict(timesteps=128, eval_freq=64, seeds=[0, 1], n_eval=2, hyperparams=TINY_PPO, progress=False,
                 torch_threads=1)
TIMING = ("seconds", "env_steps_per_second")


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _count_training(monkeypatch: pytest.MonkeyPatch, interrupt_at: int | None = None) -> list[int]:
    """Record the seeds ``train_one_seed`` is called for; Ctrl-C (KeyboardInterrupt) at ``interrupt_at``."""
    calls: list[int] = []
    real = agent.train_one_seed  # the module's own, not an earlier patch's

    def train_one_seed(run, seed, curve):
        calls.append(seed)
        if seed == interrupt_at:
            raise KeyboardInterrupt
        return real(run, seed, curve)

    monkeypatch.setattr(runner, "train_one_seed", train_one_seed)
    return calls


def _result(out: Path) -> tuple[dict, list[dict]]:
    """rl.json and curve.csv of an output, without their timing fields."""
    payload = json.loads((out / "rl.json").read_text())
    rows = read_curve(out / "curve.csv")
    return ({k: v for k, v in payload.items() if k not in TIMING},
            [{k: v for k, v in row.items() if k != "wall_seconds"} for row in rows])


def test_interrupted_run_resumes_from_its_finished_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    fresh = tmp_path / "fresh"
    rl_evaluate("ground_truth", CARTPOLE, out=fresh, save_agents=True, **TWO_SEEDS)
    assert not resume_dir_for(fresh).exists(), "a finished run leaves no resume area"

    out = tmp_path / "gt"
    area = resume_dir_for(out)
    assert area == tmp_path / ".gt.partial"
    calls = _count_training(monkeypatch, interrupt_at=1)
    with pytest.raises(KeyboardInterrupt):
        rl_evaluate("ground_truth", CARTPOLE, out=out, save_agents=True, **TWO_SEEDS)
    assert calls == [0, 1]
    assert not out.exists() and not list(tmp_path.glob(".gt.tmp-*")), "no output from an interrupted run"
    assert sorted(p.name for p in area.iterdir()) == sorted(["agent_seed0.zip", RESUME_MARKER, "seed0.json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"srl-bench: seeds 0 finished and are kept in {area}; run the same command again to resume " \
                      "from them"
    # the area is nobody's leftover: the publisher's stale-cleaning and its checks leave it alone
    assert clean_stale(out) == [] and area.is_dir()
    Publisher(out, "rl")
    assert (area / "seed0.json").is_file()

    calls = _count_training(monkeypatch)
    result = rl_evaluate("ground_truth", CARTPOLE, out=out, save_agents=True, **TWO_SEEDS)
    assert calls == [1], "only the unfinished seed is trained"
    assert f"srl-bench: resuming: seeds 0 reused from {area}" in capsys.readouterr().err
    assert _result(out) == _result(fresh)
    assert result["curve"] == read_curve(out / "curve.csv")
    assert sorted(p.name for p in out.glob("agent_seed*.zip")) == ["agent_seed0.zip", "agent_seed1.zip"]
    from stable_baselines3 import PPO

    assert list(PPO.load(out / "agent_seed0.zip", device="cpu").observation_space.shape) == \
        result["agent_observation_shape"]
    assert not area.exists(), "the resume area is removed once the output is published"


def test_changed_hyperparameter_retrains_the_kept_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from srl_bench.cli import main

    out = tmp_path / "cli"
    area = resume_dir_for(out)
    args = ["rl", "--env", CARTPOLE, "--representation", "ground_truth", "--timesteps", "64", "--seeds", "0,1",
            "--n-eval", "2", "--eval-freq", "32", "--set", "n_envs=2", "--set", "n_steps=16", "--set", "batch_size=16",
            "--threads", "1", "--out", str(out), "--quiet"]
    calls = _count_training(monkeypatch, interrupt_at=1)
    assert main([*args, "--set", "n_epochs=1"]) == 130
    assert calls == [0, 1] and (area / "seed0.json").is_file() and not out.exists()
    assert "run the same command again to resume" in capsys.readouterr().err

    calls = _count_training(monkeypatch)
    assert main([*args, "--set", "n_epochs=2"]) == 0
    assert calls == [0, 1], "a seed kept with other hyper-parameters is trained again"
    err = capsys.readouterr().err
    assert f"seeds 0 kept in {area} are trained again (other hyperparams)" in err and "reused" not in err
    assert json.loads((out / "rl.json").read_text())["hyperparams"]["n_epochs"] == 2
    assert not area.exists()


def test_resume_area_is_only_ever_srl_benchs_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "mine"
    area = resume_dir_for(out)
    area.mkdir()
    (area / "notes.txt").write_text("keep me")
    with pytest.raises(SrlBenchError, match=r"\.mine\.partial is in the way of srl-bench's resume area"):
        rl_evaluate("ground_truth", CARTPOLE, out=out, **TWO_SEEDS)
    assert (area / "notes.txt").read_text() == "keep me" and not out.exists()

    monkeypatch.chdir(tmp_path)  # no output (the Python API's out=None): no resume area either
    calls = _count_training(monkeypatch, interrupt_at=1)
    with pytest.raises(KeyboardInterrupt):
        rl_evaluate("ground_truth", CARTPOLE, **TWO_SEEDS)
    assert calls == [0, 1] and not list(tmp_path.rglob("seed0.json"))
