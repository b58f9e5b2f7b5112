"""Leaderboard reports from saved cell results: ranks and best marks, rliable aggregates across
environments, the plots, one self-contained HTML page, LaTeX, JSON and `srl-bench leaderboard`."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from srl_bench.bench.report import build_report, from_directory, render, write_folder
from srl_bench.bench.report.inspect import nearest_neighbours, reconstruct
from srl_bench.cli import main
from srl_bench.stats import (interval_estimate, iqm_ci, mean_ci, optimality_gap_ci, performance_profile,
                             probability_of_improvement)

ENVS = {"CartPole-v0": "srl/CartPole-v0", "Pendulum-v0": "srl/Pendulum-v0"}
# method -> probe R² per env (seeds add a little spread); `good` beats `random` everywhere, `bad` loses
LEVELS = {"random": 0.2, "good": 0.8, "bad_one": 0.1}
SEEDS = (0, 1, 2)
RL_SCORES = {"ground_truth": 200.0, "random_policy": 20.0, "random": 30.0, "good": 120.0, "bad_one": 25.0}


def _record(work: Path, key: str, result: dict) -> None:
    stage = key.split("/")[0]
    path = work / "cells" / (key.replace("/", "__") + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, "stage": stage, "fingerprint": "x", "status": "done", "result": result,
                                "seconds": 1.5}))


def make_work_dir(work: Path) -> Path:
    """A benchmark work directory with hand-made cell records (2 envs × 3 methods × 3 seeds, RL on
    cart-pole with curves), and no run directories: nothing to train, everything from the records."""
    for slug, env in ENVS.items():
        (work / "datasets" / slug).mkdir(parents=True)
        (work / "datasets" / slug / "meta.json").write_text(json.dumps({
            "env_id": env, "n_episodes": 10, "n_frames": 200, "policy": "random", "seed": 0,
            "image_shape": [16, 16, 3], "state_names": ["a", "b"]}))
        _record(work, f"dataset/{slug}", {"frames": 200, "episodes": 10})
        for m, (method, level) in enumerate(LEVELS.items()):
            for seed in SEEDS:
                r2 = level + 0.01 * seed + (0.05 if slug == "Pendulum-v0" else 0.0)
                _record(work, f"train/{slug}/{method}/seed{seed}",
                        {"state_dim": 2, "epochs_run": 3, "epochs_cap": 5, "stopped": "early_stopping"})
                _record(work, f"metrics/{slug}/{method}/seed{seed}", {
                    "knn_mse_ratio": 1.0 - r2, "knn_mse": 2 * (1.0 - r2), "gtc_mean": r2, "probe_linear_r2": r2,
                    "probe_mlp_r2": r2 + 0.02, "state_std": 0.5 + m, "state_dim": 2, "n_eval_frames": 40})
    for name, score in RL_SCORES.items():
        for seed in SEEDS:
            where = f"CartPole-v0/{name}/seed{seed}"
            final = score + 3.0 * seed
            (work / "rl" / where).mkdir(parents=True)
            (work / "rl" / where / "rl.json").write_text(json.dumps({"algo": "ppo"}))
            steps = [0, 500, 1000]
            pd.DataFrame({"seed": seed, "timesteps": steps, "mean_return": [10.0, (10 + final) / 2, final],
                          "std_return": 1.0, "min_return": 9.0, "max_return": final + 1, "mean_length": 10.0,
                          "n_episodes": 2, "wall_seconds": [0.1, 0.5, 0.9 + seed]}).to_csv(
                work / "rl" / where / "curve.csv", index=False)
            _record(work, f"rl/{where}", {"score": final, "timesteps": 1000, "curve": f"rl/{where}/curve.csv"})
    return work


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(work dir, leaderboard folder made from it)."""
    tmp = tmp_path_factory.mktemp("report")
    work = make_work_dir(tmp / "work")
    out = write_folder(from_directory(work), tmp / "out", say_notes=False)
    return work, out


# --- stats (the one rliable wrapper) --------------------------------------------------------------

