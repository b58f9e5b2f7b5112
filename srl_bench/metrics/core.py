"""The metric definitions of ``docs/metrics.md``: KNN-MSE, ground-truth correlation, linear probes.

Every function takes learned states ``s`` (N, K) as the encoder returned them (unscaled) and ground
truth ``g`` (N, D), and is deterministic. Which entries of the ground truth each one reads is set
by the entries' kinds (:func:`state_kinds`): KNN-MSE, GTC and the probes' R² the *continuous* ones,
:func:`linear_probe_r2_where_present` the *optional* ones (numbers that may be absent) and
:func:`linear_probe_classify` the *categorical* ones (flags, counts, levels).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from srl_bench.errors import SrlBenchError
from srl_bench.metrics.knn import KNN_K, knn_mse, knn_sq_errors  # noqa: F401  (re-exported: the search has its own module)

CONSTANT_EPS = 1e-8
PROBE_ALPHA = 1e-3  # ridge regularisation on standardised inputs: small and fixed
PROBE_C = 100.0  # inverse L2 strength of the logistic probe on standardised inputs: weak, so rare classes
#                  keep their region of the learned space (at 1.0, a 3-frame class between two others is lost)
PROBE_MAX_ITER = 500  # L-BFGS iterations of the logistic probe

CONTINUOUS = "continuous"  # a number on every frame: regressed (R²), standardised for KNN-MSE, correlated for GTC
OPTIONAL = "optional"  # a number where its object exists, ABSENT elsewhere: regressed on the frames it exists
CATEGORICAL = "categorical"  # a class label: classified (accuracy, macro-F1)
KINDS = (CONTINUOUS, OPTIONAL, CATEGORICAL)
ABSENT = -1.0  # the value of an optional entry on a frame where its object does not exist


def state_kinds(meta: dict[str, Any]) -> list[str]:
    """The kind of each ground-truth entry of a dataset: ``"continuous"``, ``"optional"`` or
    ``"categorical"`` (``docs/metrics.md``).

    Read from, in this order: ``meta["state_kinds"]`` (a list aligned with ``meta["state_names"]``);
    the env class behind ``meta["env_id"]`` in the Gymnasium registry, when it defines
    ``state_kind(name) -> kind`` (``srl/MiniPacman-v0`` does); otherwise every entry is continuous
    (cart-pole, pendulum, Kuka, and any env that declares nothing).
    """
    names = list(meta["state_names"])
    kinds = meta.get("state_kinds")
    if kinds is None:
        kind_of = getattr(_env_class(meta.get("env_id")), "state_kind", None)
        kinds = [kind_of(name) for name in names] if callable(kind_of) else [CONTINUOUS] * len(names)
    kinds = list(kinds)
    if len(kinds) != len(names) or any(kind not in KINDS for kind in kinds):
        raise SrlBenchError(f"the state kinds must be {len(names)} values, each one of {KINDS}, "
                            f"one per state entry; got {kinds!r}")
    return kinds


def _env_class(env_id: Any) -> Any:
    """The class registered for ``env_id`` with Gymnasium, or None (unknown id, or not a class)."""
    if not isinstance(env_id, str):
        return None
    import gymnasium as gym
    from gymnasium.envs.registration import load_env_creator

    import srl_bench.envs  # noqa: F401  (registers the srl/... ids)

    try:
        entry_point = gym.spec(env_id).entry_point
        creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    except Exception:  # an id this installation does not know: nothing is declared
        return None
    return creator if isinstance(creator, type) else None


def constant_dims(g: np.ndarray) -> np.ndarray:
    """Boolean mask of ground-truth dimensions that do not vary over the set."""
    return np.asarray(g, dtype=np.float64).std(axis=0) <= CONSTANT_EPS


def standardise(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth standardised per dimension (zero mean, unit variance), constant dims dropped.

    Returns the standardised array and the mask of dropped dimensions.
    """
    g = np.asarray(g, dtype=np.float64)
    dropped = constant_dims(g)
    kept = g[:, ~dropped]
    return (kept - kept.mean(axis=0)) / kept.std(axis=0), dropped


