"""The benchmark runner and the leaderboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from srl_bench.bench import bootstrap_ci, leaderboard, leaderboard_markdown, load_benchmark
from srl_bench.errors import SrlBenchError

def test_bootstrap_interval() -> None:
    mean, low, high = bootstrap_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5 and 1.0 <= low < mean < high <= 4.0
    assert bootstrap_ci(np.array([3.0, 5.0]))[1:] == (3.0, 5.0)  # two seeds: resamples span [min, max]
    assert bootstrap_ci(np.full(5, 0.7)) == (0.7, 0.7, 0.7)  # constant: the interval is the point
    one = bootstrap_ci(np.array([0.7]))  # one seed: no interval, never a fake one
    assert one[0] == 0.7 and np.isnan(one[1]) and np.isnan(one[2])
    assert bootstrap_ci(np.array([1.0, 2.0, 3.0])) == bootstrap_ci(np.array([1.0, 2.0, 3.0]))  # seeded


def test_leaderboard_orders_best_probe_first() -> None:
    runs = pd.DataFrame([
        {"env": "e", "method": m, "seed": s, "knn_mse_ratio": v, "knn_mse": v, "gtc_mean": 1 - v,
         "probe_linear_r2": 1 - v}
        for m, v in [("worse", 0.8), ("better", 0.2)] for s in (0, 1)
    ])
    table = leaderboard(runs)
    assert table["method"].tolist() == ["better", "worse"]
    assert table["rank"].tolist() == [1, 2]
    markdown = leaderboard_markdown(table)
    assert "| 1 | better | **0.200**" in markdown and "| 2 | worse | 0.800" in markdown


def test_rank_is_the_mean_rank_over_the_metrics_every_method_has() -> None:
    rows = []
    for method, knn, probe, rl in [("a", 0.1, 0.5, 0.9), ("b", 0.2, 0.9, None), ("c", 0.3, 0.1, 0.1)]:
        for seed in (0, 1):
            rows.append({"env": "e", "method": method, "seed": seed, "knn_mse_ratio": knn, "gtc_mean": probe,
                         "probe_linear_r2": probe, "state_std": 1.0})
    runs = pd.DataFrame(rows)
    rl_runs = pd.DataFrame([{"env": "e", "representation": m, "seed": s, "normalised_score": v}
                            for m, v in [("a", 0.9), ("c", 0.1), ("ground_truth", 1.0), ("random_policy", 0.0)]
                            for s in (0, 1)])
    table = leaderboard(runs, rl_runs).set_index("method")
    # b has no RL score, so the rank leaves RL out: a (1, 2, 2) -> 5/3, b (2, 1, 1) -> 4/3, c (3, 3, 3)
    assert table.loc["b", "mean_rank"] == pytest.approx(4 / 3) and table.loc["a", "mean_rank"] == pytest.approx(5 / 3)
    assert table.loc[["b", "a", "c"], "rank"].tolist() == [1, 2, 3]
    assert pd.isna(table.loc["ground_truth", "rank"])
    markdown = leaderboard_markdown(table.reset_index())
    assert "Rank: mean rank over knn_mse_ratio, gtc_mean, probe_linear_r2;" in markdown
    assert "| 2 | a | **0.100**" in markdown  # best knn_mse_ratio (lower is better)
    assert "**1.000**" not in markdown and "| **0.900**" in markdown  # RL best among methods, never a reference
    assert "| **1.000** |" not in markdown  # state_std has no better direction: never bold


def test_rl_score_ranks_nothing_where_the_references_are_not_separated() -> None:
    """Where ground_truth's and random_policy's intervals overlap, the RL score would rank noise: it is
    left out of the rank, never bold, and the table says why; where they are apart, it ranks."""
    from srl_bench.bench.leaderboard import references_separated

    runs = pd.DataFrame([{"env": "e", "method": m, "seed": s, "knn_mse_ratio": v, "gtc_mean": 1 - v,
                          "probe_linear_r2": 1 - v} for m, v in [("a", 0.2), ("b", 0.8)] for s in range(3)])

    def table(ground_truth: list[float], random_policy: list[float]) -> pd.DataFrame:
        scores = {"a": [0.0, 0.1, 0.2], "b": [0.9, 1.0, 1.1], "ground_truth": ground_truth, "random_policy": random_policy}
        rl_runs = pd.DataFrame([{"env": "e", "representation": m, "seed": s, "normalised_score": v}
                                for m, values in scores.items() for s, v in enumerate(values)])
        return leaderboard(runs, rl_runs)

    apart = table([0.9, 1.0, 1.1], [-0.1, 0.0, 0.1])
    assert references_separated(apart) is True
    # a is first on the 3 metrics, b on RL: a (1, 1, 1, 2) -> 1.25, b (2, 2, 2, 1) -> 1.75
    assert apart.set_index("method").loc[["a", "b"], "mean_rank"].tolist() == [1.25, 1.75]
    assert "ranks nothing" not in leaderboard_markdown(apart)
    overlapping = table([-0.5, 1.0, 2.5], [-1.5, 0.0, 1.5])
    assert references_separated(overlapping) is False
    assert overlapping.set_index("method").loc[["a", "b"], "mean_rank"].tolist() == [1.0, 2.0]  # metrics alone
    markdown = leaderboard_markdown(overlapping)
    assert "Rank: mean rank over knn_mse_ratio, gtc_mean, probe_linear_r2;" in markdown
    assert "**The RL scores here rank nothing**" in markdown and "**1.000** [0.900" not in markdown
    assert references_separated(table([1.0], [0.0])) is None  # one seed each: no interval to tell by


@pytest.mark.parametrize("text, message", [
    ("name: x\nmethods: [random]\nenvs: []\n", "key 'envs': list should have at least 1 item"),
    ("name: x\nmethods: [nope]\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "unknown method 'nope'"),
    ("name: x\nmethods: [autoencodr]\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "unknown method 'autoencodr' \\(did you mean 'autoencoder'\\?\\)"),
    ("name: x\nmethods: autoencoder\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "key 'methods': input should be a valid list"),
    ("name: x\nmethods: [random]\nepochs: 3\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "unknown key 'epochs'"),
    ("name: x\nmethods: [random]\nenvs: [{id: srl/CartPole-v0, episode: 2}]\n", "unknown key 'envs.0.episode' \\(did you mean 'episodes'\\?\\)"),
    ("name: x\nmethods: [random]\nenvs: [{id: srl/CartPole-v0, episodes: two}]\n", "key 'envs.0.episodes'"),
    ("name: x\nmethods: [random]\nseeds: [-1]\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "key 'seeds.0': input should be greater than or equal to 0"),
    ("name: x\nmethods: [random]\nseeds: '0,1'\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "key 'seeds'"),
    ("name: x\nmethods: [random]\nseeds: [0.5]\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "key 'seeds.0'"),
    ("name: x\nmethods: [random]\nseeds: [0, 0]\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "each entry must appear once; repeated: 0"),
    ("name: x\nmethods: [random]\ntrain: [1, 2]\nenvs: [{id: srl/CartPole-v0, episodes: 2}]\n", "key 'train': input should be a valid dictionary"),
    ("- 1\n- 2\n", "must hold a mapping"),
    ("name: [unclosed\n", "not valid YAML"),
    ("extends: [quick]\n", "key 'extends' must name a benchmark"),
    ("extends: nowhere.yaml\n", "bad.yaml: 'extends': benchmark config nowhere.yaml does not exist"),
    ("extends: bad.yaml\n", "'extends' goes round in a circle \\(bad.yaml -> bad.yaml\\)"),
    ("extends: quick\nmethods: [autoencoder]\n", "each entry must appear once; repeated: autoencoder"),
])
def test_bad_benchmark_config(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SrlBenchError, match=message):
        load_benchmark(path)


def test_a_benchmark_extends_another_with_rows_of_its_own(tmp_path: Path) -> None:
    """`extends` takes every key of the base, replaces those the file sets and adds to its methods; the
    cells both benchmarks have keep their fingerprints, so a published leaderboard's records are reused."""
    from srl_bench.bench.cells import plan

    (tmp_path / "base.yaml").write_text("extends: quick\nname: middle\nseeds: [0]\n")
    (tmp_path / "mine.yaml").write_text("extends: base.yaml\nname: mine\nmethods: [pca]\n")
    quick, mine = load_benchmark("quick"), load_benchmark(tmp_path / "mine.yaml")
    assert mine.name == "mine" and mine.seeds == [0] and mine.work_dir == quick.work_dir
    assert [m.name for m in mine.methods] == [*[m.name for m in quick.methods], "pca"]
    assert mine.envs == quick.envs and mine.rl == quick.rl and mine.train == quick.train
    theirs = {cell.key: cell.fingerprint for cell in plan(quick)}
    ours = {cell.key: cell.fingerprint for cell in plan(mine)}
    shared = [key for key in ours if key in theirs]
    assert shared and all(ours[key] == theirs[key] for key in shared)
    assert {key for key in ours if key not in theirs} == {key for key in ours if "/pca/" in key}
