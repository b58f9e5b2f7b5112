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
from srl_bench.metrics import gtc, knn_mse, knn_sq_errors, linear_probe_r2, standardise


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
