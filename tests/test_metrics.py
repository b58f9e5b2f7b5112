"""Metric values on cases whose answer is known (docs/metrics.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
import torch

import srl_bench
from srl_bench.errors import SrlBenchError
from srl_bench.metrics import (
    ABSENT,
    gtc,
    knn_mse,
    knn_sq_errors,
    linear_probe_classify,
    linear_probe_r2,
    linear_probe_r2_where_present,
    macro_f1_score,
    standardise,
    state_kinds,
)


def test_knn_mse_hand_computed() -> None:
    # four frames on a line; in learned space 0-1 and 2-3 are pairs, so each frame's 1-NN is its pair
    s = np.array([[0.0], [0.1], [5.0], [5.1]])
    g = np.array([[0.0], [1.0], [3.0], [5.0]])
    # squared GT distances to the partner: 1, 1, 4, 4 -> mean 2.5
    assert knn_mse(s, g, k=1) == pytest.approx(2.5)


def test_knn_mse_perfect_and_random() -> None:
    rng = np.random.default_rng(0)
    clusters = np.repeat(np.arange(50.0), 4)[:, None]  # 50 states, each seen 4 times
    assert knn_mse(clusters + 1e-3 * rng.standard_normal(clusters.shape), clusters, k=3) == 0.0
    g = rng.standard_normal((2000, 3))
    g_std, _ = standardise(g)
    ratio = knn_mse(rng.standard_normal((2000, 2)), g_std, k=5) / (2 * 3)
    assert ratio == pytest.approx(1.0, abs=0.05)


def _pairwise_mean(g: np.ndarray) -> float:
    """The mean of ‖g_j − g_i‖² over ordered pairs i ≠ j: what a uniformly random neighbour gives."""
    d = ((g[:, None, :] - g[None, :, :]) ** 2).sum(axis=2)
    return float(d.sum() / (len(g) * (len(g) - 1)))


def _reference_knn_mse(s: np.ndarray, g: np.ndarray, k: int) -> float:
    """Independent brute force for states without ties: sort each row's distances."""
    d = ((s[:, None, :] - s[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d, np.inf)
    neighbours = np.argsort(d, axis=1, kind="stable")[:, :k]
    return float(((g[neighbours] - g[:, None, :]) ** 2).sum(axis=2).mean())


def test_a_collapsed_encoder_scores_chance_on_any_dataset() -> None:
    for n, seed in ((60, 0), (300, 1), (1000, 2)):
        g = np.cumsum(np.random.default_rng(seed).standard_normal((n, 3)), axis=0)  # time-ordered, like a dataset
        g_std, _ = standardise(g)
        ratio = knn_mse(np.zeros((n, 2)), g_std, k=5) / (2 * 3)
        assert ratio == pytest.approx(n / (n - 1), rel=1e-9)  # exactly chance: 1.00 up to N/(N−1)
        assert abs(ratio - 1.0) <= 0.02
    with pytest.raises(SrlBenchError, match="more than 5 frames"):
        knn_mse(np.zeros((5, 2)), g[:5], k=5)


STATES = st.integers(min_value=6, max_value=40).flatmap(lambda n: st.tuples(
    arrays(np.float64, (n, 2), elements=st.floats(-100, 100, allow_nan=False)),
    arrays(np.float64, (n, 2), elements=st.floats(-10, 10, allow_nan=False)),
    st.integers(min_value=1, max_value=5),
))


@settings(max_examples=60, deadline=None)
@given(STATES, st.randoms(use_true_random=False))
def test_knn_mse_does_not_depend_on_row_order(case, rnd) -> None:
    s, g, k = case
    order = np.array(rnd.sample(range(len(s)), len(s)))
    assert knn_mse(s[order], g[order], k) == pytest.approx(knn_mse(s, g, k), rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(STATES, st.sampled_from([1e-6, 1.0, 1e6, 1e150]))
def test_knn_mse_is_scale_free_and_bounded(case, scale: float) -> None:
    s, g, k = case
    value = knn_mse(s * scale, g, k)
    assert np.isfinite(value) and value == pytest.approx(knn_mse(s, g, k), rel=1e-6, abs=1e-9)
    d = ((g[:, None, :] - g[None, :, :]) ** 2).sum(axis=2)
    assert -1e-9 <= value <= d.max() + 1e-9


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (30, 3), elements=st.floats(-10, 10, allow_nan=False)), st.integers(1, 4))
def test_duplicated_frames_are_each_others_neighbours(g, k) -> None:
    states = np.repeat(np.arange(30.0)[:, None] * 10, k + 1, axis=0)  # every state seen k + 1 times
    truth = np.repeat(g, k + 1, axis=0)
    assert knn_mse(states, truth, k) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (12, 2), elements=st.floats(-10, 10, allow_nan=False)),
       arrays(np.float64, (12, 1), elements=st.floats(-10, 10, allow_nan=False)))
