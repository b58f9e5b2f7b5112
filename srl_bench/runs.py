"""Run directories: everything needed to reload and re-evaluate a trained encoder.

A run directory holds ``config.json`` (method, resolved hyper-parameters, seed, split, the facts about
the data the networks were built for), ``dataset.json`` (the training dataset's identity: path,
env, seed, checksums), ``model.pt`` (the weights of the encoder and of its loss heads),
``train_log.csv`` (per-epoch losses) and ``summary.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError, read_json_object
from srl_bench.config import validate
from srl_bench.data.format import DATA_META_KEYS, meta_problem
from srl_bench.device import resolve_device  # noqa: F401  (re-exported: `from srl_bench.runs import resolve_device`)
from srl_bench.methods import METHODS, DataContext, MethodConfig, SRLModel, build_model, get_method
from srl_bench.publish import Publisher

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.pt"
# 3: `reconstruction` records its decoder `output`; 2: each loss term's parameters inside its `losses`
# entry; 1 (no `format` key): flat
RUN_FORMAT = 3

# format 1 kept every term's parameters at the top level: key -> (terms that read it, its new name)
_FLAT_TERM_KEYS = {
    "noise_std": (("reconstruction",), "noise_std"),
    "head_hidden": (("forward", "inverse", "reward", "infonce"), "head_hidden"),
    "temperature": (("infonce",), "temperature"),
    "augment_shift": (("infonce",), "augment_shift"),
    "recon_size": (("spatial_reconstruction",), "recon_size"),
    "prior_action_tolerance": (("temporal_coherence", "proportionality", "repeatability", "causality"),
                               "action_tolerance"),
    "prior_reward_tolerance": (("causality",), "reward_tolerance"),
    "sequence_length": (("mdn",), "sequence_length"),
    "mdn_components": (("mdn",), "components"),
}


def upgrade_config(values: dict[str, Any], run_format: int) -> dict[str, Any]:
    """A method config recorded in an older run format, in today's form: format 1 kept term parameters
    flat and loss weights bare; formats 1 and 2 knew only the sigmoid output of ``reconstruction``."""
    values = dict(values)
    if run_format == 1:
        losses = {name: {"weight": weight} for name, weight in (values.pop("losses", None) or {}).items()}
        for key, (terms, new_key) in _FLAT_TERM_KEYS.items():
            if key in values:
                value = values.pop(key)
                for term in terms:
                    if term in losses:
                        losses[term][new_key] = value
        values["losses"] = losses
    losses = values.get("losses")
    if run_format <= 2 and isinstance(losses, dict) and isinstance(losses.get("reconstruction"), dict):
        values["losses"] = {**losses, "reconstruction": {"output": "sigmoid", **losses["reconstruction"]}}
    return values


class RunWriter(Publisher):
    """A run directory written atomically: the ``run`` kind of ``srl_bench.publish.Publisher``.

    Construction checks ``out_dir`` and changes nothing; ``begin`` creates the temporary directory the
    files below go into, ``publish`` moves it into place, ``abort`` removes it.
    """

    def __init__(self, out_dir: str | Path, overwrite: bool = False) -> None:
        super().__init__(out_dir, "run", overwrite=overwrite)

    def write_json(self, name: str, payload: dict[str, Any]) -> None:
        """Write ``payload`` as ``name`` into the run being written."""
        with open(self.begin() / name, "w") as handle:
            json.dump(payload, handle, indent=2)

    def save_weights(self, model: SRLModel) -> None:
        """Save the model's weights into the run being written."""
        torch.save(model.state_dict(), self.begin() / WEIGHTS_FILE)


