"""Downstream RL: train an SB3 agent on the live pixel env through a frozen encoder, and score it.

``rl_evaluate`` resolves its options into one :class:`~srl_bench.rl.settings.RLRun`, then, for each
seed, trains an agent (``agent``) and evaluates it on the protocol's schedule (``protocol``), and
writes the results (``results``): ``rl.json`` (scores, budget, seeds, hyper-parameters, normalised
score), ``curve.csv`` (the learning curves), the agents when asked for and, when TensorBoard is
installed, ``tb/``, into a temporary directory that ``srl_bench.publish.Publisher`` moves into place
when complete (docs/metrics.md, "Downstream RL").
"""

from __future__ import annotations

import time
from typing import Any

import torch

from srl_bench.rl.agent import SeedResult, evaluate_random_policy, train_one_seed
from srl_bench.rl.config import load_rl_config
from srl_bench.rl.envs import EnvFactory, check_action_space, probe_env
from srl_bench.rl.protocol import Curve, EvaluationProtocol
from srl_bench.rl.representations import env_kwargs_for, resolve_representation
from srl_bench.device import resolve_device
from srl_bench.publish import Publisher
from srl_bench.rl.results import attach_references, rl_payload, strict_json, write_results
from srl_bench.rl.settings import RLRun, RunOptions
from srl_bench.rl.wrappers import frozen


def prepare_run(encoder_or_run: Any, env_id: str, algo: str, options: RunOptions) -> RLRun:
    """Everything one call needs before training, checked in this order: the output path, the action
    space, the hyper-parameters, the representation (nothing is written yet)."""
    if options.torch_threads is not None:
        torch.set_num_threads(options.torch_threads)
    device = resolve_device(options.device)
    publisher = Publisher(options.out, "rl", overwrite=options.overwrite) if options.out is not None else None
    action_space, true_state_dim = probe_env(env_id, options.env_kwargs)
    check_action_space(algo, env_id, action_space)
    config = load_rl_config(algo, env_id, options.config_overrides(), options.config_file)
    representation = resolve_representation(encoder_or_run, env_id, device)
    if representation.kind == "ground_truth":
        representation.info["state_dim"] = true_state_dim
    factory = EnvFactory(env_id, env_kwargs_for(representation, options.env_kwargs), representation,
                         runner=config.runner, gamma=config.gamma, vec_env=options.vec_env)
    return RLRun(algo=algo, env_id=env_id, options=options, config=config,
                 protocol=EvaluationProtocol.from_config(config.runner), representation=representation,
                 factory=factory, action_space=action_space, device=device, publisher=publisher)


def run_seeds(run: RLRun, curve: Curve) -> dict[int, SeedResult]:
    """Train (or, for the random policy, only evaluate) each seed in turn, the encoder frozen throughout."""
    from stable_baselines3.common.utils import set_random_seed

    results: dict[int, SeedResult] = {}
    with frozen(run.representation.encoder):
        for seed in run.options.seeds:
            set_random_seed(seed, using_cuda=run.device.type == "cuda")
            curve.start_seed()
            if run.representation.kind == "random_policy":
                results[seed] = evaluate_random_policy(run, seed, curve)
            else:
                results[seed] = train_one_seed(run, seed, curve)
    return results


def rl_evaluate(encoder_or_run: Any, env_id: str, algo: str = "ppo", settings: RunOptions | None = None,
                **options: Any) -> dict[str, Any]:
    """Train and score an SB3 agent on ``env_id`` through a frozen representation, for each seed.

    Args:
        encoder_or_run: ``"ground_truth"``, ``"raw_pixels"`` (SB3's CNN, trained end to end),
            ``"random_policy"``, a run directory, an ``srl_bench.Encoder`` (any ``nn.Module`` taking
            uint8 N×H×W×C; moved to ``device``, frozen while the agent trains) or a callable NumPy
            images -> states. Encoders with ``initial_state``/``encode_step`` keep a hidden state
            through each episode (see ``srl_bench.rl.wrappers.RecurrentEncoder``).
        env_id: an ``srl/...`` environment id.
        algo: ppo, a2c, dqn (discrete actions), sac or td3 (continuous actions).
        settings: a :class:`~srl_bench.rl.settings.RunOptions`; keyword ``options`` replace its values.
        **options: the fields of ``RunOptions``, checked (an unknown name or a wrong type is one
            SrlBenchError):

            - timesteps: training budget in env steps per seed (default: the config's ``n_timesteps``).
            - seeds: e.g. ``"0,1,2"`` or ``[0, 1, 2]`` (default 0, 1, 2).
            - out: directory for ``rl.json`` and ``curve.csv`` (nothing written when None).
            - device: ``auto`` (CUDA when present, for agent and encoder), ``cpu`` or ``cuda``.
            - n_envs, eval_freq, n_eval, frame_stack: override the config's values.
            - normalize_state: standardise the state the agent sees: False, ``"running"`` (or True) or
              ``"fixed"`` (statistics of random-action warm-up steps, then frozen); default: the config's.
            - hyperparams: overrides merged into ``srl_bench/configs/rl/<algo>.yaml``'s entry for
              ``env_id``; config_file: another such YAML.
            - env_kwargs: keyword arguments of the environment.
            - references: a folder searched for ground_truth / random_policy ``rl.json`` of the same
              env, algorithm and budget, for the normalised score.
            - vec_env: ``dummy`` (one process) or ``subproc`` (one process per env).
            - overwrite: replace an earlier RL result in ``out``; progress: show a progress bar.
            - save_agents: also save each seed's trained agent as ``agent_seed<S>.zip`` in ``out``.
            - torch_threads: ``torch.set_num_threads`` for this process (small agents often run fastest on 1).

    Returns:
        The ``rl.json`` payload, plus ``"curve"``: the evaluation rows of every seed.
    """
    run = prepare_run(encoder_or_run, env_id, algo, RunOptions.from_keywords(settings, **options))
    from tqdm.auto import tqdm

    try:
        if run.publisher is not None:
            run.publisher.begin()
        bar = tqdm(total=run.protocol.budget * len(run.options.seeds), unit="step",
                   desc=f"{algo} {run.representation.name}", disable=not run.options.progress, dynamic_ncols=True)
        curve = Curve(bar)
        start = time.perf_counter()
        try:
            results = run_seeds(run, curve)
        finally:
            bar.close()
        payload = rl_payload(run, curve.rows, results, time.perf_counter() - start)
        attach_references(payload, run.options.references)
        payload = strict_json(payload)
        if run.publisher is not None:
            write_results(run.publisher.tmp_dir, payload, curve.rows)
            run.publisher.publish()
    except BaseException:
        if run.publisher is not None:
            run.publisher.abort()
        raise
    payload["curve"] = curve.rows
    return payload
