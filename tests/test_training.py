"""The trainer: every method learns, early stopping keeps the best weights, and docs/extending.md's
examples work as written."""

from __future__ import annotations

import copy
import importlib
import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import srl_bench.trainer as trainer
from srl_bench.collect import generate_dataset
from srl_bench.methods import METHODS, get_method
from srl_bench.runs import load_model
from srl_bench.trainer import train

ROOT = Path(__file__).resolve().parents[1]
TRAINABLE = sorted(name for name, method in METHODS.items() if method.trainable and method.source != "test")


def _log(run: Path) -> list[dict[str, float]]:
    with open(run / "train_log.csv") as handle:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]


@pytest.mark.parametrize("method", TRAINABLE)
def test_every_method_lowers_its_training_loss(method: str, cartpole_data: Path, tmp_path: Path) -> None:
    overrides = {"epochs": 5, "batch_size": 32, "patience": 5, "lr": 1e-3}
    if method == "world_models":
        overrides["losses"] = {"mdn": {"sequence_length": 4}}
    run = train(method, cartpole_data, tmp_path / method, overrides=overrides, seed=0, progress=False)
    log = _log(run)
    assert len(log) >= 2
    assert log[-1]["train_total"] < log[0]["train_total"], [row["train_total"] for row in log]


def test_early_stopping_keeps_the_best_checkpoint(cartpole_data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    scripted = iter([3.0, 1.0, 2.0, 4.0, 5.0])  # best at epoch 2; patience 2 stops after epoch 4
    snapshots: list[dict[str, torch.Tensor]] = []

    def fake_validate(model, loader, rows, batch_size):
        snapshots.append(copy.deepcopy(model.state_dict()))
        return {"total": next(scripted)}

    monkeypatch.setattr(trainer, "_validate", fake_validate)
    run = train("autoencoder", cartpole_data, tmp_path / "ae", overrides={"epochs": 10, "patience": 2, "batch_size": 32},
                progress=False)
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["epochs_run"], summary["best_epoch"], summary["best_val_loss"]) == (4, 2, 1.0)
    saved = load_model(run).state_dict()
    for key, value in saved.items():
        torch.testing.assert_close(value, snapshots[1][key], rtol=0, atol=0)
    assert any(not torch.equal(saved[key], snapshots[-1][key]) for key in saved)