def test_when_n_is_k_plus_one_every_other_frame_is_a_neighbour(g, s) -> None:
    assert knn_mse(s, g, k=11) == pytest.approx(_pairwise_mean(g), rel=1e-9, abs=1e-9)


def test_matches_an_independent_brute_force_without_ties() -> None:
    rng = np.random.default_rng(3)
    for dims in (1, 2, 8):
        s, g = rng.standard_normal((400, dims)), rng.standard_normal((400, 3))
        assert knn_mse(s, g, k=5) == pytest.approx(_reference_knn_mse(s, g, 5), rel=1e-12)


def test_ties_count_by_their_expectation() -> None:
    # query 0 at the origin: frame 1 strictly closest, frames 2 and 3 tie for the second place
    s = np.array([[0.0], [1.0], [2.0], [-2.0], [10.0], [20.0]])
    g = np.array([[0.0], [1.0], [2.0], [4.0], [0.0], [0.0]])
    errors = knn_sq_errors(s, [g], k=2)[0]
    assert errors[0] == pytest.approx((1.0 + 0.5 * 4.0 + 0.5 * 16.0) / 2)


def _reference_expected_errors(s: np.ndarray, g: np.ndarray, k: int) -> np.ndarray:
    """Independent brute force of the tie expectation, for states whose distances are exact (integers)."""
    d = ((s[:, None, :] - s[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d, np.inf)
    errors = ((g[:, None, :] - g[None, :, :]) ** 2).sum(axis=2)
    expected = np.empty(len(s))
    for i in range(len(s)):
        kth = np.sort(d[i])[k - 1]
        closer, tied = d[i] < kth, d[i] == kth
        expected[i] = (errors[i, closer].sum() + (k - closer.sum()) * errors[i, tied].mean()) / k
    return expected


@pytest.mark.parametrize("k", [2, 5, 9])
def test_tie_groups_of_every_size_on_a_lattice(k: int) -> None:
    # a grid: each point's neighbours come in tie groups of 4 and 8, some beyond the first fetch, some
    # (with duplicated points) beyond the second, so every path of the search is taken
    grid = np.array([[x, y] for x in range(12) for y in range(12)], dtype=np.float64)
    s = np.concatenate([grid, np.repeat(grid[:3], 40, axis=0)])
    g = np.random.default_rng(k).standard_normal((len(s), 2))
    errors = knn_sq_errors(s, [g], k=k)[0]
    assert errors == pytest.approx(_reference_expected_errors(s, g - g.mean(axis=0), k), rel=1e-9, abs=1e-12)


def test_matches_the_brute_force_on_anisotropic_high_dimensional_states() -> None:
    # learned-like: a 3-dimensional manifold in 32 dimensions, where the principal-axes rotation matters
    rng = np.random.default_rng(5)
    s = np.tanh(rng.standard_normal((800, 3)) @ rng.standard_normal((3, 32))) + 0.01 * rng.standard_normal((800, 32))
    g = rng.standard_normal((800, 4))
    assert knn_mse(s, g, k=5) == pytest.approx(_reference_knn_mse(s, g, 5), rel=1e-12)


def test_standardise_drops_constant_dims() -> None:
    g = np.column_stack([np.arange(10.0), np.full(10, 3.0), np.arange(10.0) * 100])
    g_std, dropped = standardise(g)
    assert dropped.tolist() == [False, True, False]
    np.testing.assert_allclose(g_std.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(g_std.std(axis=0), 1)


def test_gtc_takes_each_maximum_within_its_own_dimension() -> None:
    rng = np.random.default_rng(1)
    g = rng.standard_normal((500, 2))
    s = np.column_stack([-3 * g[:, 0] + 1, rng.standard_normal(500)])  # only g0 is encoded
    result = gtc(s, g)
    assert result[0] == pytest.approx(1.0)
    assert result[1] < 0.15  # g1 is not encoded; its GTC must not borrow g0's correlation
    assert np.isnan(gtc(s, np.column_stack([g[:, 0], np.ones(500)]))[1])
    assert gtc(np.zeros((500, 2)), g).tolist() == [0.0, 0.0]  # constant learned dims correlate with nothing


def test_linear_probe_r2() -> None:
    rng = np.random.default_rng(2)
    g = rng.standard_normal((400, 3))
    mixing = rng.standard_normal((3, 3))
    r2 = linear_probe_r2(g[:300] @ mixing, g[:300], g[300:] @ mixing, g[300:])
    np.testing.assert_allclose(r2, 1.0, atol=1e-4)
    r2_noise = linear_probe_r2(rng.standard_normal((300, 3)), g[:300], rng.standard_normal((100, 3)), g[300:])
    assert (r2_noise < 0.1).all()


def test_evaluate_accepts_callables_modules_and_run_dirs(cartpole_data: Path, tmp_path: Path) -> None:
    data = srl_bench.load_dataset(cartpole_data)
    from_states = {}

    def oracle(images: np.ndarray) -> np.ndarray:
        # a callable that "knows" the state of each image through a lookup of its bytes
        return np.stack([from_states[img.tobytes()] for img in images])

    for img, state in zip(data.observations, data.states):
        from_states[img.tobytes()] = state
    perfect = srl_bench.evaluate(oracle, data)
    # near 1, not exactly: a few identical small frames carry different velocities
    assert perfect["probe_linear_r2"] > 0.95 and perfect["gtc_mean"] > 0.95
    assert perfect["knn_mse_ratio"] < 0.4

    class Flatten(torch.nn.Module):
        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return images.float().mean(dim=(1, 2))  # mean colour: 3 numbers

    module_scores = srl_bench.evaluate(Flatten(), data)
    assert module_scores["state_dim"] == 3
    assert module_scores["knn_mse_ratio"] > perfect["knn_mse_ratio"]
    assert module_scores["probe_linear_r2"] < perfect["probe_linear_r2"]
    assert set(module_scores["split"]["test_episodes"]) == set(perfect["split"]["test_episodes"])
    with pytest.raises(SrlBenchError, match="k must be"):
        srl_bench.evaluate(Flatten(), data, k=0)


def test_evaluate_is_deterministic(cartpole_data: Path) -> None:
    def encoder(images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), -1)[:, ::97].astype(np.float32)

    first = srl_bench.evaluate(encoder, cartpole_data)
    second = srl_bench.evaluate(encoder, cartpole_data)
    assert first == second


def test_mlp_probe_fits_a_nonlinear_map_the_linear_probe_cannot() -> None:
    from srl_bench.metrics import mlp_probe_r2

    rng = np.random.default_rng(3)
    s = rng.uniform(-2, 2, (1200, 1))
    g = np.column_stack([s[:, 0] ** 2, np.sin(2 * s[:, 0])])  # a non-linear function of the state
    groups = np.repeat(np.arange(40), 30)  # 40 "episodes" of 30 frames
    linear = linear_probe_r2(s[:900], g[:900], s[900:], g[900:])
    mlp = mlp_probe_r2(s[:900], g[:900], s[900:], g[900:], groups[:900], seed=0)
    assert (linear < 0.5).any() and (mlp > 0.9).all()
    np.testing.assert_array_equal(mlp, mlp_probe_r2(s[:900], g[:900], s[900:], g[900:], groups[:900], seed=0))


# -- state kinds: categorical entries are classified, optional ones regressed where present ---------

# per class (up to 4): frames in training (0 = never seen there) and in test
CLASS_COUNTS = st.lists(st.tuples(st.integers(0, 20), st.integers(0, 10)), min_size=2, max_size=4)


@settings(max_examples=40, deadline=None)
@given(CLASS_COUNTS, st.integers(1, 4), st.integers(0, 2**16))
def test_classification_probe_is_perfect_on_separable_classes(counts, dims, seed) -> None:
    rng = np.random.default_rng(seed)
    centres = 10.0 * rng.standard_normal((len(counts), dims))
    centres[:, 0] = 10.0 * np.arange(len(counts))  # every class its own region of the learned space

    def frames(part: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.concatenate([np.full(c[part], float(label)) for label, c in enumerate(counts)])
        return centres[y.astype(int)] + 0.01 * rng.standard_normal((len(y), dims)), y

    (s_train, y_train), (s_test, y_test) = frames(0), frames(1)
    if len(y_train) == 0 or len(y_test) == 0:
        return
    accuracy, f1 = linear_probe_classify(s_train, y_train, s_test, y_test)
    seen = np.isin(y_test, y_train)
    if len(np.unique(y_test)) < 2:
        assert np.isnan(accuracy[0]) and np.isnan(f1[0])  # constant on the test frames: no score
    elif seen.all() and min(c[0] for c in counts if c[0]) >= 3:
        assert accuracy[0] == 1.0 and f1[0] == 1.0
    else:  # a class never seen in training cannot be predicted: each of its frames is an error
        assert accuracy[0] <= seen.mean() + 1e-12
        if not seen.all():
            assert f1[0] < 1.0


def test_classification_probe_constant_and_unseen_labels() -> None:
    rng = np.random.default_rng(0)
    s_train, s_test = rng.standard_normal((50, 3)), rng.standard_normal((40, 3))
    y_test = np.repeat([0.0, 1.0], 20)
    # one class in training: it is predicted everywhere (no fit, no error)
    accuracy, f1 = linear_probe_classify(s_train, np.zeros(50), s_test, y_test)
    assert accuracy[0] == 0.5 and f1[0] == pytest.approx((2 * 20 / (20 + 40) + 0.0) / 2)
    # constant on the test frames: no score, whatever the training frames hold
    accuracy, f1 = linear_probe_classify(s_train, np.repeat([0.0, 1.0], 25), s_test, np.ones(40))
    assert np.isnan(accuracy[0]) and np.isnan(f1[0])
    # test labels 5 and 7 never occur in training: all their frames are wrong and their F1 is 0
    s_train = np.repeat([[0.0], [10.0]], 25, axis=0)
    s_test = np.repeat([[0.0], [10.0], [20.0], [30.0]], 10, axis=0)
    y_train, y_test = np.repeat([0.0, 1.0], 25), np.repeat([0.0, 1.0, 5.0, 7.0], 10)
    accuracy, f1 = linear_probe_classify(s_train, y_train, s_test, y_test)
    assert accuracy[0] == 0.5
    predicted_one = 30  # the frames at 10, 20 and 30 all fall on class 1's side
    assert f1[0] == pytest.approx((1.0 + 2 * 10 / (10 + predicted_one) + 0.0 + 0.0) / 4)


def test_macro_f1_matches_sklearn_over_the_true_classes() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 5, 300), rng.integers(0, 6, 300)
    expected = f1_score(y_true, y_pred, labels=np.unique(y_true), average="macro", zero_division=0)
    assert macro_f1_score(y_true, y_pred) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.05, 0.9))