def test_new_statistics_match_rliable_and_are_seeded() -> None:
    from rliable import metrics

    rng = np.random.default_rng(0)
    x, y = rng.normal(1.0, 1.0, size=(5, 3)), rng.normal(0.0, 1.0, size=(4, 3))
    assert iqm_ci(x)[0] == pytest.approx(metrics.aggregate_iqm(x))
    assert optimality_gap_ci(x)[0] == pytest.approx(metrics.aggregate_optimality_gap(x, gamma=1))
    assert interval_estimate(x, "median")[0] == pytest.approx(metrics.aggregate_median(x))
    point, low, high = probability_of_improvement(x, y)
    assert point == pytest.approx(metrics.probability_of_improvement(x, y)) and low <= point <= high
    assert probability_of_improvement(y, y)[0] == 0.5
    assert probability_of_improvement(x + 10, y)[:3] == (1.0, 1.0, 1.0)
    # the bootstraps draw from NumPy's global generator: seeded here, whatever its state, and restored
    np.random.seed(1)
    first = (mean_ci(x[:, 0]), iqm_ci(x), probability_of_improvement(x, y))
    after = np.random.random()
    np.random.seed(2)
    assert (mean_ci(x[:, 0]), iqm_ci(x), probability_of_improvement(x, y)) == first
    np.random.seed(1)
    np.random.random(0)
    mean_ci(x[:, 0])
    assert np.random.random() == after  # the caller's stream is left where it was
    # one run: no interval, never a fake one
    one = probability_of_improvement(x[:1], y)
    assert math.isnan(one[1]) and math.isnan(one[2])


def test_performance_profile() -> None:
    scores = np.array([[0.1, 0.5], [0.3, 0.9], [0.2, 0.7]])
    taus = np.linspace(0, 1, 11)
    profile, low, high = performance_profile(scores, taus)
    assert profile[0] == 1.0 and profile[-1] == 0.0 and np.all(np.diff(profile) <= 0)
    assert profile[5] == pytest.approx(np.mean(scores > 0.5))
    assert np.all(low <= profile + 1e-12) and np.all(profile <= high + 1e-12)
    _, low1, _ = performance_profile(scores[:1], taus)
    assert np.isnan(low1).all()


# --- the tables -------------------------------------------------------------------------------------

def test_rank_and_best_marks(synthetic: tuple[Path, Path]) -> None:
    _, out = synthetic
    table = pd.read_csv(out / "leaderboard.csv")
    cart = table[table["env"] == "srl/CartPole-v0"].set_index("method")
    assert cart.loc["good", "rank"] == 1 and cart.loc["random", "rank"] == 2 and cart.loc["bad_one", "rank"] == 3
    assert cart.loc["good", "mean_rank"] == 1.0
    assert math.isnan(cart.loc["ground_truth", "rank"])  # references are not ranked
    assert list(cart.index)[:3] == ["good", "random", "bad_one"] and list(cart.index)[-2:] == ["ground_truth",
                                                                                                "random_policy"]
    markdown = (out / "leaderboard.md").read_text()
    assert "| 1 | good | **0.190** [0.180, 0.200] |" in markdown  # knn_mse_ratio: lower is better
    assert "| rank | method |" in markdown and "Rank: mean rank over knn_mse_ratio" in markdown
    reference = next(line for line in markdown.splitlines() if line.startswith("|  | *ground_truth* |"))
    assert "**" not in reference  # a reference is never marked best
    # the state's dimension beside each learned row (what the probes read); none for a reference
    assert "| dim | epochs | seeds |" in markdown and reference.endswith("| — | — | 3 |")
    assert next(line for line in markdown.splitlines() if "| good |" in line).endswith("| 2 | 3.0 | 3 |")
    assert "![srl/CartPole-v0: every metric's mean and 95% interval](plots/intervals_CartPole-v0.png)" in markdown
    assert "### Across environments" in markdown