def gtc(s: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Per ground-truth dimension d: max_j |Pearson corr(g_d, s_j)|; 0 where a learned dim is constant.

    Each maximum is taken within its own ground-truth dimension's row of the correlation matrix.
    Constant ground-truth dimensions give NaN (the caller drops them).
    """
    s = np.asarray(s, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    sc = s - s.mean(axis=0)
    gc = g - g.mean(axis=0)
    s_norm = np.sqrt((sc**2).sum(axis=0))
    g_norm = np.sqrt((gc**2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (gc.T @ sc) / np.outer(g_norm, s_norm)  # (D, K)
    corr[:, s_norm <= CONSTANT_EPS * np.sqrt(len(s))] = 0.0
    result = np.abs(corr).max(axis=1)
    result[g_norm <= CONSTANT_EPS * np.sqrt(len(g))] = np.nan
    return result


def r2_per_dim(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column: 1 − SSE / SST (SST around the true mean); may be < 0."""
    y_true = np.asarray(y_true, dtype=np.float64)
    sse = ((y_true - y_pred) ** 2).sum(axis=0)
    sst = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sst > 0, 1.0 - sse / sst, np.nan)


def linear_probe_r2(s_train: np.ndarray, g_train: np.ndarray, s_test: np.ndarray, g_test: np.ndarray,
                    alpha: float = PROBE_ALPHA) -> np.ndarray:
    """Ridge regression from standardised learned states to ground truth, fitted on the training
    frames; R² per ground-truth dimension on the test frames."""
    s_train = np.asarray(s_train, dtype=np.float64)  # fitted in float64 whatever the encoder returned
    scaler = StandardScaler().fit(s_train)
    probe = Ridge(alpha=alpha, solver="cholesky").fit(scaler.transform(s_train), np.asarray(g_train, np.float64))
    return r2_per_dim(g_test, probe.predict(scaler.transform(np.asarray(s_test, np.float64))))