def test_optional_entries_are_regressed_where_present(seed: int, absent_fraction: float) -> None:
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((300, 2))
    g = 3.0 * s[:, :1] + 1.0  # a linear function of the learned state ...
    g[rng.random(300) < absent_fraction] = ABSENT  # ... absent on some frames
    r2 = linear_probe_r2_where_present(s[:200], g[:200], s[200:], g[200:])
    if (g[:200] != ABSENT).any() and len(np.unique(g[200:][g[200:] != ABSENT])) >= 2:
        assert r2[0] == pytest.approx(1.0, abs=1e-6)  # the fill value does not spoil the fit
    else:
        assert np.isnan(r2[0])


def test_state_kinds_come_from_the_meta_then_the_env_class() -> None:
    cart = {"env_id": "srl/CartPole-v0", "state_names": ["cart_x", "cart_x_dot", "pole_theta", "pole_theta_dot"]}
    assert state_kinds(cart) == ["continuous"] * 4
    pacman = {"env_id": "srl/MiniPacman-v0", "state_names": ["pacman_row", "ghost0_col", "powered"]}
    assert state_kinds(pacman) == ["continuous", "optional", "categorical"]
    assert state_kinds({**pacman, "state_kinds": ["categorical"] * 3}) == ["categorical"] * 3  # meta wins
    assert state_kinds({"env_id": "someone/Else-v9", "state_names": ["a"]}) == ["continuous"]
    with pytest.raises(SrlBenchError, match="state kinds"):
        state_kinds({**pacman, "state_kinds": ["continuous", "ordinal", "categorical"]})