def test_aggregates_across_environments(synthetic: tuple[Path, Path]) -> None:
    _, out = synthetic
    aggregates = pd.read_csv(out / "aggregates.csv")
    row = lambda score, statistic, method: aggregates[(aggregates["score"] == score) &  # noqa: E731
                                                      (aggregates["statistic"] == statistic) &
                                                      (aggregates["method"] == method)].iloc[0]
    good = np.array([[0.8 + 0.01 * s, 0.85 + 0.01 * s] for s in SEEDS])  # seeds × envs
    iqm = row("probe_linear_r2", "iqm", "good")
    assert (iqm["point"], iqm["low"], iqm["high"]) == pytest.approx(iqm_ci(good), abs=1e-6)
    assert iqm["n_seeds"] == 3 and iqm["n_tasks"] == 2
    gap = row("probe_linear_r2", "optimality_gap", "good")
    assert gap["point"] == pytest.approx(1 - good.mean(), abs=1e-6)
    poi = row("probe_linear_r2", "probability_of_improvement", "good")
    assert (poi["point"], poi["baseline"]) == (1.0, "random")
    assert row("probe_linear_r2", "probability_of_improvement", "bad_one")["point"] == 0.0
    # RL: normalised against the references' means: ground truth 1, the random policy 0
    assert row("rl_score", "iqm", "ground_truth")["point"] == pytest.approx(1.0)
    assert row("rl_score", "iqm", "good")["n_tasks"] == 1
    assert "random" not in set(aggregates.loc[aggregates["statistic"] == "probability_of_improvement", "method"])
    payload = json.loads((out / "leaderboard.json").read_text())
    profile = payload["performance_profiles"]["probe_linear_r2"]
    assert set(profile["methods"]) == set(LEVELS) and len(profile["taus"]) == len(profile["methods"]["good"]["profile"])


def test_curves_and_csvs_carry_no_timing(synthetic: tuple[Path, Path]) -> None:
    _, out = synthetic
    curves = pd.read_csv(out / "curves.csv")
    assert len(curves) == len(RL_SCORES) * len(SEEDS) * 3 and "wall_seconds" not in curves
    for name in ("leaderboard.csv", "aggregates.csv", "curves.csv", "runs.csv", "rl_runs.csv", "leaderboard.json"):
        assert "seconds" not in (out / name).read_text() and "min of compute" not in (out / name).read_text(), name


def test_json_is_strict_and_complete(synthetic: tuple[Path, Path]) -> None:
    _, out = synthetic

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in leaderboard.json")

    payload = json.loads((out / "leaderboard.json").read_text(), parse_constant=refuse)
    cart = payload["envs"]["srl/CartPole-v0"]
    good = next(r for r in cart["rows"] if r["method"] == "good")
    assert good["rank"] == 1 and good["metrics"]["probe_linear_r2"]["best"] is True
    assert good["metrics"]["probe_linear_r2"]["n"] == 3 and good["state_dim"] == 2
    assert next(r for r in cart["rows"] if r["method"] == "ground_truth")["state_dim"] is None
    assert cart["rank_by"] == ["knn_mse_ratio", "gtc_mean", "probe_linear_r2", "probe_mlp_r2", "rl_score"]
    assert payload["metrics"]["knn_mse_ratio"]["higher_is_better"] is False


def test_latex_tables(synthetic: tuple[Path, Path]) -> None:
    from srl_bench.bench.leaderboard import METRICS
    from srl_bench.bench.report import latex

    assert set(METRICS) <= set(latex.TITLES)  # a metric without a title broke the MiniPacman table
    _, out = synthetic
    tex = (out / "leaderboard.tex").read_text()
    assert tex.count("\\begin{table}") == 3  # two environments and one across them
    assert tex.count("\\toprule") == 3 and tex.count("\\bottomrule") == 3 and "\\midrule" in tex
    assert "bad\\_one" in tex and "\\textit{ground\\_truth}" in tex and "srl/CartPole-v0" in tex
    outside_math = re.sub(r"\$[^$]*\$", "", tex)
    assert not re.search(r"(?<!\\)_", outside_math.replace("\\usepackage", ""))  # every underscore escaped
    assert "$\\mathbf{0.190}$" in tex  # the best knn_mse_ratio on cart-pole, in bold
    for spec, body in re.findall(r"\\begin\{tabular\}\{(\w+)\}(.*?)\\end\{tabular\}", tex, re.S):
        rows = [line for line in body.splitlines() if line.rstrip().endswith("\\\\")]
        assert rows and all(row.count("&") == len(spec) - 1 for row in rows), spec


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables = 0
        self.headers: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.scripts_with_src = 0
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "table":
            self.tables += 1
        if tag == "th":
            self._in_th = True
            self.headers.append("")
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("a", "link"):
            self.links.append(attrs.get("href", ""))
        if tag == "script" and attrs.get("src"):
            self.scripts_with_src += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_th = False

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self.headers[-1] += data


