"""Every method of the zoo trains a few steps on a tiny dataset, reloads from its run directory and
encodes to its declared state dimension; plus the machinery the zoo relies on (splits, sequence
windows, World Models' [z, h], closed-form baselines)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from srl_bench.data import load_dataset
from srl_bench.errors import SrlBenchError
from srl_bench.methods import METHODS, DataContext, get_method
from srl_bench.methods.base import split_state
from srl_bench import evaluate
from srl_bench.runs import load_model, load_run
from srl_bench.trainer import BatchLoader, readout_run, train, window_starts

EXPECTED_METHODS = {
    "autoencoder", "denoising_autoencoder", "vae", "forward", "inverse", "reward", "robotic_priors",
    "world_models", "srl_combination", "srl_splits", "random", "pca", "supervised", "raw_pixels",
    "contrastive", "spatial_autoencoder",
}
TINY = {"epochs": 1, "batch_size": 32}


def tiny_overrides(method: str) -> dict:
    overrides = dict(TINY)
    if method == "world_models":
        overrides["losses"] = {"mdn": {"sequence_length": 4}}
    if method == "pca":
        overrides = {"fit_frames": 64}
    return overrides


def expected_state_dim(method: str, true_dim: int, image_shape: tuple[int, ...]) -> int:
    if method == "raw_pixels":
        return 8 * 8 * image_shape[2]
    if method == "spatial_autoencoder":
        return 2 * ((true_dim + 1) // 2)
    return true_dim


def test_the_zoo_is_complete() -> None:
    assert EXPECTED_METHODS <= set(METHODS)
    for method in METHODS.values():
        assert method.description and method.paper


@pytest.mark.parametrize("dataset_name", ["cartpole_data", "pendulum_data"])
@pytest.mark.parametrize("method", sorted(EXPECTED_METHODS))
def test_method_trains_reloads_and_encodes(method: str, dataset_name: str, request: pytest.FixtureRequest,
                                           tmp_path: Path) -> None:
    data_path = request.getfixturevalue(dataset_name)
    dataset = load_dataset(data_path)
    run = train(method, dataset, tmp_path / method, overrides=tiny_overrides(method), seed=1, progress=False)

    config = json.loads((run / "config.json").read_text())
    declared = expected_state_dim(method, len(dataset.state_names), dataset.image_shape)
    assert config["state_dim"] == declared
    encoder = load_run(run)
    assert encoder.state_dim == declared
    states = encoder.encode(dataset.observations[:40])
    assert states.shape == (40, declared) and np.isfinite(states).all()
    if get_method(method).trainable:
        log = (run / "train_log.csv").read_text().splitlines()
        assert log[0].startswith("epoch,train_") and len(log) == 2  # per-term losses, one epoch
    # the reloaded model is the trained one: same weights, same states
    reloaded = load_run(run)
    np.testing.assert_allclose(reloaded.encode(dataset.observations[:40]), states, rtol=1e-5, atol=1e-6)


def test_learned_methods_move_away_from_initialisation(cartpole_data: Path, tmp_path: Path) -> None:
    untrained = load_run(train("random", cartpole_data, tmp_path / "random", seed=3, progress=False))
    trained = load_run(train("autoencoder", cartpole_data, tmp_path / "ae", overrides=TINY, seed=3, progress=False))
    images = load_dataset(cartpole_data).observations[:16]
    assert not np.allclose(untrained.encode(images), trained.encode(images))


def test_state_dim_and_backbones_are_configurable(cartpole_data: Path, tmp_path: Path) -> None:
    for backbone in ("deep", "mlp"):
        run = train("autoencoder", cartpole_data, tmp_path / backbone, seed=0, progress=False,
                    overrides={**TINY, "state_dim": 6, "backbone": backbone})
        assert load_run(run).state_dim == 6
    with pytest.raises(SrlBenchError, match="key 'backbone': input should be 'small', 'deep' or 'mlp', got 'huge'"):
        train("autoencoder", cartpole_data, tmp_path / "bad", overrides={**TINY, "backbone": "huge"}, progress=False)


def test_unknown_config_key_names_the_valid_ones(cartpole_data: Path, tmp_path: Path) -> None:
    with pytest.raises(SrlBenchError, match=r"unknown key 'betta'.*valid keys here: .*patience"):
        train("vae", cartpole_data, tmp_path / "x", overrides={"betta": 4}, progress=False)
    assert not (tmp_path / "x").exists()


def test_every_trainable_method_has_a_valid_recipe() -> None:
    config_dir = Path(__file__).resolve().parents[1] / "configs" / "methods"
    for name, method in METHODS.items():
        config = method.make_config()
        if method.trainable:
            assert (config_dir / f"{name}.yaml").is_file(), f"configs/methods/{name}.yaml is missing"
            assert config.losses, name


# --- splits: each term owns a slice of the state -------------------------------------------------

def test_split_state_gives_contiguous_slices_by_share() -> None:
    losses = {"reconstruction": 1.0, "inverse": 1.0, "reward": 1.0}
    assert split_state({"reconstruction": 3, "inverse": 1}, losses, 4) == {
        "reconstruction": slice(0, 3), "inverse": slice(3, 4)}
    assert split_state({"reconstruction": 3, "inverse": 1}, losses, 3) == {
        "reconstruction": slice(0, 2), "inverse": slice(2, 3)}
    assert split_state({"reconstruction": 100, "inverse": 1}, losses, 2) == {
        "reconstruction": slice(0, 1), "inverse": slice(1, 2)}
    with pytest.raises(SrlBenchError, match="not among"):
        split_state({"forward": 1}, losses, 4)
    with pytest.raises(SrlBenchError, match="cannot each own"):
        split_state({"reconstruction": 1, "inverse": 1, "reward": 1}, losses, 2)


def test_split_terms_see_only_their_slice(cartpole_data: Path) -> None:
    dataset = load_dataset(cartpole_data)
    spec = get_method("srl_splits")
    config = spec.make_config({"state_dim": 4})
    model = spec.build(config, DataContext.from_meta(dataset.meta, np.asarray(dataset.states)))
    terms = model.objective.terms
    assert terms["reconstruction"].decoder.fc.in_features == 3
    assert terms["inverse"].model[0].in_features == 2 * 1
    assert terms["reward"].model[0].in_features == 4
    # the inverse loss moves only its own dimension of the state
    from srl_bench.losses import Batch
    from srl_bench.trainer import BatchLoader

    loader = BatchLoader(dataset, torch.device("cpu"), needs_next=True)
    starts = window_starts(dataset.episode_ids, np.arange(len(dataset)), 2)[:16]
    batch = Batch(model.encoder, loader.tensors(starts))
    state = batch.state
    state.retain_grad()
    terms["inverse"](batch.view(model.objective.slices["inverse"])).backward()
    assert state.grad[:, :3].abs().sum() == 0 and state.grad[:, 3].abs().sum() > 0


# --- sequence batches ---------------------------------------------------------------------------

def test_sequence_windows_never_cross_an_episode(cartpole_data: Path) -> None:
    dataset = load_dataset(cartpole_data)
    length = 5
    starts = window_starts(dataset.episode_ids, np.arange(len(dataset)), length)
    windows = starts[:, None] + np.arange(length)
    assert (dataset.episode_ids[windows] == dataset.episode_ids[starts][:, None]).all()
    # every start that fits is kept
    lengths = np.bincount(dataset.episode_ids)
    assert len(starts) == np.maximum(lengths - length + 1, 0).sum()
    loader = BatchLoader(dataset, torch.device("cpu"), needs_next=False, sequence_length=length)
    tensors = loader.tensors(starts[::7])
    np.testing.assert_array_equal(tensors["true_states"].numpy(), np.asarray(dataset.states)[windows[::7].reshape(-1)])


# --- World Models -------------------------------------------------------------------------------

def test_world_models_zh_runs_the_rnn_through_each_episode(cartpole_data: Path, tmp_path: Path) -> None:
    dataset = load_dataset(cartpole_data)
    run = train("world_models", dataset, tmp_path / "wm", seed=0, progress=False,
                overrides={**TINY, "losses": {"mdn": {"sequence_length": 4}}, "representation": "zh", "rnn_hidden": 8})
    encoder = load_run(run)
    assert encoder.state_dim == 4 + 8
    episode = dataset.frames_of_episodes(np.array([2, 3]))
    whole = encoder.encode_dataset(dataset, episode)
    assert whole.shape == (len(episode), 12)
    # step by step, as an agent would see it, gives the same states
    for ep in (2, 3):
        rows = dataset.frames_of_episodes(np.array([ep]))
        hidden = encoder.initial_state(1)
        previous = torch.zeros(1, encoder.action_dim)
        for row in rows:
            features, hidden = encoder.encode_step(torch.as_tensor(np.array(dataset.observations[row : row + 1])), previous, hidden)
            expected = whole[np.flatnonzero(episode == row)[0]]
            np.testing.assert_allclose(features[0].numpy(), expected, rtol=1e-4, atol=1e-5)
            previous = encoder.action_features(torch.as_tensor(np.array(dataset.actions[row : row + 1])))
    assert np.all(whole[episode == dataset.frames_of_episodes(np.array([2]))[0], 4:] == 0)  # h_0 = 0
    metrics = evaluate(run, dataset)
    assert metrics["state_dim"] == 12
    # the same weights give z alone
    encoder.set_representation("z")
    assert encoder.encode_dataset(dataset, episode).shape == (len(episode), 4)
    np.testing.assert_allclose(encoder.encode_dataset(dataset, episode), whole[:, :4], rtol=1e-5, atol=1e-6)


def test_world_models_z_and_zh_train_the_same_weights_so_zh_is_a_readout_of_z(cartpole_data: Path, tmp_path: Path) -> None:
    """The premise of sharing one training between the two read-outs (benchmarks do): the same seed
    trains bit-identical weights whatever the representation, and ``readout_run`` of the z run is the
    zh run, config and states alike."""
    overrides = {**TINY, "epochs": 2, "losses": {"mdn": {"sequence_length": 4}}, "rnn_hidden": 8}
    z_run = train("world_models", cartpole_data, tmp_path / "z", seed=3, overrides=overrides, progress=False)
    zh_run = train("world_models", cartpole_data, tmp_path / "zh", seed=3, overrides={**overrides, "representation": "zh"},
                   progress=False)
    z_weights = torch.load(z_run / "model.pt", weights_only=True)
    zh_weights = torch.load(zh_run / "model.pt", weights_only=True)
    assert z_weights.keys() == zh_weights.keys()
    assert all(torch.equal(z_weights[key], zh_weights[key]) for key in z_weights)

    readout = readout_run(z_run, tmp_path / "zh_readout", {"representation": "zh"})
    trained, derived = (json.loads((run / "config.json").read_text()) for run in (zh_run, readout))
    assert derived["config"] == trained["config"] and derived["state_dim"] == 4 + 8
    assert derived["readout_of"] == str(z_run) and derived["split"] == trained["split"]
    assert json.loads((readout / "summary.json").read_text())["state_dim"] == 12
    dataset = load_dataset(cartpole_data)
    rows = dataset.frames_of_episodes(np.array([1, 4]))
    np.testing.assert_array_equal(load_run(readout).encode_dataset(dataset, rows),
                                  load_run(zh_run).encode_dataset(dataset, rows))
    # and back: z read from the zh run is the z run
    back = readout_run(zh_run, tmp_path / "z_readout", {"representation": "z"})
    assert json.loads((back / "config.json").read_text())["config"] == json.loads((z_run / "config.json").read_text())["config"]


def test_a_readout_that_would_change_the_training_is_refused(cartpole_data: Path, tmp_path: Path) -> None:
    run = train("world_models", cartpole_data, tmp_path / "z", overrides={**TINY, "losses": {"mdn": {"sequence_length": 4}}},
                progress=False)
    for overrides, changed in (({"representation": "zh", "rnn_hidden": 8}, "rnn_hidden"), ({"lr": 0.01}, "lr"),
                               ({"representation": "zh", "state_dim": 40}, "state_dim")):
        with pytest.raises(SrlBenchError, match=f"^{changed} as given would change what .* trained"):
            readout_run(run, tmp_path / "out", overrides)
    assert not (tmp_path / "out").exists()
    # a method whose whole config shapes training has no read-out but itself
    ae = train("autoencoder", cartpole_data, tmp_path / "ae", overrides=TINY, progress=False)
    with pytest.raises(SrlBenchError, match="would change what"):
        readout_run(ae, tmp_path / "out", {"epochs": 3})


def test_world_models_needs_long_enough_episodes(cartpole_data: Path, tmp_path: Path) -> None:
    with pytest.raises(SrlBenchError, match="long enough"):
        train("world_models", cartpole_data, tmp_path / "wm", overrides={**TINY, "losses": {"mdn": {"sequence_length": 1000}}}, progress=False)


# --- baselines ----------------------------------------------------------------------------------

def test_raw_pixels_is_the_downsampled_image() -> None:
    from srl_bench.methods.baselines import RawPixelsEncoder

    image = np.zeros((1, 4, 4, 3), np.uint8)
    image[0, :2, :2, 0] = 255  # top-left quarter of the red channel
    states = RawPixelsEncoder((4, 4, 3), pixels=2).encode(image)
    np.testing.assert_allclose(states[0], [1, 0, 0, 0] + [0] * 8)


def test_pca_matches_an_exact_pca(pendulum_data: Path, tmp_path: Path) -> None:
    from sklearn.decomposition import PCA

    run = train("pca", pendulum_data, tmp_path / "pca", overrides={"fit_frames": 10_000, "state_dim": 3}, progress=False)
    encoder = load_model(run).encoder
    components = encoder.components
    np.testing.assert_allclose((components.T @ components).numpy(), np.eye(3), atol=1e-4)
    dataset = load_dataset(pendulum_data)
    test_episodes = json.loads((run / "config.json").read_text())["split"]["test_episodes"]
    train_rows = np.flatnonzero(~np.isin(dataset.episode_ids, test_episodes))
    images = dataset.observations[train_rows]
    exact = PCA(3).fit(images.reshape(len(images), -1) / 255.0)
    variances = encoder.encode(images).var(axis=0, ddof=1)
    np.testing.assert_allclose(variances, exact.explained_variance_, rtol=0.02)


def test_training_reads_a_large_dataset_a_batch_at_a_time(cartpole_data: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Datasets above the in-RAM limit are read a batch at a time, with the same batches as in RAM;
    frame and sequence batches still train."""
    import srl_bench.trainer as trainer
    from srl_bench.data.frames import RowReader

    in_ram = BatchLoader(load_dataset(cartpole_data), torch.device("cpu"), needs_next=True, frame_stack=2)
    monkeypatch.setattr(trainer, "IN_MEMORY_LIMIT", 0)
    loader = BatchLoader(load_dataset(cartpole_data), torch.device("cpu"), needs_next=True, frame_stack=2)
    assert isinstance(loader.observations, RowReader)
    starts = np.array([7, 3, 30, 0])
    for key, value in loader.tensors(starts).items():
        torch.testing.assert_close(value, in_ram.tensors(starts)[key], rtol=0, atol=0)
    for method, overrides in (("inverse", TINY), ("world_models", {**TINY, "losses": {"mdn": {"sequence_length": 3}}})):
        run = train(method, cartpole_data, tmp_path / method, overrides=overrides, progress=False)
        assert json.loads((run / "summary.json").read_text())["epochs_run"] == 1
