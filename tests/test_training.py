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

import pytest
import torch

import srl_bench.train as trainer
from srl_bench.methods import METHODS, get_method
from srl_bench.runs import load_model
from srl_bench.train import train

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


def test_a_format_1_run_still_loads(cartpole_data: Path, tmp_path: Path) -> None:
    run = train("denoising_autoencoder", cartpole_data, tmp_path / "dae", overrides={"epochs": 1}, progress=False)
    config_file = run / "config.json"
    saved = json.loads(config_file.read_text())
    # the flat layout srl-bench 0.1 wrote: term parameters at the top level, bare weights
    saved.pop("format")
    saved["config"]["losses"] = {"reconstruction": 1.0}
    saved["config"].update(noise_std=0.1, head_hidden=[64, 64], temperature=0.1)
    config_file.write_text(json.dumps(saved))
    model = load_model(run)
    assert model.objective.terms["reconstruction"].noise_std == 0.1
    assert get_method("denoising_autoencoder").make_config().losses["reconstruction"].noise_std == 0.1