def test_html_page_shows_every_plot_from_its_folder_and_fetches_nothing(synthetic: tuple[Path, Path]) -> None:
    _, out = synthetic
    text = (out / "index.html").read_text()
    page = _Page()
    page.feed(text)
    assert page.tables == 3  # one per env, one across
    for header in ("rank", "method", "knn_mse_ratio ↓", "probe_linear_r2 ↑", "RL normalised score ↑", "IQM ↑",
                   "optimality gap ↓", "P(> random) ↑"):
        assert header in page.headers, header
    pngs = sorted(p.relative_to(out).as_posix() for p in (out / "plots").rglob("*.png"))
    assert sorted(unquote(src) for src in page.images) == pngs and len(pngs) >= 6  # each once, relative to the page
    assert not page.links and not page.scripts_with_src
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:|//)", text) and "@import" not in text
    assert "table.sortable" in text and "<b>0.190</b>" in text


def test_the_html_format_is_one_file_with_every_plot_embedded(synthetic: tuple[Path, Path]) -> None:
    _, out = synthetic
    page = _Page()
    page.feed(render(from_directory(out), "html"))
    assert len(page.images) == len(list((out / "plots").rglob("*.png")))
    assert all(src.startswith("data:image/png;base64,") for src in page.images)


# --- srl-bench leaderboard -------------------------------------------------------------------------

