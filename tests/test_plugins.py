"""Plug-ins: any encoder scored (API, command line, benchmarks), checked at the door; methods and loss
terms from user code and from a separately installed package (entry points); runs that remember where
their method came from; the SB3 features extractor; the examples."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import srl_bench
from srl_bench.cli import main
from srl_bench.errors import SrlBenchError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CARTPOLE = "srl/CartPole-v0"
SUBPROCESS_ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def one_sentence(message: str) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message
    assert not re.search(r"[.;:]\s+[A-Z][a-z]", message), f"more than one sentence: {message}"


def fails(call: Callable[[], Any], *fragments: str) -> str:
    with pytest.raises(SrlBenchError) as info:
        call()
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text, text
    one_sentence(text)
    return text


@pytest.fixture(autouse=True)
def _clean_registries():
    """Methods, terms and modules registered by a test are gone after it."""
    from srl_bench.losses import LOSS_TERMS
    from srl_bench.methods import METHODS

    methods, terms, path, modules = dict(METHODS), dict(LOSS_TERMS), list(sys.path), set(sys.modules)
    yield
    METHODS.clear()
    METHODS.update(methods)
    LOSS_TERMS.clear()
    LOSS_TERMS.update(terms)
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if str(EXAMPLES) in file or "pytest-of" in file or "/tmp" in file:
            sys.modules.pop(name, None)


def grid(images: np.ndarray) -> np.ndarray:
    return images[:, ::8, ::8].reshape(len(images), -1) / 255.0


class MeanColour(nn.Module):
    """A plain module on uint8 N×H×W×C tensors."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.float().mean(dim=(1, 2))


class Pooled(srl_bench.Encoder):
    def __init__(self, state_dim: int = 3, out: int | None = None) -> None:
        super().__init__(state_dim)
        self.out = out or state_dim

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)).repeat(1, 4)[:, : self.out]


# --- any encoder, checked at the door --------------------------------------------------------------------

def test_evaluate_takes_an_encoder_a_module_and_a_function(cartpole_data: Path) -> None:
    for encoder, dim in ((Pooled(3), 3), (MeanColour(), 3), (grid, 48)):
        metrics = srl_bench.evaluate(encoder, cartpole_data, k=3)
        assert metrics["state_dim"] == dim and np.isfinite(metrics["knn_mse_ratio"])


class Dropout(nn.Module):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return nn.functional.dropout(images.float().mean(dim=(1, 2)), 0.5, training=True)


