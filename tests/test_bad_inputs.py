"""Bad input, across the command line and the Python API: one clear sentence, exit status 2 (or an
``SrlBenchError``), no traceback, and nothing half-written.

Datasets and runs are damaged copies of tiny ones made once per module; every case names the
substring its sentence must hold.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import srl_bench
from srl_bench.cli import main
from srl_bench.errors import SrlBenchError

QUIET = {"progress": False}


# --- shared data -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, cartpole_data: Path) -> dict[str, Path]:
    """Small datasets beside the session's ones, and a run to damage (``random``: nothing to train)."""
    from srl_bench.collect import generate_dataset

    root = tmp_path_factory.mktemp("bad_inputs")
    small = {"max_steps": 8, "progress": False}
    return {
        "other_cartpole": generate_dataset("srl/CartPole-v0", 3, root / "other", seed=1, image_size=32, **small),
        "cartpole16": generate_dataset("srl/CartPole-v0", 3, root / "c16", image_size=16, **small),
        "cartpole8": generate_dataset("srl/CartPole-v0", 4, root / "c8", image_size=8, **small),
        "one_episode": generate_dataset("srl/CartPole-v0", 1, root / "one", image_size=32, **small),
        "run": srl_bench.train("random", cartpole_data, root / "run", **QUIET),
    }


def case_id(index: int, message: str) -> str:
    return f"{index:02d}-" + re.sub(r"[^A-Za-z0-9_.'-]+", "_", message)[:40]