def _pacman_like_dataset(path: Path) -> Path:
    """A small dataset in MiniPacman's state layout (2 ghost entries), each frame a random image, the
    states drawn so that every categorical entry varies (random-policy episodes seldom eat a pill)."""
    from srl_bench.data.format import DatasetWriter
    from srl_bench.envs.minipacman import MiniPacmanEnv

    names = MiniPacmanEnv(max_ghosts=2).state_names
    rng = np.random.default_rng(0)
    with DatasetWriter(path) as writer:
        for _ in range(12):
            n = 40
            state = {name: np.full(n, ABSENT) for name in names}
            for name in ("pacman_row", "pacman_col", "food_left"):
                state[name] = rng.integers(1, 14, n).astype(float)
            for entity, count in (("ghost", 2), ("pill", 2)):
                left = rng.integers(0, count + 1, n)
                state[f"{entity}s_left"] = left.astype(float)
                for k in range(count):
                    for axis in ("row", "col"):
                        state[f"{entity}{k}_{axis}"] = np.where(left > k, rng.integers(1, 14, n), ABSENT)
            state["powered"] = rng.integers(0, 2, n).astype(float)
            state["power_time"] = state["powered"] * rng.integers(1, 21, n)
            state["level"] = rng.integers(1, 3, n).astype(float)
            starts = np.zeros(n, dtype=bool)
            starts[0] = True
            writer.add_episode({
                "observations": rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8),
                "states": np.column_stack([state[name] for name in names]).astype(np.float32),
                "actions": np.zeros(n, dtype=np.int64), "rewards": np.zeros(n, dtype=np.float32),
                "episode_starts": starts, "terminated": np.zeros(n, dtype=bool),
            })
        return writer.close({"env_id": "srl/MiniPacman-v0", "env_kwargs": {"max_ghosts": 2}, "image_shape": [8, 8, 3],
                             "state_names": list(names), "action_space": {"type": "discrete", "n": 5},
                             "policy": "random", "seed": 0, "max_steps": None})