AGAIN = "train it again with `srl-bench train`"


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a run, or one clear sentence if ``run_dir`` is not a (readable) run.

    Checked: the directory and the file exist, the file is a JSON object naming a known ``method``,
    with a ``config`` mapping and a well-formed ``data_meta`` (the facts the networks were built for).
    """
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if not run_dir.exists():
        raise SrlBenchError(f"run directory {run_dir} does not exist; train one with `srl-bench train`")
    if not path.is_file():
        raise SrlBenchError(f"{run_dir} is not a run directory (no {CONFIG_FILE}); train one with `srl-bench train`")
    run_config = read_json_object(path, f"the run is damaged, {AGAIN}")
    method = run_config.get("method")
    if not isinstance(method, str) or not method:
        raise SrlBenchError(f"{path} does not say which method trained the run (no 'method'); the run is damaged, "
                            f"{AGAIN}")
    if method not in METHODS:  # a method from user code or a plug-in: import the module the run recorded
        from srl_bench.plugins import import_method_source

        import_method_source(method, run_config.get("method_source"), run_dir)
    if not isinstance(run_config.get("config"), dict):
        raise SrlBenchError(f"{path} has no 'config' mapping of the method's hyper-parameters; the run is damaged, "
                            f"{AGAIN}")
    if "data_meta" not in run_config:
        raise SrlBenchError(f"{path} has no 'data_meta' (the facts of the data the run was built for); the run is "
                            f"damaged, {AGAIN}")
    problem = meta_problem(run_config["data_meta"], DATA_META_KEYS[1:], "its 'data_meta'")  # old runs lack env_id
    if problem:
        raise SrlBenchError(f"{path} does not describe the data the run was built for: {problem}; the run is "
                            f"damaged, {AGAIN}")
    return run_config


def run_method_config(run_dir: str | Path, run_config: dict[str, Any]) -> MethodConfig:
    """The method config a run recorded (``read_run_config``'s ``config``), upgraded and checked."""
    values = run_config["config"]
    if run_config.get("format", 1) < RUN_FORMAT:
        values = upgrade_config(values, run_config.get("format", 1))
    try:
        return validate(get_method(run_config["method"]).config_class, values, f"{run_dir}/{CONFIG_FILE}")
    except SrlBenchError as exc:
        raise SrlBenchError(f"{exc}; the run does not fit this srl-bench, {AGAIN}") from None


def load_model(run_dir: str | Path, device: str = "cpu", config: MethodConfig | None = None) -> SRLModel:
    """The full trained model (encoder and loss heads) of a run, in eval mode; built from ``config``
    when given (another read-out of the same weights, ``srl_bench.trainer.readout_run``), else from the
    config the run recorded."""
    run_config = read_run_config(run_dir)
    weights = Path(run_dir) / WEIGHTS_FILE
    if not weights.is_file():
        raise SrlBenchError(f"{run_dir} has no {WEIGHTS_FILE}; the run did not finish, {AGAIN}")
    method = get_method(run_config["method"])
    if config is None:
        config = run_method_config(run_dir, run_config)
    model = build_model(method, config, DataContext.from_meta(run_config["data_meta"]))
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle, zip, EOF and runtime errors for a damaged file
        raise SrlBenchError(f"{weights} cannot be read ({exc.__class__.__name__}); the run is damaged, "
                            f"{AGAIN}") from None
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise SrlBenchError(
            f"the weights in {weights} do not fit the {run_config['method']} model of this srl-bench "
            f"(made by version {run_config.get('srl_bench_version', '?')}); train the run again"
        ) from exc
    return model.to(resolve_device(device)).eval()


def load_run(run_dir: str | Path, device: str = "cpu") -> Encoder:
    """The trained encoder of a run, in eval mode, ready for ``srl_bench.evaluate`` or RL."""
    return load_model(run_dir, device).encoder


def run_test_episodes(run_dir: str | Path, dataset: Any) -> list[int] | None:
    """The run's held-out episodes when ``dataset`` is the one it was trained on (same checksums), else None."""
    identity_file = Path(run_dir) / "dataset.json"
    if not identity_file.is_file():
        raise SrlBenchError(f"{run_dir} has no dataset.json (the identity of its training data); the run is "
                            f"incomplete, {AGAIN}")
    trained_on = read_json_object(identity_file, f"the run is damaged, {AGAIN}")
    checksums = trained_on.get("checksums")
    if not checksums or checksums != dataset.meta.get("checksums"):
        return None
    split = read_run_config(run_dir).get("split")
    return list((split if isinstance(split, dict) else {}).get("test_episodes") or []) or None


def check_run_fits(run_dir: str | Path, run_config: dict[str, Any], dataset: Any) -> None:
    """Refuse to score a run on a dataset of another environment or of another image shape."""
    trained, given = run_config["data_meta"], dataset.meta
    if trained.get("env_id") and given.get("env_id") and trained["env_id"] != given["env_id"]:
        raise SrlBenchError(f"the run {run_dir} was trained on {trained['env_id']} but the dataset {dataset.path} "
                            f"holds {given['env_id']}; score it on a dataset of {trained['env_id']}")
    shape, data_shape = tuple(trained["image_shape"]), tuple(dataset.image_shape)
    if shape != data_shape:
        raise SrlBenchError(f"the run {run_dir} was trained on {'×'.join(map(str, shape))} images but the dataset "
                            f"{dataset.path} holds {'×'.join(map(str, data_shape))} images; score it on a dataset "
                            f"of {'×'.join(map(str, shape))} images (`srl-bench generate --image-size {shape[0]}`)")


def evaluate_run(run_dir: str | Path, dataset: Any, test_fraction: float | None = None,
                 split_seed: int | None = None, **kwargs: Any) -> dict[str, Any]:
    """``srl_bench.evaluate`` of a run's encoder. On the dataset it was trained on, the run's own
    held-out episodes are scored (a different ``test_fraction`` or ``split_seed`` is refused there, as
    it would mix training episodes into the test set); on another dataset of the same environment and
    image shape, a seeded split (one of another environment or image shape is refused)."""
    from srl_bench.data import load_dataset
    from srl_bench.metrics import evaluate

    run_config = read_run_config(run_dir)
    data = dataset if hasattr(dataset, "meta") else load_dataset(dataset)
    check_run_fits(run_dir, run_config, data)
    test_episodes = run_test_episodes(run_dir, data)
    split: dict[str, Any] = {k: v for k, v in (("test_fraction", test_fraction), ("split_seed", split_seed))
                             if v is not None}
    if test_episodes is not None and split:
        recorded = run_config.get("split") if isinstance(run_config.get("split"), dict) else {}
        if any(recorded.get(key) != value for key, value in split.items()):
            raise SrlBenchError(f"{run_dir} was trained on this dataset, so it is scored on its own held-out "
                                f"episodes (test_fraction {recorded.get('test_fraction')}, split_seed "
                                f"{recorded.get('split_seed')}); drop --test-fraction/--split-seed")
    encoder = load_run(run_dir)
    check_on_dataset(encoder, data)
    return evaluate(encoder, data, test_episodes=test_episodes, **split, **kwargs)


def evaluate(encoder: Any, dataset: Any, **kwargs: Any) -> dict[str, Any]:
    """``srl_bench.evaluate``: held-out metrics of an encoder, or of a run directory (:func:`evaluate_run`).

    ``encoder`` is an ``srl_bench.Encoder``, any ``torch.nn.Module`` mapping uint8 N×H×W×C images to
    N×K states, a plain callable doing the same on NumPy arrays, or a run directory. Before scoring, a
    few frames of the dataset go through it (``srl_bench.plugins.check_encoder``): a wrong number of
    rows, NaN, a non-numeric or empty state, one that changes between calls, an exception on the
    image layout, or more dimensions than its ``state_dim`` are refused in one sentence. The keywords
    are ``srl_bench.metrics.evaluate``'s (``k``, ``test_fraction``, ``split_seed``, ``test_episodes``,
    ``whole_dataset``, ``mlp_probe``, ``batch_size``).
    """
    if isinstance(encoder, (str, os.PathLike)):
        return evaluate_run(encoder, dataset, **kwargs)
    from srl_bench.data import load_dataset
    from srl_bench.metrics import evaluate as evaluate_encoder

    if not callable(encoder):
        raise SrlBenchError(f"srl_bench.evaluate cannot score a {type(encoder).__name__}: give an srl_bench.Encoder, "
                            "a torch.nn.Module or a callable images -> states, or a run directory")
    data = dataset if hasattr(dataset, "meta") else load_dataset(dataset)
    check_on_dataset(encoder, data)
    return evaluate_encoder(encoder, data, **kwargs)


def check_on_dataset(encoder: Any, dataset: Any) -> int:
    """The door check of ``encoder`` on a few frames of ``dataset`` (``srl_bench.plugins``); its K."""
    from srl_bench.plugins import check_on_dataset as check

    return check(encoder, dataset)