def mlp_probe_r2(s_train: np.ndarray, g_train: np.ndarray, s_test: np.ndarray, g_test: np.ndarray,
                 train_groups: np.ndarray, hidden: tuple[int, ...] = (64, 64), seed: int = 0,
                 max_epochs: int = 300, patience: int = 15, batch_size: int = 256) -> np.ndarray:
    """A small MLP from standardised learned states to standardised ground truth; R² per dimension on
    the test frames.

    Early stopping watches the loss on a validation part of the training frames chosen by
    ``train_groups`` (the episode of each training frame: a fifth of the episodes validate), so no
    episode is split. Seeded: the same inputs give the same R².
    """
    import torch

    from srl_bench.nets import mlp

    groups = np.unique(train_groups)
    if len(groups) < 2:
        raise SrlBenchError("the MLP probe needs at least 2 training episodes to validate on")
    rng = np.random.default_rng(seed)
    val_groups = rng.choice(groups, max(1, len(groups) // 5), replace=False)
    is_val = np.isin(train_groups, val_groups)
    scaler = StandardScaler().fit(np.asarray(s_train, np.float64))
    g_train = np.asarray(g_train, np.float64)
    g_mean, g_std = g_train.mean(axis=0), g_train.std(axis=0)
    g_std = np.where(g_std > CONSTANT_EPS, g_std, 1.0)

    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=torch.float32)

    x_fit, y_fit = tensor(scaler.transform(s_train[~is_val])), tensor((g_train[~is_val] - g_mean) / g_std)
    x_val, y_val = tensor(scaler.transform(s_train[is_val])), tensor((g_train[is_val] - g_mean) / g_std)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64-unit MLP gains nothing from threads, and on a busy machine they spin
    try:
        model = _fit_mlp_probe(mlp(x_fit.shape[1], y_fit.shape[1], hidden), x_fit, y_fit, x_val, y_val, generator,
                               max_epochs, patience, batch_size)
        with torch.no_grad():
            prediction = model(tensor(scaler.transform(np.asarray(s_test, np.float64)))).numpy() * g_std + g_mean
    finally:
        torch.set_num_threads(threads)
    return r2_per_dim(g_test, prediction)


def _fit_mlp_probe(model, x_fit, y_fit, x_val, y_val, generator, max_epochs: int, patience: int, batch_size: int):
    """Adam on minibatches, keeping the weights with the lowest validation loss."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    best, best_state, stale = float("inf"), None, 0
    for _ in range(max_epochs):
        model.train()
        for batch in torch.randperm(len(x_fit), generator=generator).split(batch_size):
            loss = torch.nn.functional.mse_loss(model(x_fit[batch]), y_fit[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = float(torch.nn.functional.mse_loss(model(x_val), y_val))
        if val_loss < best - 1e-6:
            best, stale = val_loss, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval()


def linear_probe_r2_where_present(s_train: np.ndarray, g_train: np.ndarray, s_test: np.ndarray, g_test: np.ndarray,
                                  alpha: float = PROBE_ALPHA, absent: float = ABSENT) -> np.ndarray:
    """R² per optional ground-truth column, each regressed and scored only on the frames where it is
    present (value ≠ ``absent``).

    Inputs are standardised with the mean and standard deviation of *all* training frames' learned
    states (as for :func:`linear_probe_r2`); then, per column, ridge regression (closed form, ``alpha``,
    with an intercept) is fitted on the training frames where the column is present and scored on the
    test frames where it is present. A column present on no training frame, or on fewer than 2 test
    frames, or constant on its present test frames, has no R² (NaN).
    """
    g_train = np.asarray(g_train, dtype=np.float64).reshape(len(g_train), -1)
    g_test = np.asarray(g_test, dtype=np.float64).reshape(len(g_test), -1)
    s_train = np.asarray(s_train, dtype=np.float64)
    scaler = StandardScaler().fit(s_train)
    x_train = scaler.transform(s_train)
    x_test = scaler.transform(np.asarray(s_test, dtype=np.float64))
    result = np.full(g_train.shape[1], np.nan)
    for d in range(g_train.shape[1]):
        fit, score = g_train[:, d] != absent, g_test[:, d] != absent
        if not fit.any() or score.sum() < 2:
            continue
        probe = Ridge(alpha=alpha, solver="cholesky").fit(x_train[fit], g_train[fit, d])
        result[d] = r2_per_dim(g_test[score, d][:, None], probe.predict(x_test[score])[:, None])[0]
    return result


def linear_probe_classify(s_train: np.ndarray, y_train: np.ndarray, s_test: np.ndarray, y_test: np.ndarray,
                          c: float = PROBE_C) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression from standardised learned states to each categorical ground-truth column,
    fitted on the training frames; ``(accuracy, macro_f1)`` per column on the test frames.

    Inputs are standardised with the training frames' mean and standard deviation and fitted in
    float64 (multinomial L-BFGS, L2 with inverse strength ``c``). Per column:

    - The classes are the column's distinct values. A column with one class on the training frames
      predicts that class everywhere (nothing to fit).
    - A class that occurs on the test frames but never on the training frames cannot be predicted:
      its frames count as errors, and its F1 is 0.
    - Macro-F1 is the mean F1 over the classes that occur on the test frames (a class only ever
      predicted, never true, is not averaged in; its predictions cost the recall of the true classes).
    - A column constant on the test frames has no score (NaN), as a constant dimension has no R².
    """
    y_train = np.asarray(y_train, dtype=np.float64).reshape(len(y_train), -1)
    y_test = np.asarray(y_test, dtype=np.float64).reshape(len(y_test), -1)
    if y_train.shape[1] != y_test.shape[1]:
        raise ValueError(f"{y_train.shape[1]} training columns but {y_test.shape[1]} test columns")
    s_train = np.asarray(s_train, dtype=np.float64)
    scaler = StandardScaler().fit(s_train)
    x_train = scaler.transform(s_train)
    x_test = scaler.transform(np.asarray(s_test, dtype=np.float64))
    columns = y_train.shape[1]
    accuracy, macro_f1 = np.full(columns, np.nan), np.full(columns, np.nan)
    for d in range(columns):
        if len(np.unique(y_test[:, d])) < 2:
            continue
        classes = np.unique(y_train[:, d])
        if len(classes) == 1:
            predicted = np.full(len(y_test), classes[0])
        else:
            probe = LogisticRegression(C=c, max_iter=PROBE_MAX_ITER)
            with warnings.catch_warnings():
                # where classes separate, L-BFGS may stop at max_iter with the answer already found
                warnings.simplefilter("ignore", ConvergenceWarning)
                probe.fit(x_train, y_train[:, d])
            predicted = probe.predict(x_test)
        accuracy[d] = float(np.mean(predicted == y_test[:, d]))
        macro_f1[d] = macro_f1_score(y_test[:, d], predicted)
    return accuracy, macro_f1


def macro_f1_score(y_true: Sequence[float] | np.ndarray, y_pred: Sequence[float] | np.ndarray) -> float:
    """Mean over the classes occurring in ``y_true`` of F1 = 2·TP / (2·TP + FP + FN) (0 when a class
    is never predicted correctly)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for label in np.unique(y_true):
        true, pred = y_true == label, y_pred == label
        tp = float(np.sum(true & pred))
        scores.append(2.0 * tp / (float(true.sum()) + float(pred.sum())))  # true.sum() ≥ 1: no 0/0
    return float(np.mean(scores))