def _doc_blocks(language: str) -> list[str]:
    text = (ROOT / "docs" / "extending.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_extending_examples_work_as_written(cartpole_data: Path, tmp_path: Path) -> None:
    from srl_bench.losses import LOSS_TERMS
    from srl_bench.methods import zoo

    (term_code,) = _doc_blocks("python")
    (tmp_path / "slowness_term.py").write_text(term_code)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.syspath_prepend(str(tmp_path))
            importlib.import_module("slowness_term")  # registers the `slowness` term, as a module would
        (recipe,) = _doc_blocks("yaml")
        path = tmp_path / "ae_inverse.yaml"
        path.write_text(recipe)
        method = zoo.recipe_method("ae_inverse", path)
        config = method.make_config({"losses": {"slowness": {"weight": 1.0, "margin": 0.5}}})
        assert config.lr == 3e-4 and config.losses["inverse"].head_hidden == (128,)
        assert config.losses["slowness"].margin == 0.5
        METHODS["ae_inverse"] = method
        run = train("ae_inverse", cartpole_data, tmp_path / "run", overrides={"epochs": 1, "batch_size": 32,
                    "losses": {"slowness": 1.0}}, progress=False)
        assert {"train_slowness", "train_inverse", "train_reconstruction"} <= set(_log(run)[0])
    finally:
        sys.modules.pop("slowness_term", None)
        LOSS_TERMS.pop("slowness", None)
        METHODS.pop("ae_inverse", None)


def _as_written_before_format_3(run: Path) -> None:
    """Drop what a run of format 3 adds to the weights: the linear decoder's initialisation flag."""
    weights = torch.load(run / "model.pt", weights_only=True)
    torch.save({k: v for k, v in weights.items() if not k.endswith("bias_initialised")}, run / "model.pt")


def test_a_format_1_run_still_loads(cartpole_data: Path, tmp_path: Path) -> None:
    run = train("denoising_autoencoder", cartpole_data, tmp_path / "dae", overrides={"epochs": 1}, progress=False)
    config_file = run / "config.json"
    saved = json.loads(config_file.read_text())
    # the flat layout srl-bench 0.1 wrote: term parameters at the top level, bare weights
    saved.pop("format")
    saved["config"]["losses"] = {"reconstruction": 1.0}
    saved["config"].update(noise_std=0.1, head_hidden=[64, 64], temperature=0.1)
    config_file.write_text(json.dumps(saved))
    _as_written_before_format_3(run)
    model = load_model(run)
    assert model.objective.terms["reconstruction"].noise_std == 0.1
    assert get_method("denoising_autoencoder").make_config().losses["reconstruction"].noise_std == 0.1


def _white_scene(path: Path, size: int = 16, episodes: int = 10, frames: int = 40) -> Path:
    """Mostly-white frames (as cart-pole's and pendulum's) with a black 3×3 square at a random place."""
    from srl_bench.data.format import DatasetWriter

    rng = np.random.default_rng(0)
    with DatasetWriter(path) as writer:
        for _ in range(episodes):
            places = rng.integers(0, size - 3, (frames, 2))
            images = np.full((frames, size, size, 3), 255, np.uint8)
            for image, (row, col) in zip(images, places):
                image[row:row + 3, col:col + 3] = 0
            writer.add_episode({"observations": images, "states": places.astype(np.float32),
                                "actions": rng.integers(0, 2, frames), "rewards": np.zeros(frames, np.float32),
                                "episode_starts": np.arange(frames) == 0, "terminated": np.zeros(frames, bool)})
        return writer.close(meta={"env_id": "white_scene", "image_shape": [size, size, 3],
                                  "state_names": ["row", "col"], "action_space": {"type": "discrete", "n": 2}})


def test_the_autoencoder_draws_a_small_object_on_a_white_scene(tmp_path: Path) -> None:
    """Below the best constant output (the training frames' mean image) on held-out frames; a decoder
    squashed by a sigmoid saturates to all white here and stays above it (docs/findings.md, section 6)."""
    from srl_bench.data import load_dataset
    from srl_bench.encoder import to_float_nchw
    from srl_bench.runs import run_test_episodes

    data = load_dataset(_white_scene(tmp_path / "scene"))
    run = train("autoencoder", data.path, tmp_path / "ae", overrides={"epochs": 20, "patience": 20, "batch_size": 32,
                                                                     "frame_stack": 1}, progress=False)
    held_out = data.frames_of_episodes(np.asarray(run_test_episodes(run, data)))
    images = to_float_nchw(np.array(data.observations))
    test, fit = images[held_out], images[np.setdiff1d(np.arange(len(images)), held_out)]
    model = load_model(run)
    with torch.no_grad():
        reconstructed = model.objective.terms["reconstruction"].decode(model.encoder.embed(test))
    mean_image_error = float(((fit.mean(dim=0) - test) ** 2).mean())
    assert float(((reconstructed - test) ** 2).mean()) < 0.8 * mean_image_error


def test_a_format_2_run_keeps_its_sigmoid_decoder(cartpole_data: Path, tmp_path: Path) -> None:
    run = train("autoencoder", cartpole_data, tmp_path / "ae", overrides={"epochs": 1}, progress=False)
    config_file = run / "config.json"
    saved = json.loads(config_file.read_text())
    assert saved["format"] == 3 and saved["config"]["losses"]["reconstruction"]["output"] == "linear"
    # what srl-bench 0.3 wrote: no `output`, the decoder squashed by a sigmoid
    saved["format"] = 2
    del saved["config"]["losses"]["reconstruction"]["output"]
    config_file.write_text(json.dumps(saved))
    _as_written_before_format_3(run)
    term = load_model(run).objective.terms["reconstruction"]
    assert term.output == "sigmoid"
    state = torch.randn(4, term.decoder.fc.in_features)
    assert torch.equal(term.decode(state), torch.sigmoid(term.decoder(state)))


def _nan_after(monkeypatch: pytest.MonkeyPatch, steps: int, term: str = "reconstruction") -> None:
    """Make the objective's ``term`` NaN from training step ``steps`` + 1 on (validation untouched)."""
    from srl_bench.losses import Objective

    original, calls = Objective.forward, {"n": 0}

    def forward(self, batch):
        total, logged = original(self, batch)
        if self.training:
            calls["n"] += 1
            if calls["n"] > steps:
                logged = {**logged, term: float("nan"), "total": float("nan")}
                total = total * float("nan")
        return total, logged

    monkeypatch.setattr(Objective, "forward", forward)


def _strict_json(path: Path) -> dict:
    def refuse(constant: str):
        raise ValueError(f"{path} holds {constant}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_divergence_keeps_the_last_good_epoch(cartpole_data: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    overrides = {"epochs": 5, "batch_size": 32, "patience": 5}
    _nan_after(monkeypatch, 12)  # in epoch 2: the tiny dataset fills about 8 batches of 32 frames an epoch
    run = train("autoencoder", cartpole_data, tmp_path / "ae", overrides=overrides, progress=False)
    summary = _strict_json(run / "summary.json")
    assert summary["stopped"] == "diverged" and summary["diverged"]["term"] == "reconstruction"
    assert summary["diverged"]["step"] == 13 and summary["best_epoch"] >= 1
    assert (run / "model.pt").is_file() and torch.isfinite(next(iter(load_model(run).parameters()))).all()
    assert "training diverged: the 'reconstruction' loss became nan at step 13" in capsys.readouterr().err


def test_divergence_before_any_good_epoch_publishes_nothing(cartpole_data: Path, tmp_path: Path, monkeypatch) -> None:
    from srl_bench.errors import SrlBenchError

    _nan_after(monkeypatch, 0)
    with pytest.raises(SrlBenchError, match="'reconstruction' loss became nan at step 1 .*nothing was kept"):
        train("autoencoder", cartpole_data, tmp_path / "ae", overrides={"epochs": 3}, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_summary_is_strict_json_and_says_why_training_stopped(cartpole_data: Path, tmp_path: Path) -> None:
    untrained = _strict_json(train("random", cartpole_data, tmp_path / "r", progress=False) / "summary.json")
    assert untrained["stopped"] == "not_trained" and untrained["best_val_loss"] is None
    capped = _strict_json(train("autoencoder", cartpole_data, tmp_path / "a", overrides={"epochs": 1},
                                progress=False) / "summary.json")
    assert capped["stopped"] == "epoch_cap" and capped["epochs_run"] == capped["epochs_cap"] == 1


def test_train_stays_a_function_after_importing_the_benchmark_package() -> None:
    import srl_bench
    import srl_bench.bench  # noqa: F401

    assert callable(srl_bench.train) and callable(srl_bench.evaluate)


def test_prefetched_batches_are_the_batches_in_turn(tmp_path: Path) -> None:
    """The loader's background prefetch (used on CUDA) gives the same batches, in order, as making them
    in turn; an error in the thread reaches the caller; leaving early stops the thread."""
    import threading

    from srl_bench.data import load_dataset
    from srl_bench.trainer import BatchLoader, prefetched

    data = load_dataset(generate_dataset("srl/CartPole-v0", 4, tmp_path / "d", image_size=16, max_steps=15,
                                         progress=False))
    loader = BatchLoader(data, torch.device("cpu"), needs_next=True, frame_stack=2)
    chunks = [np.arange(i, i + 5) for i in range(0, 40, 5)]
    in_turn = list(loader.batches(chunks))
    ahead = list(loader.batches(chunks, ahead=2))
    assert len(ahead) == len(in_turn) == len(chunks)
    for a, b in zip(ahead, in_turn):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    def broken(item):
        if item == 3:
            raise ValueError("row 3 is unreadable")
        return {"x": np.full(2, item)}

    with pytest.raises(ValueError, match="row 3 is unreadable"):
        list(prefetched(broken, list(range(6)), torch.device("cpu"), 2))
    before = threading.active_count()
    for _ in zip(range(2), prefetched(broken, list(range(3)), torch.device("cpu"), 1)):
        pass
    assert threading.active_count() == before


# --- resuming an interrupted training -------------------------------------------------------------

def _interrupt_after_epoch(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    """Make training stop (as Ctrl-C would) right after the checkpoint of ``epoch`` is kept."""
    from srl_bench.resume import TrainCheckpoint

    save = TrainCheckpoint.save

    def save_then_stop(self, state):
        save(self, state)
        if state["epoch"] == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(TrainCheckpoint, "save", save_then_stop)


def test_an_interrupted_training_resumes_to_the_weights_of_an_uninterrupted_one(
        cartpole_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from srl_bench.resume import kept_training, resume_dir_for

    overrides = {"epochs": 4, "patience": 10, "batch_size": 32}  # the VAE samples: torch's generator matters too
    whole = train("vae", cartpole_data, tmp_path / "whole", overrides=overrides, seed=3, progress=False)
    assert not resume_dir_for(whole).exists()
    out = tmp_path / "resumed"
    with monkeypatch.context() as patch:
        _interrupt_after_epoch(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            train("vae", cartpole_data, out, overrides=overrides, seed=3, progress=False)
    assert not out.exists() and (resume_dir_for(out) / "checkpoint.pt").is_file()
    assert f"training is kept after epoch 2 in {resume_dir_for(out)}" in capsys.readouterr().err
    kept = kept_training(out)  # what the benchmark runner reads to schedule it
    assert kept is not None and kept["epoch"] == 2 and kept["seconds"] > 0
    resumed = train("vae", cartpole_data, out, overrides=overrides, seed=3, progress=False)
    assert "resuming training after epoch 2" in capsys.readouterr().err
    assert not resume_dir_for(out).exists(), "a published run leaves no checkpoint behind"
    a, b = torch.load(whole / "model.pt"), torch.load(resumed / "model.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    without_seconds = [[{k: v for k, v in row.items() if k != "seconds"} for row in _log(run)] for run in (whole, resumed)]
    assert without_seconds[0] == without_seconds[1] and len(without_seconds[0]) == 4
    summaries = [json.loads((run / "summary.json").read_text()) for run in (whole, resumed)]
    assert summaries[0]["resumed_after_epoch"] is None and summaries[1]["resumed_after_epoch"] == 2
    assert summaries[0]["best_epoch"] == summaries[1]["best_epoch"]


def test_a_checkpoint_of_other_settings_is_not_resumed(cartpole_data: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    out = tmp_path / "ae"
    with monkeypatch.context() as patch:
        _interrupt_after_epoch(patch, 1)
        with pytest.raises(KeyboardInterrupt):
            train("autoencoder", cartpole_data, out, overrides={"epochs": 3, "batch_size": 32}, progress=False)
    capsys.readouterr()
    run = train("autoencoder", cartpole_data, out, overrides={"epochs": 3, "batch_size": 32, "lr": 3e-4}, progress=False)
    err = capsys.readouterr().err
    assert "was made with other config; training starts afresh" in err and "resuming" not in err
    assert json.loads((run / "summary.json").read_text())["resumed_after_epoch"] is None


def test_a_folder_in_the_way_of_the_checkpoint_is_refused_untouched(cartpole_data: Path, tmp_path: Path, capsys) -> None:
    from srl_bench.cli import main
    from srl_bench.resume import resume_dir_for

    out = tmp_path / "ae"
    foreign = resume_dir_for(out)
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert main(["train", "autoencoder", "--data", str(cartpole_data), "--out", str(out), "--set", "epochs=1"]) == 2
    err = capsys.readouterr().err
    assert "is in the way of srl-bench's resume area" in err and "Traceback" not in err
    assert (foreign / "notes.txt").read_text() == "mine" and not out.exists()