def test_evaluate_reads_each_entry_by_its_kind(tmp_path: Path) -> None:
    data = srl_bench.load_dataset(_pacman_like_dataset(tmp_path / "pacman"))
    truth = {img.tobytes(): state for img, state in zip(data.observations, data.states)}

    def oracle(images: np.ndarray) -> np.ndarray:
        return np.stack([truth[img.tobytes()] for img in images])

    scores = srl_bench.evaluate(oracle, data)
    kinds = scores["state_kinds"]
    assert [n for n, k in kinds.items() if k == "categorical"] == ["ghosts_left", "pills_left", "powered", "level"]
    assert set(scores["gtc"]) == {n for n, k in kinds.items() if k == "continuous"}
    assert set(scores["probe_linear_r2_per_dim"]) == {n for n, k in kinds.items() if k != "categorical"}
    assert set(scores["probe_linear_acc_per_dim"]) == set(scores["probe_linear_f1_per_dim"]) == {
        n for n, k in kinds.items() if k == "categorical"}
    # the true state itself scores (nearly) perfectly on every kind, the fill value -1 notwithstanding
    assert min(scores["probe_linear_r2_per_dim"].values()) > 0.99
    assert scores["probe_linear_acc"] == 1.0 and scores["probe_linear_f1"] == 1.0
    assert scores["unscored_dims"] == []
    noise = srl_bench.evaluate(lambda images: images.reshape(len(images), -1)[:, :6].astype(np.float32), data)
    assert noise["probe_linear_r2"] < 0.2 and noise["probe_linear_f1"] < 0.7