def copy_of(source: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def one_sentence(message: str) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message
    assert not re.search(r"[.;:]\s+[A-Z][a-z]", message), f"more than one sentence: {message}"


def nothing_left(*outputs: Path) -> None:
    """No output at these paths, and no temporary sibling of any of them."""
    for out in outputs:
        assert not out.exists(), f"{out} was left behind"
        assert not list(out.parent.glob(".*.tmp-*")), f"temporary directories left beside {out}"


def api_fails(call: Callable[[], Any], message: str) -> str:
    with pytest.raises(SrlBenchError) as info:
        call()
    text = str(info.value)
    assert message in text, text
    one_sentence(text)
    return text


def cli_fails(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("srl-bench: error: "), err
    assert message in err, err
    one_sentence(err)
    return err


# --- datasets ----------------------------------------------------------------------------------------

def edit_meta(**changes: Any) -> Callable[[Path], None]:
    """Set keys of meta.json (a value of ``...`` drops the key)."""
    def damage(path: Path) -> None:
        meta = json.loads((path / "meta.json").read_text())
        for key, value in changes.items():
            if value is ...:
                meta.pop(key)
            else:
                meta[key] = value
        (path / "meta.json").write_text(json.dumps(meta))
    return damage


def write_meta(text: str) -> Callable[[Path], None]:
    return lambda path: (path / "meta.json").write_text(text)


def edit_array(name: str, change: Callable[[np.ndarray], np.ndarray | None]) -> Callable[[Path], None]:
    """Rewrite ``name``.npy with ``change`` applied to a writable copy of it (in place if it returns None)."""
    def damage(path: Path) -> None:
        array = np.array(np.load(path / f"{name}.npy"))
        result = change(array)
        np.save(path / f"{name}.npy", array if result is None else result)
    return damage


def set_item(index: Any, value: Any) -> Callable[[np.ndarray], None]:
    def change(array: np.ndarray) -> None:
        array[index] = value
    return change


def truncate(name: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        file = path / f"{name}.npy"
        size = file.stat().st_size
        with open(file, "r+b") as handle:
            handle.truncate(size // 2)
    return damage


DATASET_CASES = [
    # (dataset fixture, damage, message)
    ("cartpole_data", write_meta("{not json"), "meta.json is not valid JSON"),
    ("cartpole_data", write_meta("[1, 2, 3]"), "meta.json must hold a JSON object, not a list"),
    ("cartpole_data", edit_meta(format_version=99), "dataset format version 99"),
    ("cartpole_data", edit_meta(state_names=...), "meta.json lacks 'state_names'"),
    ("cartpole_data", edit_meta(action_space=...), "meta.json lacks 'action_space'"),
    ("cartpole_data", edit_meta(image_shape=...), "meta.json lacks 'image_shape'"),
    ("cartpole_data", edit_meta(n_episodes=...), "meta.json lacks 'n_episodes'"),
    ("cartpole_data", edit_meta(n_frames=...), "meta.json lacks 'n_frames'"),
    ("cartpole_data", edit_meta(env_id=...), "meta.json lacks 'env_id'"),
    ("cartpole_data", edit_meta(image_shape=[32, 32]), "'image_shape' in meta.json must be [height, width, channels]"),
    ("cartpole_data", edit_meta(state_names="cart_x"), "'state_names' in meta.json must be a non-empty list"),
    ("cartpole_data", edit_meta(action_space={"type": "multi"}), "'action_space' in meta.json must be of type"),
    ("cartpole_data", edit_meta(action_space={"type": "discrete"}), "needs a positive integer 'n'"),
    ("cartpole_data", edit_meta(n_episodes=-3), "'n_episodes' in meta.json must be a non-negative integer"),
    ("cartpole_data", edit_meta(n_episodes=11), "meta.json says 11 episodes but episode_starts.npy marks 12"),
    ("cartpole_data", edit_meta(image_shape=[16, 16, 3]),
     "observations.npy holds 32×32×3 images but meta.json's image_shape is 16×16×3"),
    ("cartpole_data", edit_meta(state_names=["a", "b", "c"]), "states.npy has 4 columns but meta.json names 3"),
    ("cartpole_data", edit_meta(episode_lengths=[1, 2]), "episode_lengths do not match"),
    ("cartpole_data", edit_array("observations", lambda a: a.astype(np.float32) / 255),
     "observations.npy holds a float32 array of shape (", ),
    ("cartpole_data", edit_array("observations", lambda a: a.reshape(len(a), 32, 96)),
     ", 32, 96), but observations must be uint8 images (N, H, W, C)"),
    ("cartpole_data", edit_array("states", lambda a: a[:-1]), "states.npy has"),
    ("cartpole_data", edit_array("rewards", lambda a: a[:-2]), "rewards.npy has"),
    ("cartpole_data", edit_array("states", lambda a: a.astype(np.float64)), "but states must be float32 (N, D)"),
    ("cartpole_data", edit_array("states", set_item((7, 2), np.nan)), "states.npy holds nan in row 7 (episode 0)"),
    ("cartpole_data", edit_array("states", set_item((40, 0), -np.inf)), "states.npy holds -inf in row 40"),
    ("cartpole_data", edit_array("rewards", set_item(20, np.inf)), "rewards.npy holds inf in row 20"),
    ("cartpole_data", edit_array("actions", set_item(3, 2)),
     "actions.npy holds action 2 in row 3 (episode 0), outside the declared discrete actions 0..1"),
    ("cartpole_data", edit_array("actions", set_item(5, -1)), "actions.npy holds action -1 in row 5"),
    ("cartpole_data", edit_array("actions", lambda a: a.astype(np.int32)), "but actions must be int64 (N,)"),
    ("cartpole_data", edit_array("episode_starts", set_item(0, False)), "its first row does not start an episode"),
    ("cartpole_data", edit_array("terminated", lambda a: a.astype(np.uint8)), "but terminated must be bool (N,)"),
    ("cartpole_data", truncate("observations"), "observations.npy is truncated or corrupt"),
    ("pendulum_data", edit_array("actions", set_item((2, 0), 5.0)),
     "actions.npy holds [5.0] in row 2 (episode 0), outside the declared action bounds [-2.0] .. [2.0]"),
    ("pendulum_data", edit_array("actions", set_item((4, 0), np.nan)), "actions.npy holds nan in row 4"),
    ("pendulum_data", edit_array("actions", lambda a: np.concatenate([a, a], axis=1)),
     "actions.npy has 2 columns but the declared box action space has shape [1]"),
    ("pendulum_data", edit_meta(action_space={"type": "box", "shape": [1], "low": [-2.0, -2.0], "high": [2.0]}),
     "has 2 'low' values for its shape [1]"),
]


@pytest.mark.parametrize("fixture, damage, message", DATASET_CASES,
                         ids=[case_id(i, c[2]) for i, c in enumerate(DATASET_CASES)])
def test_damaged_dataset_is_refused_in_one_sentence(fixture: str, damage: Callable[[Path], None], message: str,
                                                    request: pytest.FixtureRequest, tmp_path: Path) -> None:
    copy = copy_of(request.getfixturevalue(fixture), tmp_path)
    damage(copy)
    text = api_fails(lambda: srl_bench.load_dataset(copy), message)
    assert str(copy) in text  # the sentence names the dataset
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_a_good_dataset_still_loads_and_its_last_zero_actions_are_not_checked(pendulum_data: Path,
                                                                              tmp_path: Path) -> None:
    """Bounds that exclude 0: the placeholder zero action of each episode's last row is not an action."""
    copy = copy_of(pendulum_data, tmp_path)
    starts = np.load(copy / "episode_starts.npy")
    last_rows = np.r_[np.flatnonzero(starts)[1:] - 1, len(starts) - 1]
    edit_array("actions", lambda a: np.where(np.isin(np.arange(len(a)), last_rows)[:, None], 0.0,
                                             np.clip(a, 0.5, 2.0)).astype(np.float32))(copy)
    edit_meta(action_space={"type": "box", "shape": [1], "low": [0.5], "high": [2.0]})(copy)
    assert len(srl_bench.load_dataset(copy)) == len(starts)


@pytest.mark.parametrize(
    "command, damage, message",
    [
        ("dataset", edit_meta(state_names=...), "meta.json lacks 'state_names'"),
        ("train", edit_array("observations", lambda a: a.astype(np.float32)), "but observations must be uint8"),
        ("train", edit_array("states", set_item((3, 1), np.nan)), "states.npy holds nan in row 3"),
        ("evaluate", edit_array("actions", set_item(0, 7)), "actions.npy holds action 7 in row 0"),
    ],
)
def test_damaged_dataset_on_the_command_line(command: str, damage: Callable[[Path], None], message: str,
                                             made: dict[str, Path], cartpole_data: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    copy = copy_of(cartpole_data, tmp_path)
    damage(copy)
    work = tmp_path / "work"
    work.mkdir()
    argv = {
        "dataset": ["dataset", copy],
        "train": ["train", "random", "--data", copy, "--out", work / "run", "--quiet"],
        "evaluate": ["evaluate", made["run"], "--data", copy, "--out", work / "metrics.json"],
    }[command]
    cli_fails(argv, message, capsys)
    nothing_left(work / "run", work / "metrics.json", made["run"] / "metrics.json")


def test_a_dataset_without_its_descriptive_keys_is_summarised(cartpole_data: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """policy and seed only describe how the data was collected: loading does not need them."""
    copy = copy_of(cartpole_data, tmp_path)
    edit_meta(policy=..., seed=...)(copy)
    assert len(srl_bench.load_dataset(copy)) > 0
    assert main(["dataset", str(copy)]) == 0
    assert "Traceback" not in capsys.readouterr().err


# --- run directories ---------------------------------------------------------------------------------

def edit_config(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        config = json.loads((run / "config.json").read_text())
        change(config)
        (run / "config.json").write_text(json.dumps(config))
    return damage


def remove(name: str) -> Callable[[Path], None]:
    return lambda run: (run / name).unlink()


def write(name: str, content: str) -> Callable[[Path], None]:
    return lambda run: (run / name).write_text(content)


RUN_CASES = [
    # (damage, message); each is tried through load_run, evaluate and the command line
    (lambda run: shutil.rmtree(run), "does not exist; train one with `srl-bench train`"),
    (remove("config.json"), "is not a run directory (no config.json)"),
    (write("config.json", '{"method": "random", '), "config.json is not valid JSON"),
    (write("config.json", '"random"'), "config.json must hold a JSON object, not a str"),
    (edit_config(lambda c: c.pop("method")), "does not say which method trained the run (no 'method')"),
    (edit_config(lambda c: c.update(method="randon")),
     "was trained with the method 'randon', which this srl-bench does not know (did you mean 'random'?)"),
    (edit_config(lambda c: c.pop("config")), "has no 'config' mapping"),
    (edit_config(lambda c: c.pop("data_meta")), "has no 'data_meta'"),
    (edit_config(lambda c: c["data_meta"].pop("image_shape")), "its 'data_meta' lacks 'image_shape'"),
    (edit_config(lambda c: c["config"].update(lr=-1)), "the run does not fit this srl-bench, train it again"),
    (remove("model.pt"), "has no model.pt; the run did not finish, train it again"),
    (write("model.pt", "not a checkpoint"), "model.pt cannot be read"),
]
EVALUATE_ONLY_CASES = [
    (remove("dataset.json"), "has no dataset.json"),
    (write("dataset.json", "{"), "dataset.json is not valid JSON"),
]


RUN_API_CASES = [pytest.param(api, damage, message, id=f"{api}-{case_id(i, message)}")
                 for api, cases in (("load_run", RUN_CASES), ("evaluate", RUN_CASES + EVALUATE_ONLY_CASES))
                 for i, (damage, message) in enumerate(cases)]


@pytest.mark.parametrize("api, damage, message", RUN_API_CASES)
def test_broken_run_is_refused_in_one_sentence(api: str, damage: Callable[[Path], None], message: str,
                                               made: dict[str, Path], cartpole_data: Path, tmp_path: Path) -> None:
    run = copy_of(made["run"], tmp_path, "run")
    damage(run)
    call = {"load_run": lambda: srl_bench.load_run(run),
            "evaluate": lambda: srl_bench.evaluate(run, cartpole_data)}[api]
    text = api_fails(call, message)
    assert str(run) in text  # the sentence names the run directory
    nothing_left(run / "metrics.json")


@pytest.mark.parametrize("damage, message", [RUN_CASES[i] for i in (0, 2, 5, 10)] + EVALUATE_ONLY_CASES[:1])
def test_broken_run_on_the_command_line(damage: Callable[[Path], None], message: str, made: dict[str, Path],
                                        cartpole_data: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    run = copy_of(made["run"], tmp_path, "run")
    damage(run)
    cli_fails(["evaluate", run, "--data", cartpole_data], message, capsys)
    nothing_left(run / "metrics.json")


# --- the door of evaluate: the run's environment and image shape --------------------------------------

@pytest.mark.parametrize(
    "data, options, message",
    [
        ("pendulum_data", {}, "was trained on srl/CartPole-v0 but the dataset"),
        ("cartpole16", {}, "was trained on 32×32×3 images but the dataset"),
        ("cartpole_data", {"test_fraction": 0.5}, "drop --test-fraction/--split-seed"),
        ("other_cartpole", {"split_seed": -1}, "split seed (split_seed) must be a non-negative integer"),
        ("other_cartpole", {"test_fraction": 1.5}, "held-out fraction (test_fraction) must be a number between 0 and 1"),
        ("other_cartpole", {"k": 0}, "k must be at least 1"),
    ],
)
def test_evaluate_refuses_what_does_not_fit_the_run(data: str, options: dict[str, Any], message: str,
                                                   made: dict[str, Path], request: pytest.FixtureRequest) -> None:
    dataset = made[data] if data in made else request.getfixturevalue(data)
    text = api_fails(lambda: srl_bench.evaluate(made["run"], dataset, **options), message)
    if data == "pendulum_data":
        assert "srl/Pendulum-v0" in text
    if data == "cartpole16":
        assert "16×16×3" in text
    nothing_left(made["run"] / "metrics.json")


def test_a_plain_encoder_of_another_image_size_is_refused(cartpole_data: Path) -> None:
    from srl_bench.nets import make_encoder

    encoder = make_encoder("small", (16, 16, 3), 2)
    api_fails(lambda: srl_bench.evaluate(encoder, cartpole_data), "takes 16×16×3 images, got 32×32×3")
    with pytest.raises(ValueError):  # still a ValueError, as before
        encoder(np.zeros((1, 32, 32, 3), np.uint8))
    api_fails(lambda: encoder(np.zeros((2, 16, 16, 3), np.float32)), "expected uint8 images")
    api_fails(lambda: encoder(np.zeros((16, 16, 3), np.uint8)), "expected a batch of images N×H×W×C")


# --- the command line: generate, train, evaluate ---------------------------------------------------------

G = ["generate", "srl/CartPole-v0", "--episodes", "2", "--out", "{out}", "--quiet"]
T = ["train", "autoencoder", "--data", "{data}", "--out", "{out}", "--quiet"]

CLI_CASES = [
    (["generate", "srl/Nope-v0", "--episodes", "2", "--out", "{out}"], "unknown environment 'srl/Nope-v0'"),
    (G + ["--policy", "greedy"], "unknown policy 'greedy'"),
    (G + ["--policy", "kuka_reach"], "works only on srl/KukaButton-v0"),
    (["generate", "srl/CartPole-v0", "--episodes", "0", "--out", "{out}"], "--episodes must be at least 1"),
    (G + ["--image-size", "0"], "image_size"),
    (G + ["--workers", "0"], "--workers must be at least 1"),
    (G + ["--max-steps", "0"], "--max-steps must be at least 1"),
    (G + ["--env-kwarg", "colour"], "--env-kwarg expects KEY=VALUE"),
    (G + ["--env-kwarg", "colour=red"], "unexpected keyword argument 'colour'"),
    (G + ["--seed", "-1"], "--seed must be at least 0, got -1"),
    (["generate", "srl/CartPol-v0", "--episodes", "2", "--out", "{out}"], "did you mean 'srl/CartPole-v0'"),
    (G + ["--policy", "randm"], "did you mean 'random'"),
    (T + ["--set", "lr=-1"], "key 'lr': input should be greater than 0"),
    (T + ["--set", "lr=.nan"], "key 'lr'"),
    (T + ["--set", "lr=fast"], "key 'lr'"),
    (T + ["--set", "batch_size=0"], "key 'batch_size'"),
    (T + ["--set", "epochs=-1"], "key 'epochs'"),
    (T + ["--set", "val_fraction=0"], "key 'val_fraction'"),
    (T + ["--set", "val_fraction=1"], "key 'val_fraction'"),
    (T + ["--set", "colour=red"], "unknown key 'colour'"),
    (T + ["--set", "lr"], "--set expects KEY=VALUE"),
    (T + ["--set", "losses.reconstructon=1"], "did you mean 'reconstruction'"),
    (T + ["--set", "backbone=huge"], "key 'backbone'"),
    (T + ["--epochs", "-1"], "--epochs must be at least 0"),
    (T + ["--state-dim", "0"], "--state-dim must be at least 1"),
    (T + ["--config", "{tmp}/missing.yaml"], "does not exist"),
    (T + ["--config", "{tmp}/list.yaml"], "must hold a mapping"),
    (["train", "autoencodr", "--data", "{data}", "--out", "{out}"], "did you mean 'autoencoder'"),
    (["train", "autoencoder", "--data", "{tmp}/missing", "--out", "{out}"], "does not exist"),
    (["train", "autoencoder", "--data", "{one_episode}", "--out", "{out}", "--quiet"], "at least 2 episodes"),
    (["train", "autoencoder", "--data", "{cartpole8}", "--out", "{out}", "--quiet"],
     "the small CNN backbone needs images of at least 16×16 pixels, but these are 8×8"),
    (["train", "vae", "--data", "{cartpole8}", "--out", "{out}", "--set", "backbone=deep", "--quiet"],
     "the deep CNN backbone needs images of at least 16×16 pixels"),
    (T + ["--seed", "-1"], "--seed must be at least 0, got -1"),
    (["evaluate", "{tmp}/missing", "--data", "{data}", "--out", "{out}"], "does not exist"),
    (["evaluate", "{tmp}", "--data", "{data}", "--out", "{out}"], "not a run directory"),
    (["evaluate", "{run}", "--data", "{tmp}/missing", "--out", "{out}"], "does not exist"),
    (["evaluate", "{run}", "--data", "{pendulum}", "--out", "{out}"], "was trained on srl/CartPole-v0"),
    (["evaluate", "{run}", "--data", "{cartpole16}", "--out", "{out}"], "trained on 32×32×3 images"),
    (["evaluate", "{run}", "--data", "{other_cartpole}", "--out", "{out}", "--split-seed", "-1"], "split seed"),
    (["evaluate", "{run}", "--data", "{other_cartpole}", "--out", "{out}", "--test-fraction", "0"],
     "held-out fraction"),
    (["evaluate", "{run}", "--data", "{data}", "--out", "{out}", "--k", "0"], "k must be at least 1"),
    (["evaluate", "{run}", "--data", "{data}", "--out", "{out}", "--split-seed", "3"], "drop --test-fraction"),
    (["dataset", "{tmp}/missing"], "does not exist"),
]


@pytest.mark.parametrize("argv, message", CLI_CASES,
                         ids=[case_id(i, (c.values if hasattr(c, "values") else c)[1]) for i, c in enumerate(CLI_CASES)])
def test_command_line_bad_input(argv: list[str], message: str, made: dict[str, Path], cartpole_data: Path,
                                pendulum_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "list.yaml").write_text("- lr\n- 0.1\n")
    out = work / "out"
    names = {"tmp": work, "out": out, "data": cartpole_data, "pendulum": pendulum_data, **made}
    cli_fails([a.format(**names) for a in argv], message, capsys)
    nothing_left(out, made["run"] / "metrics.json")
    assert sorted(p.name for p in work.iterdir()) == ["list.yaml"]  # nothing else half-written


# --- the Python API: train --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "method, data, options, message",
    [
        ("autoencoder", "cartpole_data", {"overrides": {"lr": -1}}, "key 'lr'"),
        ("autoencoder", "cartpole_data", {"overrides": {"lr": float("nan")}}, "key 'lr'"),
        ("autoencoder", "cartpole_data", {"overrides": {"batch_size": 0}}, "key 'batch_size'"),
        ("autoencoder", "cartpole_data", {"overrides": {"epochs": -1}}, "key 'epochs'"),
        ("autoencoder", "cartpole_data", {"overrides": {"val_fraction": 0}}, "key 'val_fraction'"),
        ("autoencoder", "cartpole_data", {"overrides": {"colour": "red"}}, "unknown key 'colour'"),
        ("autoencoder", "cartpole_data", {"test_fraction": 1.0}, "held-out fraction"),
        ("autoencoder", "cartpole_data", {"split_seed": -1}, "split seed"),
        ("vea", "cartpole_data", {}, "unknown method 'vea' (did you mean 'vae'?)"),
        ("autoencoder", "cartpole8", {}, "needs images of at least 16×16 pixels, but these are 8×8"),
        ("world_models", "cartpole8", {}, "needs images of at least 16×16 pixels"),
        ("autoencoder", "missing", {}, "does not exist; make one with `srl-bench generate`"),
    ],
)
def test_train_api_bad_input(method: str, data: str, options: dict[str, Any], message: str, made: dict[str, Path],
                             request: pytest.FixtureRequest, tmp_path: Path) -> None:
    path = made.get(data) or (tmp_path / "missing" if data == "missing" else request.getfixturevalue(data))
    out = tmp_path / "out"
    api_fails(lambda: srl_bench.train(method, path, out, **options, **QUIET), message)
    nothing_left(out)


def test_images_too_small_for_a_cnn_still_train_with_backbones_that_take_them(made: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    for method, overrides in (("autoencoder", {"backbone": "mlp"}), ("spatial_autoencoder", {})):
        run = srl_bench.train(method, made["cartpole8"], tmp_path / method,
                              overrides={**overrides, "epochs": 1, "batch_size": 16}, **QUIET)
        assert srl_bench.load_run(run).encode(srl_bench.load_dataset(made["cartpole8"]).observations[:3]).shape[0] == 3
