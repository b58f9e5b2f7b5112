"""Training, run directories and the command line end to end, including bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import srl_bench
from srl_bench.cli import main
from srl_bench.trainer import train

FAST = {"epochs": 2, "batch_size": 32, "max_val_frames": 64}


def test_run_directory_reloads_the_same_encoder(cartpole_data: Path, tmp_path: Path) -> None:
    run = train("autoencoder", cartpole_data, tmp_path / "ae", overrides={**FAST, "state_dim": 3}, seed=1,
                progress=False)
    assert {"config.json", "dataset.json", "model.pt", "train_log.csv", "summary.json"} <= {p.name for p in run.iterdir()}
    config = json.loads((run / "config.json").read_text())
    assert config["method"] == "autoencoder" and config["state_dim"] == 3 and config["seed"] == 1
    log_lines = (run / "train_log.csv").read_text().splitlines()
    assert log_lines[0].startswith("epoch,train_reconstruction,train_total,val_reconstruction")
    assert len(log_lines) == 3  # header + 2 epochs
    encoder = srl_bench.load_run(run)
    assert isinstance(encoder, srl_bench.Encoder) and encoder.state_dim == 3
    images = srl_bench.load_dataset(cartpole_data).observations[:7]
    states = encoder.encode(images)
    assert states.shape == (7, 3) and states.dtype == np.float32
    np.testing.assert_allclose(srl_bench.load_run(run).encode(images), states)
    with torch.no_grad():  # forward takes uint8 N×H×W×C tensors too
        np.testing.assert_allclose(encoder(torch.as_tensor(np.array(images))).numpy(), states, rtol=1e-5)


def test_held_out_episodes_never_reach_training(cartpole_data: Path, tmp_path: Path) -> None:
    run = train("supervised", cartpole_data, tmp_path / "sup", overrides=FAST, progress=False)
    split = json.loads((run / "config.json").read_text())["split"]
    assert split["test_episodes"] and not set(split["test_episodes"]) & set(split["val_episodes"])
    metrics = srl_bench.evaluate(run, cartpole_data)
    assert metrics["split"]["source"] == "given"
    assert metrics["split"]["test_episodes"] == split["test_episodes"]


def test_same_seed_same_weights_and_metrics(cartpole_data: Path, tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        run = train("supervised", cartpole_data, tmp_path / name, overrides=FAST, seed=3, progress=False)
        results.append((torch.load(run / "model.pt"), srl_bench.evaluate(run, cartpole_data)))
    (weights_a, metrics_a), (weights_b, metrics_b) = results
    for key in weights_a:
        torch.testing.assert_close(weights_a[key], weights_b[key], rtol=0, atol=0)
    metrics_a.pop("dataset"), metrics_b.pop("dataset")
    assert metrics_a == metrics_b


def test_supervised_learns_something(cartpole_data: Path, tmp_path: Path) -> None:
    random_run = train("random", cartpole_data, tmp_path / "rand", progress=False)
    supervised = train("supervised", cartpole_data, tmp_path / "sup", overrides={**FAST, "epochs": 15}, progress=False)
    random_r2 = srl_bench.evaluate(random_run, cartpole_data)["probe_linear_r2"]
    supervised_r2 = srl_bench.evaluate(supervised, cartpole_data)["probe_linear_r2"]
    assert supervised_r2 > random_r2


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, run = tmp_path / "data", tmp_path / "run"
    assert main(["generate", "srl/Pendulum-v0", "--episodes", "6", "--out", str(data), "--image-size", "24",
                 "--max-steps", "20", "--workers", "2", "--quiet"]) == 0
    assert "Box(1,)" in capsys.readouterr().out
    assert main(["dataset", str(data), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "126" in out and "cos_theta, sin_theta, theta_dot" in out and "all match" in out
    assert main(["methods"]) == 0
    assert "supervised" in capsys.readouterr().out
    assert main(["envs"]) == 0
    listing = capsys.readouterr().out
    assert "srl/MiniPacman-v0" in listing and "cos_theta, sin_theta, theta_dot" in listing
    assert main(["train", "autoencoder", "--data", str(data), "--out", str(run), "--epochs", "1", "--state-dim", "2",
                 "--set", "batch_size=16", "--quiet"]) == 0
    assert "state_dim 2" in capsys.readouterr().out
    assert main(["evaluate", str(run), "--data", str(data)]) == 0
    assert "probe_linear_r2" in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["state_dim"] == 2
    # scored on exactly the run's held-out episodes, every one of their frames, per true dimension
    test_episodes = json.loads((run / "config.json").read_text())["split"]["test_episodes"]
    assert metrics["split"]["test_episodes"] == test_episodes
    dataset = srl_bench.load_dataset(data)
    assert metrics["n_eval_frames"] == len(dataset.frames_of_episodes(np.array(test_episodes)))
    per_dim = metrics["probe_linear_r2_per_dim"]
    assert set(per_dim) == {"cos_theta", "sin_theta", "theta_dot"}
    assert metrics["probe_linear_r2"] == pytest.approx(np.mean(list(per_dim.values())))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["generate", "srl/Nope-v0", "--episodes", "2", "--out", "{tmp}/d"], "unknown environment"),
        (["generate", "srl/CartPole-v0", "--episodes", "2", "--out", "{tmp}/d", "--image-size", "0"], "image_size"),
        (["generate", "srl/CartPole-v0", "--episodes", "0", "--out", "{tmp}/d"], "--episodes"),
        (["dataset", "{tmp}/missing"], "does not exist"),
        (["train", "nope", "--data", "{data}", "--out", "{tmp}/r"], "unknown method"),
        (["train", "autoencoder", "--data", "{data}", "--out", "{tmp}/r", "--state-dim", "0"], "state-dim"),
        (["train", "autoencoder", "--data", "{tmp}/missing", "--out", "{tmp}/r"], "does not exist"),
        (["train", "autoencoder", "--data", "{data}", "--out", "{tmp}/r", "--set", "lr=fast"], "lr"),
        (["train", "autoencoder", "--data", "{data}", "--out", "{tmp}/r", "--set", "colour=red"], "valid keys"),
        (["evaluate", "{tmp}", "--data", "{data}"], "not a run directory"),
        (["benchmark", "{tmp}/missing.yaml"], "does not exist"),
    ],
)
def test_bad_input_gets_one_sentence_and_no_output(argv: list[str], message: str, tmp_path: Path,
                                                   cartpole_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    argv = [a.format(tmp=work, data=cartpole_data) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("srl-bench: error:") and message in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert list(work.iterdir()) == []  # nothing half-written


@pytest.mark.parametrize("method", ["pca", "random", "raw_pixels"])
def test_cli_trains_the_baselines_without_gradient_steps(method: str, cartpole_data: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Baselines fitted in closed form or left untrained have no validation loss to print."""
    assert main(["train", method, "--data", str(cartpole_data), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"trained {method} -> " in out and "no gradient training" in out


def test_readout_reads_a_world_models_run_as_z_h_without_training(cartpole_data: Path, tmp_path: Path, capsys) -> None:
    run = train("world_models", cartpole_data, tmp_path / "wm", overrides={**FAST, "losses": {"mdn": {"sequence_length": 4}}},
                progress=False)
    assert main(["readout", str(run), "--set", "representation=zh", "--out", str(tmp_path / "wm_zh")]) == 0
    assert "state_dim 36, the same weights (no training)" in capsys.readouterr().out
    assert srl_bench.load_run(tmp_path / "wm_zh").state_dim == 4 + 32
    assert (tmp_path / "wm_zh" / "model.pt").read_bytes() == (run / "model.pt").read_bytes()
    # what would change the training, nothing to read, or an output that exists: one sentence each
    for out, argv, message in (("new", ["--set", "lr=0.1"], "lr as given would change what"),
                               ("new", [], "say how to read the run"),
                               ("wm_zh", ["--set", "representation=zh"], "already exists")):
        assert main(["readout", str(run), "--out", str(tmp_path / out), *argv]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