@pytest.mark.slow  # six full report builds (about 75 s on 2 busy cores); the folder path runs by default
def test_cli_prints_each_format_from_the_folder_or_the_work_dir(synthetic: tuple[Path, Path], tmp_path: Path,
                                                                capsys, monkeypatch) -> None:
    work, out = synthetic
    assert main(["leaderboard", str(out), "--format", "csv"]) == 0
    assert capsys.readouterr().out == (out / "leaderboard.csv").read_text()
    assert main(["leaderboard", str(work), "--format", "csv"]) == 0
    assert capsys.readouterr().out == (out / "leaderboard.csv").read_text()
    assert main(["leaderboard", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# Leaderboard: work") and "| 1 | good |" in printed
    assert main(["leaderboard", str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((out / "leaderboard.json").read_text())
    assert main(["leaderboard", str(out), "--format", "latex", "--out", str(tmp_path / "t.tex")]) == 0
    assert (tmp_path / "t.tex").read_text() == (out / "leaderboard.tex").read_text()
    assert main(["leaderboard", str(out), "--format", "html", "--out", str(tmp_path / "page.html")]) == 0
    assert (tmp_path / "page.html").read_text().count("data:image/png;base64,") == len(list((out / "plots").rglob("*.png")))


def test_cli_regenerates_the_same_folder(synthetic: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = synthetic
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    assert main(["leaderboard", str(copy), "--out", str(copy)]) == 0  # in place, over the earlier one
    for name in ("leaderboard.csv", "aggregates.csv", "curves.csv", "runs.csv", "rl_runs.csv", "leaderboard.json",
                 "leaderboard.tex"):
        assert (copy / name).read_bytes() == (out / name).read_bytes(), name
    assert json.loads((copy / "timing.json").read_text()) == json.loads((out / "timing.json").read_text())


def test_cli_bad_directories_are_one_sentence(synthetic: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    assert main(["leaderboard", str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["leaderboard", str(tmp_path / "empty")]) == 2
    assert "neither a leaderboard folder" in capsys.readouterr().err
    (tmp_path / "moved").mkdir()
    (tmp_path / "moved" / "timing.json").write_text(json.dumps({"work_dir": str(tmp_path / "gone")}))
    assert main(["leaderboard", str(tmp_path / "moved")]) == 2
    err = capsys.readouterr().err
    assert "has no cell records" in err and "Traceback" not in err
    assert main(["leaderboard", str(tmp_path / "moved"), "--whole"]) == 2
    assert "carries none" in capsys.readouterr().err
    (tmp_path / "file.txt").write_text("x")
    assert main(["leaderboard", str(synthetic[1]), "--out", str(tmp_path / "file.txt")]) == 2
    assert "existing file" in capsys.readouterr().err


# --- per-run pictures ------------------------------------------------------------------------------

GENERATIVE = ("autoencoder", "denoising_autoencoder", "vae", "srl_combination", "srl_splits", "spatial_autoencoder",
              "world_models")


@pytest.mark.parametrize("name", [*GENERATIVE, "supervised", "inverse"])
def test_reconstructions_of_each_generative_method(name: str, cartpole_data: Path) -> None:
    from srl_bench.data import load_dataset
    from srl_bench.methods import DataContext, get_method

    dataset = load_dataset(cartpole_data)
    method = get_method(name)
    model = method.build(method.make_config({"state_dim": 4}), DataContext.from_meta(dataset.meta,
                                                                                    np.asarray(dataset.states)))
    model.eval()
    images = np.asarray(dataset.observations[:3])
    out = reconstruct(model, images)
    if name not in GENERATIVE:
        assert out == {}
        return
    assert len(out) == 1
    (term, (target, output)), = out.items()
    assert target.shape == output.shape and len(target) == 3
    assert 0.0 <= output.min() and output.max() <= 1.0
    if term == "spatial_reconstruction":
        assert target.ndim == 3  # the grayscale, downsampled target
    else:
        assert target.shape == (3, 32, 32, 3)
        assert np.allclose(target, images / 255.0)


def test_the_neighbour_grid_is_knn_mse() -> None:
    from srl_bench.metrics.core import knn_mse, standardise

    rng = np.random.default_rng(0)
    truth = rng.normal(size=(60, 3))
    states = truth[:, :2] + 0.3 * rng.normal(size=(60, 2))
    grid = nearest_neighbours(states, truth, k=5, queries=60)
    z, _ = standardise(truth)
    assert np.mean([g.ratio for g in grid]) == pytest.approx(knn_mse(states, z, 5) / (2 * 3))
    assert all(g.query not in g.neighbours for g in grid)


TINY = """
name: tiny_report
work_dir: {work}
out: {out}
seeds: [0]
methods: [random, autoencoder]
train: {{epochs: 1, batch_size: 32, patience: 1}}
evaluate: {{mlp_probe: false}}
envs:
  - {{id: srl/CartPole-v0, episodes: 8, max_steps: 20, image_size: 16}}
"""


@pytest.fixture(scope="module")
def tiny_benchmark(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (tiny) benchmark: its leaderboard folder, plots of the saved runs included."""
    from srl_bench.bench.runner import run_benchmark

    tmp = tmp_path_factory.mktemp("tiny_report")
    config = tmp / "tiny.yaml"
    config.write_text(TINY.format(work=tmp / "work", out=tmp / "out"))
    return run_benchmark(config, progress=False)


def test_the_benchmark_writes_every_picture(tiny_benchmark: Path) -> None:
    plots = {p.relative_to(tiny_benchmark / "plots").as_posix() for p in (tiny_benchmark / "plots").rglob("*.png")}
    assert {"intervals_CartPole-v0.png", "CartPole-v0/autoencoder_seed0_training.png",
            "CartPole-v0/autoencoder_seed0_state.png", "CartPole-v0/autoencoder_seed0_neighbours.png",
            "CartPole-v0/autoencoder_seed0_reconstructions.png", "CartPole-v0/random_seed0_state.png",
            "CartPole-v0/random_seed0_neighbours.png"} <= plots
    assert "CartPole-v0/random_seed0_reconstructions.png" not in plots  # the untrained CNN has no decoder
    for name in ("index.html", "leaderboard.tex", "leaderboard.json", "aggregates.csv", "leaderboard.md"):
        assert (tiny_benchmark / name).is_file(), name
    report = build_report(from_directory(tiny_benchmark))
    assert report.source.config is not None and report.source.config.name == "tiny_report"
    assert render(from_directory(tiny_benchmark), "csv") == (tiny_benchmark / "leaderboard.csv").read_text()


@pytest.mark.slow
def test_the_page_renders_in_headless_chromium(tiny_benchmark: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("no Chromium (apt-get install chromium)")
    page = (tiny_benchmark / "index.html").resolve().as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1400,1000", page], check=True,
                   capture_output=True, timeout=120)
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[0] >= 900 and pixels.std() > 0.05 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    dom = subprocess.run([chromium, *flags, "--dump-dom", page], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    assert dom.count("<table") == 2 and dom.count("<img") == len(list((tiny_benchmark / "plots").rglob("*.png")))
    assert 'class="active"' in dom and 'hidden=""' in dom  # the script ran: one tab shown, the others hidden


def test_a_row_with_fewer_seeds_in_one_column_says_so() -> None:
    import pandas as pd

    from srl_bench.bench.leaderboard import seed_counts

    row = pd.Series({"knn_mse_ratio_n": 5, "rl_score_n": 4, "gtc_mean_n": 5, "state_std_n": 0})
    assert seed_counts(row, ["knn_mse_ratio", "gtc_mean", "rl_score", "state_std"]) == (5, "5 (RL normalised score: 4)")
    assert seed_counts(row, ["knn_mse_ratio", "gtc_mean"]) == (5, "5")


def test_a_row_with_fewer_seeds_than_planned_shows_no_interval(synthetic: tuple[Path, Path]) -> None:
    """A bootstrap over the first seeds of an unfinished row would look firmer than it is: with 5 seeds
    planned, the 3 seeds done show a mean and their count, no interval; the RL column, whose 3 seeds
    are all that is planned, keeps its interval."""
    from srl_bench.bench.leaderboard import leaderboard, leaderboard_markdown
    from srl_bench.bench.report.aggregate import across_envs, improvement_over, withhold_partial

    report = build_report(from_directory(synthetic[0]))
    planned = {"probe_linear_r2": 5, "rl_score": 3}
    table = leaderboard(report.runs, report.rl_runs, planned=planned).set_index(["env", "method"])
    good = table.loc[("srl/CartPole-v0", "good")]
    assert good["probe_linear_r2_n"] == 3 and math.isfinite(good["probe_linear_r2_mean"])
    assert math.isnan(good["probe_linear_r2_ci_low"]) and math.isnan(good["probe_linear_r2_ci_high"])
    assert good["rl_score_ci_low"] < good["rl_score_mean"] < good["rl_score_ci_high"]
    assert math.isfinite(good["gtc_mean_ci_low"])  # a metric with no plan keeps its interval
    assert table["partial"].sum() == 6 and table.loc[table["partial"], "rank"].isna().all()  # 3 methods × 2 envs
    text = leaderboard_markdown(table.reset_index(), ("probe_linear_r2", "rl_score"))
    good_line = next(line for line in text.splitlines() if "| good |" in line)
    assert f"| good | {good['probe_linear_r2_mean']:.3f} (n=3) |" in good_line and good_line.count("[") == 1

    # one partial row among finished ones: unranked, not bold, sorted after them; the others ranked among themselves
    short = report.runs[~((report.runs["method"] == "good") & (report.runs["seed"] == 2))]
    table = leaderboard(short, report.rl_runs, planned={"probe_linear_r2": 3, "gtc_mean": 3}).set_index(["env", "method"])
    pendulum = table.loc["srl/Pendulum-v0"]
    assert bool(pendulum.loc["good", "partial"]) and pd.isna(pendulum.loc["good", "rank"])
    assert pendulum.loc["random", "rank"] == 1 and pendulum.loc["bad_one", "rank"] == 2
    assert list(pendulum.index) == ["random", "bad_one", "good"]
    text = leaderboard_markdown(table.reset_index(), ("probe_linear_r2",))
    assert "| 1 | random | **" in text and "| good | **" not in text

    across = withhold_partial(across_envs(report.runs, report.rl_runs), planned)
    assert across.loc[across["score"] == "probe_linear_r2", ["low", "high"]].isna().all(axis=None)
    assert across.loc[across["score"] == "rl_score", ["low", "high"]].notna().all(axis=None)
    poi = withhold_partial(improvement_over(report.runs, report.rl_runs), {"rl_score": 4})
    assert poi.loc[poi["score"] == "rl_score", "low"].isna().all()
    assert poi.loc[poi["score"] != "rl_score", "low"].notna().all()
