"""Dataset format and generation: determinism, memory-mapping, episode bookkeeping, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from srl_bench.collect import generate_dataset
from srl_bench.data import ARRAY_NAMES, load_dataset, split_episodes
from srl_bench.errors import SrlBenchError


def test_layout_and_meta(cartpole_data: Path) -> None:
    data = load_dataset(cartpole_data)
    assert isinstance(data.observations, np.memmap)
    n = len(data)
    assert data.observations.shape == (n, 32, 32, 3) and data.observations.dtype == np.uint8
    assert data.states.shape == (n, 4) and data.states.dtype == np.float32
    assert data.actions.shape == (n,) and data.actions.dtype == np.int64
    assert data.rewards.dtype == np.float32 and data.episode_starts.dtype == bool
    meta = data.meta
    assert meta["env_id"] == "srl/CartPole-v0" and meta["n_episodes"] == 12 == data.n_episodes
    assert meta["state_names"] == ["cart_x", "cart_x_dot", "pole_theta", "pole_theta_dot"]
    assert meta["action_space"] == {"type": "discrete", "n": 2}
    assert set(meta["checksums"]) == {f"{name}.npy" for name in ARRAY_NAMES}
    assert sum(meta["episode_lengths"]) + data.n_episodes == n  # T steps -> T + 1 rows


def test_transitions_never_cross_episodes(cartpole_data: Path) -> None:
    data = load_dataset(cartpole_data)
    has_next = data.has_next()
    starts = np.flatnonzero(data.episode_starts)
    assert not has_next[starts[1:] - 1].any() and not has_next[-1]
    rows = np.flatnonzero(has_next)
    assert (data.episode_ids[rows] == data.episode_ids[rows + 1]).all()
    # the recorded state of row t+1 is the env's state after action a_t: pole angles change smoothly
    assert np.abs(data.states[rows + 1, 2] - data.states[rows, 2]).max() < 0.1


def test_continuous_actions(pendulum_data: Path) -> None:
    data = load_dataset(pendulum_data)
    assert data.actions.shape == (len(data), 1) and data.actions.dtype == np.float32
    assert np.abs(data.actions).max() <= 2.0
    assert not data.terminated.any()  # pendulum only truncates


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    one = generate_dataset("srl/Pendulum-v0", 4, tmp_path / "one", seed=5, image_size=16, max_steps=10, progress=False)
    two = generate_dataset("srl/Pendulum-v0", 4, tmp_path / "two", seed=5, image_size=16, max_steps=10, workers=2,
                           progress=False)
    other = generate_dataset("srl/Pendulum-v0", 4, tmp_path / "other", seed=6, image_size=16, max_steps=10,
                             progress=False)
    meta_one, meta_two = (json.loads((p / "meta.json").read_text()) for p in (one, two))
    assert meta_one["checksums"] == meta_two["checksums"]
    for name in ARRAY_NAMES:
        assert (one / f"{name}.npy").read_bytes() == (two / f"{name}.npy").read_bytes()
    assert json.loads((other / "meta.json").read_text())["checksums"] != meta_one["checksums"]


def test_split_by_episode_is_seeded_and_disjoint() -> None:
    train, test = split_episodes(20, 0.2, seed=3)
    assert len(test) == 4 and len(train) == 16 and not set(train) & set(test)
    np.testing.assert_array_equal(split_episodes(20, 0.2, seed=3)[1], test)
    assert not np.array_equal(split_episodes(20, 0.2, seed=4)[1], test)
    with pytest.raises(SrlBenchError, match="at least 2 episodes"):
        split_episodes(1, 0.2, seed=0)


def test_verify_detects_changed_bytes(tmp_path: Path, cartpole_data: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(cartpole_data, copy)
    load_dataset(copy).verify()
    with open(copy / "rewards.npy", "r+b") as handle:
        handle.seek(-1, 2)
        handle.write(b"\x7f")
    with pytest.raises(SrlBenchError, match=r"rewards\.npy does not match its checksum"):
        load_dataset(copy).verify()


def test_truncated_dataset_is_a_clear_error(tmp_path: Path, cartpole_data: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(cartpole_data, copy)
    size = (copy / "observations.npy").stat().st_size
    with open(copy / "observations.npy", "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(SrlBenchError, match=r"observations\.npy is truncated or corrupt"):
        load_dataset(copy)


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing_dir", r"dataset .*copy does not exist; make one with `srl-bench generate`"),
        ("no_meta", r"copy is not a dataset \(no meta\.json\)"),
        ("missing_array", r"copy is incomplete: states\.npy is missing"),
        ("bad_json", r"meta\.json is not valid JSON"),
    ],
)
def test_broken_dataset_is_a_clear_error(tmp_path: Path, cartpole_data: Path, damage: str, message: str) -> None:
    copy = tmp_path / "copy"
    if damage != "missing_dir":
        shutil.copytree(cartpole_data, copy)
    if damage == "no_meta":
        (copy / "meta.json").unlink()
    elif damage == "missing_array":
        (copy / "states.npy").unlink()
    elif damage == "bad_json":
        (copy / "meta.json").write_text("{not json")
    with pytest.raises(SrlBenchError, match=message):
        load_dataset(copy)


def test_failed_generation_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bad"
    with pytest.raises(SrlBenchError, match="unknown environment"):
        generate_dataset("srl/NoSuchEnv-v0", 2, out, progress=False)
    with pytest.raises(SrlBenchError, match="image_size"):
        generate_dataset("srl/CartPole-v0", 2, out, image_size=0, progress=False)
    with pytest.raises(SrlBenchError, match="unknown policy"):
        generate_dataset("srl/CartPole-v0", 2, out, policy="greedy", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_not_overwritten_by_default(tmp_path: Path) -> None:
    out = generate_dataset("srl/CartPole-v0", 2, tmp_path / "d", image_size=16, max_steps=5, progress=False)
    with pytest.raises(SrlBenchError, match="already exists; choose another --out or pass --overwrite"):
        generate_dataset("srl/CartPole-v0", 2, out, image_size=16, max_steps=5, progress=False)
    generate_dataset("srl/CartPole-v0", 3, out, image_size=16, max_steps=5, overwrite=True, progress=False)
    assert load_dataset(out).n_episodes == 3


def test_generated_meta_is_well_formed(cartpole_data: Path, pendulum_data: Path) -> None:
    from srl_bench.data.format import meta_problem

    for path in (cartpole_data, pendulum_data):
        assert meta_problem(load_dataset(path).meta) is None
    assert meta_problem({"image_shape": [8, 8, 3]}) == "meta.json lacks 'env_id'"
    assert "not an object" in meta_problem([1, 2])


def test_loading_scans_the_small_arrays_but_never_the_observations(cartpole_data: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import srl_bench.data.format as format_module

    scanned = []
    original = format_module._first_bad_row

    def spy(array, bad_rows):
        scanned.append(array.shape)
        return original(array, bad_rows)

    monkeypatch.setattr(format_module, "_first_bad_row", spy)
    data = load_dataset(cartpole_data)
    assert isinstance(data.observations, np.memmap)
    assert scanned and data.observations.shape not in scanned  # states, rewards and actions only
    assert {data.states.shape, data.rewards.shape, data.actions.shape} == set(scanned)


@pytest.mark.parametrize(
    "n_episodes, fraction, seed, message",
    [
        (10, 0.2, -1, "split seed"),
        (10, 0.2, 1.5, "split seed"),
        (10, float("nan"), 0, "held-out fraction"),
        (10, "0.2", 0, "held-out fraction"),
        (10, True, 0, "held-out fraction"),
    ],
)
def test_split_refuses_bad_fractions_and_seeds(n_episodes: int, fraction, seed, message: str) -> None:
    with pytest.raises(SrlBenchError, match=message):
        split_episodes(n_episodes, fraction, seed)