class Wrong(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.conv(images.float()).flatten(1)  # forgets that images are channels last


BAD_ENCODERS = [
    (lambda x: None, "returned None"),
    (lambda x: grid(x)[:-1], "returned 3 rows"),
    (lambda x: [np.zeros(i + 1) for i in range(len(x))], "rows of different lengths"),
    (lambda x: np.zeros((len(x), 0)), "0 columns"),
    (lambda x: grid(x) * 1j, "complex numbers"),
    (lambda x: np.array([["a"]] * len(x)), "strings"),
    (lambda x: np.array([None] * len(x)), "Python objects"),
    (lambda x: (grid(x), grid(x)), "a tuple of 2 items"),
    (lambda x: 1.0, "one number"),
    (lambda x: grid(x) * np.nan, "NaN or infinite"),
    (lambda x: np.random.rand(len(x), 2), "different states on two calls"),
    (lambda x: grid(x) - grid(x).mean(0), "changes with the other images of its batch"),
    (lambda x: grid(x)[:, : len(x)], "columns for 2 images but 4"),
    (Dropout(), "different states on two calls"),
    (Wrong(), "raised RuntimeError"),
    (Pooled(2, out=6), "6 numbers per image, more than its declared state_dim 2"),
]


@pytest.mark.parametrize("encoder, message", BAD_ENCODERS, ids=[m for _, m in BAD_ENCODERS])
def test_a_bad_encoder_is_refused_at_the_door_in_one_sentence(encoder: Any, message: str, cartpole_data: Path) -> None:
    text = fails(lambda: srl_bench.evaluate(encoder, cartpole_data), message)
    if message.startswith("raised"):
        assert "4×32×32×3 uint8 N×H×W×C" in text  # the layout it was given


def test_rl_checks_the_encoder_before_training(tmp_path: Path) -> None:
    options = dict(timesteps=64, seeds=[0], progress=False, env_kwargs={"image_size": 32}, out=tmp_path / "rl")
    fails(lambda: srl_bench.rl_evaluate(lambda x: grid(x)[:-1], CARTPOLE, **options), "returned 3 rows",
          "4×32×32×3 uint8")
    fails(lambda: srl_bench.rl_evaluate(lambda x: grid(x) * np.inf, CARTPOLE, **options), "NaN or infinite",
          "from the env srl/CartPole-v0")
    assert not (tmp_path / "rl").exists()


# --- by import path, on the command line ------------------------------------------------------------------

BAD_FACTORIES = textwrap.dedent('''
    import numpy as np

    def nan(width=2):
        return lambda images: np.full((len(images), width), np.nan)

    def broken():
        raise ValueError("no weights here")
''')


def test_the_command_line_loads_an_encoder_by_import_path(cartpole_data: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "metrics.json"
    score = EXAMPLES / "score_my_encoder.py"
    assert main(["evaluate", "--encoder", f"{score}:make", "--encoder-kwargs", "cells=2", "--data",
                 str(cartpole_data), "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["state_dim"] == 2 * 2 * 3 and metrics["encoder"]["kwargs"] == {"cells": 2}
    capsys.readouterr()
    (tmp_path / "my_factories.py").write_text(BAD_FACTORIES)
    monkeypatch.chdir(tmp_path)  # a module in the folder the command runs from is found
    cases = [
        (["evaluate", "--data", str(cartpole_data)], "say what to score"),
        (["evaluate", str(tmp_path), "--encoder", "my_factories:nan", "--data", str(cartpole_data)], "not both"),
        (["evaluate", "--encoder", "my_factories:nan", "--encoder-kwargs", "width=3", "--data", str(cartpole_data)],
         "NaN or infinite"),
        (["evaluate", "--encoder", "my_factories:broken", "--data", str(cartpole_data)],
         "raised ValueError ('no weights here') (my_factories.py, line 8)"),
        (["evaluate", "--encoder", "my_factories:nann", "--data", str(cartpole_data)], "did you mean 'nan'?"),
        (["evaluate", "--encoder", "my_factories:nan", "--encoder-kwargs", "size=3", "--data", str(cartpole_data)],
         "unexpected keyword argument 'size'"),
        (["evaluate", "--encoder", "no_such_module_here:make", "--data", str(cartpole_data)],
         "no module named 'no_such_module_here'"),
        (["evaluate", "--encoder", "my_factories", "--data", str(cartpole_data)], "module:name"),
        (["rl", "--env", CARTPOLE, "--out", str(tmp_path / "rl")], "say what the agent sees"),
        (["rl", "--env", CARTPOLE, "--representation", "ground_truth", "--encoder", "my_factories:nan",
          "--out", str(tmp_path / "rl")], "not both"),
        (["rl", "--env", CARTPOLE, "--encoder", "my_factories:nan", "--env-kwarg", "image_size=32",
          "--out", str(tmp_path / "rl")], "NaN or infinite"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("srl-bench: error: ") and message in err, err
        one_sentence(err.removeprefix("srl-bench: error: "))
    assert not (tmp_path / "rl").exists()


# --- methods and loss terms from user code ---------------------------------------------------------------

MY_METHODS = textwrap.dedent('''
    """A user's module: a method with its own encoder, registered by a decorator."""
    import srl_bench
    from torch import nn


    class Flat(srl_bench.Encoder):
        def __init__(self, image_shape, state_dim):
            super().__init__(state_dim)
            h, w, c = image_shape
            self.net = nn.Sequential(nn.AvgPool2d(4), nn.Flatten(), nn.Linear(c * (h // 4) * (w // 4), state_dim))

        def embed(self, x):
            return self.net(x)


    @srl_bench.register_method("flat_inverse", recipe={"losses": {"inverse": 1.0}, "batch_size": 32})
    def build(config, context):
        """A pooled linear encoder trained by an inverse model."""
        state_dim = srl_bench.resolve_state_dim(config, context)
        encoder = Flat(context.image_shape, state_dim)
        return srl_bench.SRLModel(encoder, srl_bench.build_objective(config, context, state_dim, encoder))
''')

RELOAD = textwrap.dedent('''
    import os, sys
    from srl_bench.cli import main
    run, data, folder = sys.argv[1:4]
    module = os.path.join(folder, "my_methods.py")
    os.rename(module, module + ".away")  # the module is nowhere: one sentence
    assert main(["evaluate", run, "--data", data, "--out", folder + "/m1.json"]) == 2
    os.rename(module + ".away", module)  # not on the path, but where the run recorded it: imported from there
    assert main(["evaluate", run, "--data", data, "--out", folder + "/m2.json"]) == 0
''')


def test_a_method_from_user_code_trains_and_reloads_in_a_new_process(cartpole_data: Path, tmp_path: Path) -> None:
    from srl_bench.methods import METHODS
    from srl_bench.plugins import import_module

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my_methods.py").write_text(MY_METHODS)
    import_module("my_methods", paths=[folder])
    method = METHODS["flat_inverse"]
    assert method.description == "A pooled linear encoder trained by an inverse model." and not method.builtin
    assert method.source == "my_methods"
    run = srl_bench.train("flat_inverse", cartpole_data, tmp_path / "run", overrides={"epochs": 1}, progress=False)
    source = json.loads((run / "config.json").read_text())["method_source"]
    assert source["module"] == "my_methods" and source["file"].endswith("my_methods.py")
    # another process does not know the method: it imports the recorded module, or says to install it
    done = subprocess.run([sys.executable, "-c", RELOAD, str(run), str(cartpole_data), str(folder)],
                          cwd=tmp_path, env=SUBPROCESS_ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "from the module 'my_methods', which cannot be imported here" in done.stderr
    assert "install the package that provides it" in done.stderr
    assert json.loads((folder / "m2.json").read_text())["state_dim"] == 4


def test_registration_forms_and_name_clashes() -> None:
    from srl_bench.losses import LOSS_TERMS, LossTerm
    from srl_bench.methods import METHODS

    srl_bench.register_method("tiny_inverse", description="inverse only", recipe={"losses": {"inverse": 1.0}})
    assert METHODS["tiny_inverse"].make_config().weights == {"inverse": 1.0}
    assert METHODS["tiny_inverse"].module == __name__

    @srl_bench.register_method
    def bare(config, context):
        """Bare decorator: named after the function."""

    assert METHODS["bare"].build is bare and METHODS["bare"].description.startswith("Bare decorator")
    srl_bench.register_method("tiny_inverse", description="again, same module", recipe={"losses": {"inverse": 2}})
    assert METHODS["tiny_inverse"].description == "again, same module"  # the same module replaces its own
    fails(lambda: srl_bench.register_method("autoencoder", recipe={"losses": {"inverse": 1}}),
          "'autoencoder' is already registered")
    fails(lambda: srl_bench.register_method("a/b"), "without '/'")

    class Clash(LossTerm):
        name = "inverse"

    fails(lambda: srl_bench.register_term(Clash), "'inverse' is already registered")
    assert LOSS_TERMS["inverse"] is not Clash


def test_a_broken_plug_in_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.metadata

    from srl_bench import plugins
    from srl_bench.methods import METHODS

    (tmp_path / "good_plugin.py").write_text("import srl_bench\nsrl_bench.register_method('from_ep', "
                                             "description='x', recipe={'losses': {'inverse': 1}})\n")
    sys.path.append(str(tmp_path))
    points = [importlib.metadata.EntryPoint("bad", "no_such_plugin_module", "test.group"),
              importlib.metadata.EntryPoint("good", "good_plugin", "test.group")]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: points if group == "test.group" else [])
    monkeypatch.setattr(plugins, "PLUGIN_ERRORS", [])
    with pytest.warns(RuntimeWarning, match="no_such_plugin_module"):
        errors = plugins.load_entry_points(("test.group",))
    assert len(errors) == 1 and "failed to load" in errors[0]
    assert METHODS["from_ep"].source.startswith("plug-in") and METHODS["from_ep"].module == "good_plugin"
    fails(lambda: srl_bench.methods.get_method("from_epp"), "did you mean 'from_ep'?", "1 plug-in(s) failed to load")
    plugins._loaded_groups.discard("test.group")


# --- the SB3 features extractor --------------------------------------------------------------------------

def test_the_features_extractor_trains_ppo_frozen_or_fine_tuned() -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.preprocessing import preprocess_obs

    from srl_bench.nets import ConvEncoder
    from srl_bench.rl import EncoderFeaturesExtractor

    for trainable in (False, True):
        torch.manual_seed(0)
        encoder = ConvEncoder((32, 32, 3), 4)
        before = {k: v.clone() for k, v in encoder.state_dict().items()}
        agent = PPO("CnnPolicy", gym.make(CARTPOLE, image_size=32), n_steps=32, batch_size=16, n_epochs=1, seed=0,
                    device="cpu", policy_kwargs={"features_extractor_class": EncoderFeaturesExtractor,
                                                 "features_extractor_kwargs": {"encoder": encoder,
                                                                               "trainable": trainable}})
        assert agent.policy.features_extractor.features_dim == 4
        # SB3 hands the extractor float C×H×W in [0, 1]: the same states as the encoder on the raw frame
        obs, _ = gym.make(CARTPOLE, image_size=32).reset(seed=0)
        seen = preprocess_obs(torch.as_tensor(obs.transpose(2, 0, 1)[None]), agent.observation_space)
        torch.testing.assert_close(agent.policy.features_extractor(seen), encoder.eval()(obs[None]))
        agent.learn(64)
        changed = [k for k, v in encoder.state_dict().items() if not torch.equal(v, before[k])]
        assert bool(changed) == trainable, changed  # SB3's ortho_init does not touch it either
    agent = PPO("CnnPolicy", gym.make(CARTPOLE, image_size=32), n_steps=16, batch_size=16, n_epochs=1, device="cpu",
                policy_kwargs={"features_extractor_class": EncoderFeaturesExtractor,
                               "features_extractor_kwargs": {"encoder": MeanColour()}})
    agent.learn(16)
    assert agent.policy.features_extractor.features_dim == 3
    space = agent.observation_space
    fails(lambda: EncoderFeaturesExtractor(space, grid, trainable=True), "no weights to train")
    fails(lambda: EncoderFeaturesExtractor(space, lambda x: grid(x) * np.nan), "NaN or infinite")


# --- the examples ----------------------------------------------------------------------------------------

def test_example_score_my_encoder(cartpole_data: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["score_my_encoder.py", str(cartpole_data)])
    runpy.run_path(str(EXAMPLES / "score_my_encoder.py"), run_name="__main__")
    assert "probe_linear_r2" in capsys.readouterr().out


TINY_BENCHMARK = """
name: tiny_plugins
imports: [{examples}/new_loss_method.py]
work_dir: {work}
seeds: [0]
methods: [random, ae_slowness]
encoders:
  - {{name: grid_colours, factory: "{examples}/score_my_encoder.py:make", kwargs: {{cells: 2}}}}
train: {{epochs: 1, batch_size: 32}}
evaluate: {{k: 3, mlp_probe: false}}
envs:
  - {{id: srl/CartPole-v0, episodes: 6, max_steps: 20, seed: 0, image_size: 32}}
rl:
  methods: [ae_slowness, grid_colours]
  timesteps: {{srl/CartPole-v0: 32}}
  references: [ground_truth, random_policy]
  n_eval: 1
  set: {{n_envs: 2, n_steps: 16, batch_size: 16, n_epochs: 1}}
"""


def test_example_new_loss_method_and_encoder_in_a_benchmark(tmp_path: Path) -> None:
    from srl_bench.bench import run_benchmark
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark

    joined, standard = load_benchmark(EXAMPLES / "join_the_standard.yaml"), load_benchmark("standard")
    assert joined.methods == standard.methods and joined.envs == standard.envs and joined.rl == standard.rl
    assert [entry.name for entry in joined.encoders] == ["grid_colours"]

    shipped = plan(load_benchmark(EXAMPLES / "benchmark_with_my_method.yaml"))  # the example config itself
    assert {"train/CartPole-v0/ae_slowness/seed1", "metrics/CartPole-v0/grid_colours/seed0",
            "rl/CartPole-v0/grid_colours/seed1"} <= {cell.key for cell in shipped}
    assert "train/CartPole-v0/grid_colours/seed0" not in {cell.key for cell in shipped}

    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_BENCHMARK.format(examples=EXAMPLES, work=tmp_path / "work"))
    out = run_benchmark(config, out_dir=tmp_path / "board", progress=False)
    records = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "work" / "cells").glob("*.json")}
    assert all(r["status"] == "done" for r in records.values()), [r.get("error") for r in records.values()]
    assert "train__CartPole-v0__grid_colours__seed0" not in records  # an encoder of your own is not trained
    board = (out / "leaderboard.csv").read_text()
    assert "ae_slowness" in board and "grid_colours" in board
    assert "grid_colours" in (out / "rl_runs.csv").read_text()
    run_config = json.loads((tmp_path / "work/runs/CartPole-v0/ae_slowness/seed0/config.json").read_text())
    assert run_config["method_source"]["module"] == "new_loss_method"

    # an encoder cell's fingerprint holds its factory, kwargs and source; a method's, its module's source
    def fingerprints(text: str) -> dict[str, str]:
        path = tmp_path / "variant.yaml"
        path.write_text(text)
        return {cell.key: cell.fingerprint for cell in plan(load_benchmark(path))}

    base = fingerprints(config.read_text())
    other = fingerprints(config.read_text().replace("cells: 2", "cells: 3"))
    changed = {key for key in base if base[key] != other[key]}
    assert changed == {"metrics/CartPole-v0/grid_colours/seed0", "rl/CartPole-v0/grid_colours/seed0"}
    train = next(cell for cell in plan(load_benchmark(config)) if cell.key == "train/CartPole-v0/ae_slowness/seed0")
    assert train.spec["method_source"]["sha256"] and "method_source" not in next(
        cell for cell in plan(load_benchmark(config)) if cell.key == "train/CartPole-v0/random/seed0").spec


def test_an_encoder_made_without_a_seed_is_ranked_on_its_one_score(tmp_path: Path) -> None:
    """Its metrics are computed once (no seed enters them); the leaderboard counts that value for each
    of the benchmark's seeds, as it does a closed-form baseline's identical rows, so the row is ranked
    and not shown as partial."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark
    from srl_bench.bench.leaderboard import collect, leaderboard, planned_seeds

    config_path = tmp_path / "two_seeds.yaml"
    config_path.write_text(f"""
name: two_seeds
seeds: [0, 1]
methods: [random]
encoders:
  - {{name: grid_colours, factory: "{EXAMPLES}/score_my_encoder.py:make"}}
envs:
  - {{id: srl/CartPole-v0, episodes: 6, seed: 0}}
""")
    config = load_benchmark(config_path)
    cells = [cell for cell in plan(config) if cell.stage == "metrics"]
    assert sorted(cell.key for cell in cells if "grid_colours" in cell.key) == ["metrics/CartPole-v0/grid_colours/seed0"]
    scores = {"random": [0.30, 0.34], "grid_colours": [0.60]}
    records = {}
    for cell in cells:
        method, seed = cell.key.split("/")[2], int(cell.key.rsplit("seed", 1)[1])
        records[cell.key] = {"status": "done", "result": {"probe_linear_r2": scores[method][seed], "gtc_mean": 0.5}}
    runs, rl_runs = collect(config, cells, records)
    assert sorted(runs.loc[runs["method"] == "grid_colours", "seed"]) == [0, 1]
    table = leaderboard(runs, rl_runs, metrics=("probe_linear_r2",), planned=planned_seeds(config)).set_index("method")
    mine = table.loc["grid_colours"]
    assert not mine["partial"] and mine["rank"] == 1 and mine["probe_linear_r2_n"] == 2
    assert mine["probe_linear_r2_ci_low"] == mine["probe_linear_r2_mean"] == mine["probe_linear_r2_ci_high"] == 0.60
    assert table.loc["random", "rank"] == 2


def test_benchmark_config_errors_name_the_plug_in(tmp_path: Path) -> None:
    from srl_bench.bench.config import load_benchmark

    def load(text: str) -> Callable[[], Any]:
        path = tmp_path / "b.yaml"
        path.write_text("name: b\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n" + text)
        return lambda: load_benchmark(path)

    fails(load("imports: [no_such_plugin_here]\nmethods: [random]\n"), "no module named 'no_such_plugin_here'")
    fails(load("imports: no_list\nmethods: [random]\n"), "'imports' must be a list of module names")
    fails(load("methods: [ae_slowness]\n"), "unknown method 'ae_slowness'")
    fails(load("encoders: [{name: g, factory: nothing_here}]\n"), "module:function")
    fails(load(f"encoders: [{{name: g, factory: '{EXAMPLES}/score_my_encoder.py:make', kwargs: {{size: 1}}}}]\n"),
          "unexpected keyword argument 'size'")
    fails(load(f"methods: [random]\nencoders: [{{name: random, factory: '{EXAMPLES}/score_my_encoder.py:make'}}]\n"),
          "names both a method and an encoder")


# --- a separately installed package ------------------------------------------------------------------------

PLUGIN_SCRIPT = textwrap.dedent('''
    import json, sys
    from srl_bench.cli import main
    data, out = sys.argv[1:3]
    assert main(["methods"]) == 0
    assert main(["train", "tiny_inverse", "--data", data, "--out", out, "--epochs", "1", "--quiet"]) == 0
    assert main(["evaluate", out, "--data", data]) == 0
    print("SOURCE", json.dumps(json.load(open(out + "/config.json"))["method_source"]))
''')


def test_a_plug_in_package_adds_a_method_through_its_entry_point(cartpole_data: Path, tmp_path: Path) -> None:
    package = tmp_path / "package"
    shutil.copytree(EXAMPLES / "srl_bench_plugin_example", package)  # the build leaves files in its source
    target = tmp_path / "target"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "--quiet", "--target", str(target), str(package)], check=True, env=SUBPROCESS_ENV, timeout=300)
    env = {**SUBPROCESS_ENV, "PYTHONPATH": os.pathsep.join([str(target), SUBPROCESS_ENV.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", PLUGIN_SCRIPT, str(cartpole_data), str(tmp_path / "run")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(row for row in done.stdout.splitlines() if row.startswith("tiny_inverse"))
    assert "[plug-in srl-bench-plugin-example" in line
    source = json.loads(done.stdout.split("SOURCE ", 1)[1])
    assert source["module"] == "srl_bench_plugin_example.methods"
    assert source["distribution"] == "srl-bench-plugin-example"
    assert "probe_linear_r2" in done.stdout
