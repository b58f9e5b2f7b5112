"""The one benchmark runner: cells with fingerprints, reuse, failures recorded, --jobs, crash-proof."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from srl_bench.bench.runner import run_benchmark
from srl_bench.cli import main
from srl_bench.errors import SrlBenchError

TINY = """
name: tiny
work_dir: {work}
out: {out}
seeds: [0, 1]
methods: [random, autoencoder, {{name: ae_wide, method: autoencoder, set: {{state_dim: 6}}}}]
train: {{epochs: 2, batch_size: 32, patience: 2}}
evaluate: {{mlp_probe: false}}
envs:
  - {{id: srl/CartPole-v0, episodes: 8, max_steps: 20, image_size: 16}}
rl:
  algo: ppo
  timesteps: {{srl/CartPole-v0: 512}}
  references: [ground_truth, random_policy]
  methods: [autoencoder]
  n_eval: 2
  set: {{n_envs: 2, n_steps: 64, batch_size: 64, n_epochs: 1}}
"""


def write_config(tmp_path: Path, name: str = "tiny.yaml", **replace: str) -> Path:
    text = TINY.format(work=tmp_path / "work", out=tmp_path / "out")
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def records(work: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((work / "cells").glob("*.json"))}


def write_finished_trainings(work: Path, seconds: dict[str, float]) -> None:
    """Records of finished trainings (of earlier settings) that took these seconds, keyed by cell key."""
    (work / "cells").mkdir(parents=True, exist_ok=True)
    for key, took in seconds.items():
        (work / "cells" / f"{key.replace('/', '__')}.json").write_text(json.dumps(
            {"key": key, "stage": "train", "fingerprint": "old", "status": "done", "seconds": took}))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted run of the tiny benchmark, in this process."""
    tmp = tmp_path_factory.mktemp("bench")
    run_benchmark(write_config(tmp), progress=False)
    return tmp


def test_the_whole_flow_in_one_leaderboard(finished: Path) -> None:
    table = pd.read_csv(finished / "out" / "leaderboard.csv")
    assert set(table["method"]) == {"autoencoder", "ae_wide", "random", "ground_truth", "random_policy"}
    assert list(table["method"])[-2:] == ["ground_truth", "random_policy"]  # references last
    by_name = table.set_index("method")
    # the normalised score puts the references at exactly 1 and 0
    assert by_name.loc["ground_truth", "rl_score_mean"] == pytest.approx(1.0)
    assert by_name.loc["random_policy", "rl_score_mean"] == pytest.approx(0.0)
    assert by_name.loc["autoencoder", "rl_score_n"] == 2 and by_name.loc["random", "rl_score_n"] == 0
    assert (by_name.loc[["autoencoder", "ae_wide", "random"], "probe_linear_r2_n"] == 2).all()
    runs = pd.read_csv(finished / "out" / "runs.csv")
    assert set(runs.loc[runs["method"] == "ae_wide", "state_dim"]) == {6}
    assert "timing" not in (finished / "out" / "leaderboard.csv").read_text()
    markdown = (finished / "out" / "leaderboard.md").read_text()
    assert "RL normalised score" in markdown and "*ground_truth*" in markdown
    cells = records(finished / "work")
    assert len(cells) == 1 + 3 * 2 * 2 + 3 * 2 and all(r["status"] == "done" for r in cells.values())


def test_a_rerun_reuses_every_cell_and_writes_the_same_bytes(finished: Path, capsys) -> None:
    before = (finished / "out" / "leaderboard.csv").read_bytes()
    stamps = {p.name: p.stat().st_mtime_ns for p in (finished / "work" / "cells").iterdir()}
    run_benchmark(write_config(finished), progress=False)
    assert (finished / "out" / "leaderboard.csv").read_bytes() == before
    assert {p.name: p.stat().st_mtime_ns for p in (finished / "work" / "cells").iterdir()} == stamps
    assert "0 computed, 19 reused" in capsys.readouterr().err


def test_a_changed_setting_redoes_only_what_depends_on_it(finished: Path, tmp_path: Path, capsys) -> None:
    import shutil

    shutil.copytree(finished / "work", tmp_path / "work")
    config = write_config(tmp_path, **{"state_dim: 6": "state_dim: 5"})
    run_benchmark(config, progress=False)
    err = capsys.readouterr().err
    assert "4 computed, 15 reused" in err  # ae_wide: 2 seeds × (train + metrics)


def test_an_edited_shipped_config_redoes_the_cells_it_changes(finished: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The hyper-parameters of the shipped YAMLs are not in the fingerprints but checked against what
    each output records: an edit redoes the cells it changes, and those that read them, nothing else."""
    import shutil

    import yaml

    from srl_bench import config as config_module
    from srl_bench.bench.config import load_benchmark
    from srl_bench.bench.runner import survey
    from srl_bench.methods import get_method

    work = tmp_path / "work"
    shutil.copytree(finished / "work", work)
    config = load_benchmark(write_config(tmp_path))

    def stale() -> set[str]:
        status = survey(config, work, fresh=False)
        return {cell.key for cell in status.cells} - status.reused

    assert stale() == set()
    rl_json = work / "rl" / "CartPole-v0" / "autoencoder" / "seed0" / "rl.json"
    payload = json.loads(rl_json.read_text())
    del payload["hyperparams"]["deterministic_eval"]  # as rl.json was written before the key existed
    rl_json.write_text(json.dumps(payload))
    assert stale() == set()  # it ran on the key's default, which the config still has
    payload["hyperparams"]["deterministic_eval"] = False
    rl_json.write_text(json.dumps(payload))
    assert stale() == {"rl/CartPole-v0/autoencoder/seed0"}
    shutil.copy(finished / "work" / "rl" / "CartPole-v0" / "autoencoder" / "seed0" / "rl.json", rl_json)

    shipped = config_module.shipped_dir
    table = yaml.safe_load((shipped("rl") / "ppo.yaml").read_text())
    table["srl/CartPole-v0"]["gae_lambda"] = 0.9
    (tmp_path / "configs" / "rl").mkdir(parents=True)
    (tmp_path / "configs" / "rl" / "ppo.yaml").write_text(yaml.safe_dump(table))
    with monkeypatch.context() as patch:
        patch.setattr(config_module, "shipped_dir", lambda kind: tmp_path / "configs" / kind if kind == "rl" else shipped(kind))
        assert stale() == {f"rl/CartPole-v0/{row}/seed{seed}" for row in ("ground_truth", "autoencoder") for seed in (0, 1)}
        assert main(["leaderboard", str(work), "--out", str(tmp_path / "board")]) == 0
        assert set(pd.read_csv(tmp_path / "board" / "rl_runs.csv")["representation"]) == {"random_policy"}

    autoencoder = get_method("autoencoder")
    monkeypatch.setattr(autoencoder, "recipe", {**autoencoder.recipe, "weight_decay": 1e-4})
    assert stale() == {f"{stage}/CartPole-v0/{row}/seed{seed}" for stage in ("train", "metrics")
                       for row in ("autoencoder", "ae_wide") for seed in (0, 1)} | {
        f"rl/CartPole-v0/autoencoder/seed{seed}" for seed in (0, 1)}


def test_dry_run_lists_the_cells_and_the_time_left(finished: Path, tmp_path: Path, capsys) -> None:
    import shutil

    shutil.copytree(finished / "work", tmp_path / "work")
    config = write_config(tmp_path, **{"seeds: [0, 1]": "seeds: [0, 1, 2]"})
    assert run_benchmark(config, dry_run=True) is None
    out = capsys.readouterr().out
    assert "to do: train/CartPole-v0/autoencoder/seed2" in out and "estimated time left" in out
    assert not (tmp_path / "out").exists()
    run_benchmark(write_config(tmp_path, "same.yaml"), dry_run=True)  # the finished benchmark itself
    assert capsys.readouterr().out.splitlines()[-1] == "nothing left to do: every cell is done"


def test_jobs_1_and_2_give_the_same_leaderboard(finished: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert main(["benchmark", str(config), "--jobs", "2", "--quiet"]) == 0
    for name in ("leaderboard.csv", "runs.csv", "rl_runs.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (finished / "out" / name).read_bytes(), name


def test_a_failing_cell_is_recorded_and_the_others_go_on(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, **{
        "methods: [random, autoencoder, {name: ae_wide, method: autoencoder, set: {state_dim: 6}}]":
        "methods: [random, {name: wm_long, method: world_models, set: {losses: {mdn: {sequence_length: 500}}}}]",
        "methods: [autoencoder]": "methods: [wm_long]"})
    with pytest.raises(SrlBenchError, match=r"2 cell\(s\) failed .*run the same command again"):
        run_benchmark(config, progress=False)
    cells = records(tmp_path / "work")
    failed = {k: r for k, r in cells.items() if r["status"] == "failed"}
    assert set(failed) == {"train__CartPole-v0__wm_long__seed0", "train__CartPole-v0__wm_long__seed1"}
    record = next(iter(failed.values()))
    assert "long enough" in record["error"] and (tmp_path / "work" / record["log"]).is_file()
    table = pd.read_csv(tmp_path / "out" / "leaderboard.csv")
    assert "random" in set(table["method"]) and "wm_long" not in set(table["method"])
    assert "2 failed, 4 skipped" in capsys.readouterr().err  # its metrics and RL cells


def test_bad_runner_options_are_one_sentence(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path)
    assert main(["benchmark", str(config), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert main(["benchmark", str(config), "--address", "1.2.3.4:6379"]) == 2
    assert "--address is for --backend ray" in capsys.readouterr().err
    assert main(["benchmark", str(config), "--work-dir", "."]) == 2
    assert "working directory" in capsys.readouterr().err
    assert main(["benchmark", str(config), "--time-limit", "0s"]) == 2
    assert "--time-limit must be more than 0 seconds" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["benchmark", str(config), "--time-limit", "30"])
    assert exit_.value.code == 2 and "'30' is not a duration; write it with units" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_time_limit_starts_only_the_cells_expected_to_end_within_it(finished: Path, tmp_path: Path, capsys) -> None:
    """Agents known to take a day each (a record of earlier settings says so) are not started within
    ``--time-limit 1h``: the run computes the rest, writes the leaderboard of the cells done and exits 75;
    the same command without the limit then ends with the leaderboard of an uninterrupted run."""
    config = write_config(tmp_path)
    work = tmp_path / "work"
    (work / "cells").mkdir(parents=True)
    (work / "cells" / "rl__CartPole-v0__autoencoder__seed0.json").write_text(json.dumps(
        {"key": "rl/CartPole-v0/autoencoder/seed0", "stage": "rl", "fingerprint": "old", "status": "done",
         "seconds": 86400.0, "result": {"timesteps": 512}}))
    assert main(["benchmark", str(config), "--time-limit", "1h", "--quiet"]) == 75
    err = capsys.readouterr().err
    assert "stopped at the time limit (60 min) with 15 of 19 cells done" in err
    assert "the next, rl/CartPole-v0/ground_truth/seed0, is expected to take about 1440 min" in err
    assert "run the same command again to go on" in err and "4 left for the time limit" in err
    done = {r["key"] for r in records(work).values() if r["status"] == "done" and r["fingerprint"] != "old"}
    assert {"metrics/CartPole-v0/ae_wide/seed1", "rl/CartPole-v0/random_policy/seed1"} <= done
    assert not [key for key in done if key.startswith("rl/") and "random_policy" not in key]
    assert "**Incomplete**" in (tmp_path / "out" / "leaderboard.md").read_text()
    assert main(["benchmark", str(config), "--quiet"]) == 0
    for name in ("leaderboard.csv", "runs.csv", "rl_runs.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (finished / "out" / name).read_bytes(), name


def _default_sigint() -> None:
    # as a terminal's foreground command has it: a shell without job control starts background commands
    # (such as a CI run launched with `&`) with Ctrl-C ignored, which Python and its children then inherit
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _benchmark_process(config: Path, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    return subprocess.Popen([sys.executable, "-m", "srl_bench.cli", "benchmark", str(config), "--quiet"], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_default_sigint)


def test_killed_at_any_moment_the_same_command_finishes_the_same_leaderboard(finished: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    for delay in (3.0, 8.0):  # into dataset or training, then metrics or RL (on 2 idle cores)
        proc = _benchmark_process(config, tmp_path)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    proc = _benchmark_process(config, tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    for name in ("leaderboard.csv", "runs.csv", "rl_runs.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (finished / "out" / name).read_bytes(), name
    assert not [p for p in (tmp_path / "work").rglob(".*tmp-*")]


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    proc = _benchmark_process(config, tmp_path)
    time.sleep(6.0)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 130, text[-2000:]
    assert "run the same command again to resume" in text and "Traceback" not in text
    assert not [p for p in (tmp_path / "work").rglob(".*tmp-*")]


def test_ctrl_c_leaves_the_leaderboard_of_the_finished_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from srl_bench.bench import backends

    compute = backends.compute

    def interrupted_at_autoencoder(payload, *args):  # Ctrl-C as the second row begins
        if "/autoencoder/" in payload["key"]:
            raise KeyboardInterrupt
        return compute(payload, *args)

    monkeypatch.setattr(backends, "compute", interrupted_at_autoencoder)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(write_config(tmp_path), progress=False)
    text = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "**Incomplete**" in text and "cells done" in text
    table = pd.read_csv(tmp_path / "out" / "leaderboard.csv")
    assert set(table["method"]) == {"random", "ground_truth", "random_policy"}  # whole rows, in row order


def test_cells_start_row_by_row(tmp_path: Path) -> None:
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark
    from srl_bench.bench.runner import row_order

    keys = [cell.key for cell in row_order(plan(load_benchmark(write_config(tmp_path))))]
    rows = [key.split("/")[2] if key.count("/") == 3 else "" for key in keys]
    assert rows[0] == "" and set(rows[1:5]) == {"ground_truth", "random_policy"}
    assert [row for i, row in enumerate(rows) if i == 0 or row != rows[i - 1]] == [
        "", "ground_truth", "random_policy", "ground_truth", "random_policy", "random", "autoencoder", "ae_wide"]
    assert keys.index("rl/CartPole-v0/autoencoder/seed0") < keys.index("train/CartPole-v0/ae_wide/seed0")


def test_env_selects_part_of_a_benchmark_with_the_same_cells(tmp_path: Path, capsys) -> None:
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark, select_part

    two_envs = "  - {id: srl/Pendulum-v0, episodes: 2, max_steps: 10, image_size: 16}\nrl:"
    config = write_config(tmp_path, **{"\nrl:": "\n" + two_envs})
    whole = {cell.key: cell.fingerprint for cell in plan(load_benchmark(config))}
    part = plan(select_part(load_benchmark(config), ["Pendulum-v0"]))
    assert part and all(cell.key.split("/")[1] == "Pendulum-v0" for cell in part)
    assert all(whole[cell.key] == cell.fingerprint for cell in part)  # a later full run reuses them
    assert main(["benchmark", str(config), "--env", "srl/Pendulum-v0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Pendulum-v0" in out and "CartPole-v0" not in out
    assert main(["benchmark", str(config), "--env", "Pendulm-v0", "--dry-run"]) == 2
    assert "did you mean 'Pendulum-v0'" in capsys.readouterr().err


def test_the_dry_run_of_one_env_is_estimated_from_the_cells_of_the_others(tmp_path: Path) -> None:
    """Before any pendulum cell has run, ``--env Pendulum-v0 --dry-run`` costs each of its cells as the
    same method's finished cells on cart-pole (not the first guess), whatever part they were run in."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark, select_part
    from srl_bench.bench.runner import FIRST_GUESS, Status, estimate_seconds, past_seconds

    config = write_config(tmp_path, **{"\nrl:": "\n  - {id: srl/Pendulum-v0, episodes: 2, max_steps: 10, "
                                                "image_size: 16}\nrl:",
                                       "timesteps: {srl/CartPole-v0: 512}": "timesteps: {srl/CartPole-v0: 512, "
                                                                            "srl/Pendulum-v0: 2048}"})
    work = tmp_path / "work"
    write_finished_trainings(work, {"train/CartPole-v0/autoencoder/seed0": 100.0,
                                    "train/CartPole-v0/autoencoder/seed1": 300.0, "train/CartPole-v0/random/seed0": 2.0})
    (work / "cells" / "rl__CartPole-v0__autoencoder__seed0.json").write_text(json.dumps(
        {"key": "rl/CartPole-v0/autoencoder/seed0", "stage": "rl", "fingerprint": "old", "status": "done",
         "seconds": 60.0, "result": {"timesteps": 512}}))
    (work / "cells" / "broken.json").write_text("{")
    cells = plan(select_part(load_benchmark(config), ["Pendulum-v0"]))
    left = estimate_seconds(Status(cells, {c.key: None for c in cells}), past_seconds(work), {})
    trains = [c.key for c in cells if c.stage == "train"]
    assert trains and all("/Pendulum-v0/" in key for key in trains)
    # per seed: autoencoder its cart-pole mean, random its cart-pole time, ae_wide (never run) every train cell's mean
    assert len(trains) == 6 and left["train"] == pytest.approx(2 * (200.0 + 2.0 + 402.0 / 3))
    assert left["metrics"] == pytest.approx(FIRST_GUESS["metrics"] * sum(c.stage == "metrics" for c in cells))
    # RL by the step: pendulum's 2048 steps cost 4 × the 60 s of cart-pole's 512, for each of its 4 agents;
    # the random policy trains nothing, so no agent stands for it: the first guess
    assert sum(c.stage == "rl" for c in cells) == 6
    assert left["rl"] == pytest.approx(4 * 60.0 * 2048 / 512 + 2 * FIRST_GUESS["rl"])


def test_a_training_is_estimated_from_its_method_on_other_envs_before_other_methods_on_its_env(tmp_path: Path) -> None:
    """Once pendulum's untrained rows are done (a second each), its auto-encoder's trainings still cost
    what the auto-encoder's cost on cart-pole, not those rows' mean; a method never trained anywhere
    costs the mean of its env's trainings."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark
    from srl_bench.bench.runner import cell_seconds, past_seconds

    config = write_config(tmp_path, **{"\nrl:": "\n  - {id: srl/Pendulum-v0, episodes: 2, max_steps: 10, "
                                                "image_size: 16}\nrl:"})
    work = tmp_path / "work"
    write_finished_trainings(work, {"train/CartPole-v0/autoencoder/seed0": 600.0, "train/Pendulum-v0/random/seed0": 1.0,
                                    "train/Pendulum-v0/random/seed1": 3.0})
    cells = {cell.key: cell for cell in plan(load_benchmark(config))}
    spent = past_seconds(work)
    assert cell_seconds(cells["train/Pendulum-v0/autoencoder/seed1"], spent) == pytest.approx(600.0)
    assert cell_seconds(cells["train/Pendulum-v0/ae_wide/seed0"], spent) == pytest.approx(2.0)


def test_the_dry_run_counts_trainings_kept_after_an_epoch(tmp_path: Path, capsys) -> None:
    from srl_bench.resume import CHECKPOINT_FILE, resume_dir_for

    config = write_config(tmp_path)
    kept = resume_dir_for(tmp_path / "work" / "runs" / "CartPole-v0" / "autoencoder" / "seed1")
    kept.mkdir(parents=True)
    (kept / CHECKPOINT_FILE).write_bytes(b"a training interrupted after an epoch")
    run_benchmark(config, dry_run=True)
    lines = capsys.readouterr().out.splitlines()
    assert next(line for line in lines if line.startswith("train ")).endswith("(1 to resume from a kept epoch)")


def test_an_untrained_row_does_not_set_what_a_training_costs(tmp_path: Path) -> None:
    """MiniPacman's untrained rows finish in seconds; a method trained on no env yet is then expected
    to cost what the env's real trainings cost (here 600 s), not those rows' seconds, which once let a
    run start an hour's training seconds before its time limit."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark
    from srl_bench.bench.runner import cell_seconds, past_seconds

    work = tmp_path / "work"
    write_finished_trainings(work, {"train/CartPole-v0/autoencoder/seed0": 600.0})
    for seed in (0, 1):
        (work / "cells" / f"train__CartPole-v0__random__seed{seed}.json").write_text(json.dumps(
            {"key": f"train/CartPole-v0/random/seed{seed}", "stage": "train", "fingerprint": "old", "status": "done",
             "seconds": 0.05, "result": {"epochs_run": 0, "stopped": "not_trained"}}))
    cells = {cell.key: cell for cell in plan(load_benchmark(write_config(tmp_path)))}
    spent = past_seconds(work)
    assert cell_seconds(cells["train/CartPole-v0/ae_wide/seed0"], spent) == pytest.approx(600.0)
    assert cell_seconds(cells["train/CartPole-v0/random/seed1"], spent) == pytest.approx(0.05)


def _keep_training(work: Path, run: str, epoch: int, seconds: float) -> None:
    """What an interrupted training leaves: its checkpoint and progress beside the run it writes."""
    from srl_bench.resume import CHECKPOINT_FILE, PROGRESS_FILE, resume_dir_for

    kept = resume_dir_for(work / "runs" / "CartPole-v0" / run)
    kept.mkdir(parents=True)
    (kept / CHECKPOINT_FILE).write_bytes(b"a training interrupted after an epoch")
    (kept / PROGRESS_FILE).write_text(json.dumps({"epoch": epoch, "seconds": seconds}))


def test_a_kept_training_is_expected_to_cost_what_is_left_of_it(tmp_path: Path) -> None:
    """ae_wide's trainings take 600 s: one kept after 5 epochs and 450 s is expected to take 150 s
    more; an auto-encoder's kept after 2 epochs and 900 s (its trainings take 600 s), at least one more
    epoch, 450 s."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark
    from srl_bench.bench.runner import cell_seconds, kept_trainings, past_seconds

    work = tmp_path / "work"
    write_finished_trainings(work, {"train/CartPole-v0/ae_wide/seed0": 600.0})
    _keep_training(work, "ae_wide/seed1", epoch=5, seconds=450.0)
    _keep_training(work, "autoencoder/seed1", epoch=2, seconds=900.0)
    write_finished_trainings(work, {"train/CartPole-v0/autoencoder/seed0": 600.0})
    cells = {cell.key: cell for cell in plan(load_benchmark(write_config(tmp_path)))}
    kept = kept_trainings(list(cells.values()), work)
    assert set(kept) == {"train/CartPole-v0/ae_wide/seed1", "train/CartPole-v0/autoencoder/seed1"}
    spent = past_seconds(work)
    seconds = {key: cell_seconds(cells[key], spent, kept.get(key)) for key in (
        "train/CartPole-v0/ae_wide/seed1", "train/CartPole-v0/autoencoder/seed1", "train/CartPole-v0/ae_wide/seed0")}
    assert seconds == pytest.approx({"train/CartPole-v0/ae_wide/seed1": 150.0,
                                     "train/CartPole-v0/autoencoder/seed1": 450.0,
                                     "train/CartPole-v0/ae_wide/seed0": 600.0})


def test_a_kept_training_starts_before_the_cells_it_would_follow(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """In row order ae_wide's trainings come last; kept after an epoch, one is the first cell started
    once its dataset is there, so a run resumed under a time limit finishes what it began."""
    from srl_bench.bench import backends

    compute, started = backends.compute, []

    def stop_at_the_first_training(payload, *args):
        started.append(payload["key"])
        if payload["stage"] != "dataset":
            raise KeyboardInterrupt
        return compute(payload, *args)

    _keep_training(tmp_path / "work", "ae_wide/seed1", epoch=1, seconds=5.0)
    monkeypatch.setattr(backends, "compute", stop_at_the_first_training)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(write_config(tmp_path), progress=False)
    assert started == ["dataset/CartPole-v0", "train/CartPole-v0/ae_wide/seed1"]


def test_an_rl_cell_is_estimated_from_agents_of_its_own_algorithm(tmp_path: Path) -> None:
    """Before any MiniPacman agent has run, its PPO agents cost what cart-pole's PPO agents cost per
    step, not a mean with pendulum's SAC ones (a SAC step costs many PPO steps)."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark, select_part
    from srl_bench.bench.runner import Status, estimate_seconds, past_seconds

    config = write_config(tmp_path, **{
        "\nrl:": "\n  - {id: srl/Pendulum-v0, episodes: 2, max_steps: 10, image_size: 16}"
                 "\n  - {id: srl/MiniPacman-v0, episodes: 2, max_steps: 10}\nrl:",
        "  algo: ppo": "  algo: ppo\n  algos: {srl/Pendulum-v0: sac}",
        "timesteps: {srl/CartPole-v0: 512}": "timesteps: {srl/CartPole-v0: 512, srl/Pendulum-v0: 512, "
                                             "srl/MiniPacman-v0: 1024}",
        "  set: {n_envs: 2, n_steps: 64, batch_size: 64, n_epochs: 1}\n": ""})
    whole = plan(load_benchmark(config))
    algo_of = {c.key: c.spec["algo"] for c in whole if c.stage == "rl"}
    assert algo_of["rl/Pendulum-v0/ground_truth/seed0"] == "sac"
    work = tmp_path / "work"
    (work / "cells").mkdir(parents=True)
    for key, seconds in (("rl/CartPole-v0/ground_truth/seed0", 10.0), ("rl/Pendulum-v0/ground_truth/seed0", 1000.0),
                         ("rl/Pendulum-v0/random_policy/seed0", 1.0)):
        (work / "cells" / f"{key.replace('/', '__')}.json").write_text(json.dumps(
            {"key": key, "stage": "rl", "fingerprint": "old", "status": "done", "seconds": seconds,
             "result": {"timesteps": 512}}))
    cells = [c for c in plan(select_part(load_benchmark(config), ["MiniPacman-v0"])) if c.stage == "rl"]
    assert len(cells) == 6  # ground truth, the random policy and the auto-encoder's agent, 2 seeds each
    left = estimate_seconds(Status(cells, {c.key: None for c in cells}), past_seconds(work, algo_of), {})
    # the agents at cart-pole's PPO rate; the random policy (which trains nothing) at its own rate only
    assert left["rl"] == pytest.approx((4 * 10.0 + 2 * 1.0) * 1024 / 512)
    # without the algorithms the two agents' rates are mixed
    mixed = estimate_seconds(Status(cells, {c.key: None for c in cells}), past_seconds(work), {})
    assert mixed["rl"] == pytest.approx((4 * (10.0 + 1000.0) / 2 + 2 * 1.0) * 1024 / 512)


def test_the_ground_truth_agent_does_not_set_what_an_env_s_pixel_agents_cost(tmp_path: Path) -> None:
    """The true state's agent reads no frames: once MiniPacman's had run (34 s per 100k steps), its
    rate set every pixel-reading agent's there, and a run started a raw-pixels agent of ~30 min a
    minute before its time limit. An agent now looks to its own representation's rate on another env
    first (here cart-pole's auto-encoder agent) before the env's other agents."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark
    from srl_bench.bench.runner import cell_seconds, past_seconds

    config = write_config(tmp_path, **{
        "\nrl:": "\n  - {id: srl/MiniPacman-v0, episodes: 2, max_steps: 10}\nrl:",
        "timesteps: {srl/CartPole-v0: 512}": "timesteps: {srl/CartPole-v0: 512, srl/MiniPacman-v0: 1024}",
        "  set: {n_envs: 2, n_steps: 64, batch_size: 64, n_epochs: 1}\n": ""})
    cells = {c.key: c for c in plan(load_benchmark(config))}
    algo_of = {key: c.spec["algo"] for key, c in cells.items() if c.stage == "rl"}
    work = tmp_path / "work"
    (work / "cells").mkdir(parents=True)
    for key, seconds in (("rl/MiniPacman-v0/ground_truth/seed0", 1.0), ("rl/CartPole-v0/autoencoder/seed0", 100.0)):
        (work / "cells" / f"{key.replace('/', '__')}.json").write_text(json.dumps(
            {"key": key, "stage": "rl", "fingerprint": "old", "status": "done", "seconds": seconds,
             "result": {"timesteps": 512 if "CartPole" in key else 1024}}))
    spent = past_seconds(work, algo_of)
    assert cell_seconds(cells["rl/MiniPacman-v0/autoencoder/seed0"], spent) == pytest.approx(100.0 * 1024 / 512)
    assert cell_seconds(cells["rl/MiniPacman-v0/ground_truth/seed1"], spent) == pytest.approx(1.0)


def test_sampled_evaluation_is_in_the_fingerprints_of_that_env_only(tmp_path: Path) -> None:
    """configs/rl/ppo.yaml evaluates MiniPacman agents on sampled actions (rl-zoo3's practice for
    maze games, where greedy policies loop): its RL cells say so; cart-pole's specs are unchanged."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark
    from srl_bench.rl.config import load_rl_config
    from srl_bench.rl.protocol import EvaluationProtocol

    protocol = EvaluationProtocol.from_config(load_rl_config("ppo", "srl/MiniPacman-v0").runner)
    assert protocol.deterministic is False and protocol.describe()["deterministic"] is False
    assert EvaluationProtocol.from_config(load_rl_config("ppo", "srl/CartPole-v0").runner).deterministic is True
    pacman = "  - {id: srl/MiniPacman-v0, episodes: 2, max_steps: 10}\nrl:"
    cells = plan(load_benchmark(write_config(tmp_path, **{"\nrl:": "\n" + pacman})))
    rl_cells = {cell.key: cell.spec for cell in cells if cell.stage == "rl"}
    assert {key for key, spec in rl_cells.items() if spec.get("deterministic_eval") is False} == {
        key for key in rl_cells if key.startswith("rl/MiniPacman-v0/")} != set()
    assert all("deterministic_eval" not in spec for key, spec in rl_cells.items() if "CartPole" in key)


def test_evaluation_episodes_per_env(tmp_path: Path, capsys) -> None:
    """``rl.n_eval`` as env id -> count: each env's RL cells get their own; a single count is the same
    for every env and keeps the fingerprints a per-env mapping of the same counts has."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark, select_part

    two_envs = "  - {id: srl/Pendulum-v0, episodes: 2, max_steps: 10, image_size: 16}\nrl:"
    single = write_config(tmp_path, **{"\nrl:": "\n" + two_envs})
    mapped = write_config(tmp_path, "mapped.yaml", **{"\nrl:": "\n" + two_envs,
                                                     "n_eval: 2": "n_eval: {srl/CartPole-v0: 2, srl/Pendulum-v0: 7}"})
    before = {cell.key: cell for cell in plan(load_benchmark(single))}
    after = {cell.key: cell for cell in plan(load_benchmark(mapped))}
    assert {cell.spec["n_eval"] for key, cell in after.items() if key.startswith("rl/Pendulum-v0/")} == {7}
    for key, cell in after.items():
        assert (cell.fingerprint == before[key].fingerprint) == ("Pendulum-v0" not in key or not key.startswith("rl/"))
    part = select_part(load_benchmark(mapped), ["Pendulum-v0"])
    assert part.rl.n_eval == {"srl/Pendulum-v0": 7}
    assert all(after[cell.key].fingerprint == cell.fingerprint for cell in plan(part))
    typo = write_config(tmp_path, "typo.yaml", **{"n_eval: 2": "n_eval: {srl/CartPol-v0: 2}"})
    assert main(["benchmark", str(typo), "--dry-run"]) == 2
    assert "rl.n_eval names srl/CartPol-v0, which the benchmark does not list" in capsys.readouterr().err


def test_method_selects_rows_and_keeps_the_references(tmp_path: Path, capsys) -> None:
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark, select_part

    config = write_config(tmp_path)
    whole = {cell.key: cell.fingerprint for cell in plan(load_benchmark(config))}
    part = plan(select_part(load_benchmark(config), rows=["autoencoder"]))
    assert {cell.key.split("/")[2] for cell in part if cell.key.count("/") == 3} == {
        "autoencoder", "ground_truth", "random_policy"}
    assert all(whole[cell.key] == cell.fingerprint for cell in part)
    # the references alone: every normalised score's ends, e.g. to check an RL budget first; in worker
    # processes, one of which starts generation workers of its own
    config = write_config(tmp_path, **{"image_size: 16}": "image_size: 16, workers: 2}"})
    assert main(["benchmark", str(config), "--method", "ground_truth", "--jobs", "2", "--quiet"]) == 0
    capsys.readouterr()
    table = pd.read_csv(tmp_path / "out" / "leaderboard.csv")
    assert list(table["method"]) == ["ground_truth", "random_policy"]
    assert set(records(tmp_path / "work")) == {f"rl__CartPole-v0__{ref}__seed{s}" for ref in ("ground_truth", "random_policy")
                                               for s in (0, 1)} | {"dataset__CartPole-v0"}
    assert "--method ground_truth" in (tmp_path / "out" / "leaderboard.md").read_text()
    # the work directory's leaderboard is the whole benchmark's: what this part did, and what is left
    assert main(["leaderboard", str(tmp_path / "work")]) == 0
    done = len(records(tmp_path / "work"))
    shown = capsys.readouterr().out
    assert f"**Incomplete**: {done} of {len(whole)} cells done" in shown
    assert f"`srl-bench benchmark {config}` finishes it" in shown
    # gathered into a folder, finishing it goes on from that folder's records
    assert main(["leaderboard", str(tmp_path / "work"), "--out", str(tmp_path / "gathered")]) == 0
    gathered = (tmp_path / "gathered" / "leaderboard.md").read_text()
    assert f"`srl-bench benchmark {config} --out {tmp_path / 'gathered'}` finishes it" in gathered
    assert main(["benchmark", str(config), "--method", "autoencodr", "--dry-run"]) == 2
    assert "did you mean 'autoencoder'" in capsys.readouterr().err


@pytest.mark.slow
def test_ray_backend_gives_the_same_leaderboard(finished: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run_benchmark(write_config(tmp_path), backend="ray", jobs=2, progress=False)
    finally:
        ray.shutdown()
    for name in ("leaderboard.csv", "runs.csv", "rl_runs.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (finished / "out" / name).read_bytes(), name


def _published_copy(finished: Path, tmp_path: Path) -> Path:
    """The finished leaderboard folder, copied, as if its work directory were gone."""
    import shutil

    folder = tmp_path / "out"
    shutil.copytree(finished / "out", folder)
    timing = json.loads((folder / "timing.json").read_text())
    (folder / "timing.json").write_text(json.dumps({**timing, "work_dir": str(tmp_path / "gone")}))
    return folder


def test_the_leaderboard_folder_stands_without_its_work_directory(finished: Path, tmp_path: Path, capsys) -> None:
    folder = _published_copy(finished, tmp_path)
    published = records(folder)
    assert set(published) == set(records(finished / "work"))  # every finished cell
    rl = published["rl__CartPole-v0__autoencoder__seed0"]
    assert rl["settings"]["n_steps"] == 64 and [p["timesteps"] for p in rl["curve_points"]][0] == 0
    for again in (folder, tmp_path / "elsewhere"):  # in place, and into a new folder
        assert main(["leaderboard", str(folder), "--out", str(again)]) == 0
        for name in ("leaderboard.md", "leaderboard.csv", "runs.csv", "rl_runs.csv", "curves.csv", "aggregates.csv"):
            assert (again / name).read_bytes() == (folder / name).read_bytes(), name
        # the runs are not here: their pictures are the ones the folder had
        assert (again / "plots" / "CartPole-v0" / "autoencoder_seed0_training.png").read_bytes() == (
            finished / "out" / "plots" / "CartPole-v0" / "autoencoder_seed0_training.png").read_bytes()
        assert "no run directory" not in capsys.readouterr().err
    assert (folder / "runs.csv").read_bytes() == (finished / "out" / "runs.csv").read_bytes()


def test_a_work_directory_a_later_run_reused_does_not_change_the_folder(finished: Path, tmp_path: Path,
                                                                         capsys) -> None:
    import shutil

    folder, work = _published_copy(finished, tmp_path), tmp_path / "work2"
    shutil.copytree(finished / "work", work)
    timing = json.loads((folder / "timing.json").read_text())
    (folder / "timing.json").write_text(json.dumps({**timing, "work_dir": str(work)}))
    assert main(["leaderboard", str(folder), "--out", str(tmp_path / "same")]) == 0  # the same run: read live
    assert "holds other records" not in capsys.readouterr().err
    assert json.loads((tmp_path / "same" / "timing.json").read_text())["work_dir"] == str(work)
    # a later run with other settings reuses the work directory: one metrics record is now another's
    path = work / "cells" / "metrics__CartPole-v0__autoencoder__seed0.json"
    later = json.loads(path.read_text())
    path.write_text(json.dumps({**later, "fingerprint": "later", "result": {**later["result"], "knn_mse_ratio": 9.0}}))
    assert main(["leaderboard", str(folder), "--out", str(tmp_path / "again")]) == 0
    assert "holds other records for 1 of the cells" in capsys.readouterr().err
    for name in ("leaderboard.csv", "runs.csv", "rl_runs.csv", "curves.csv", "aggregates.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (folder / name).read_bytes(), name
    assert "holds other records" in (tmp_path / "again" / "index.html").read_text()


def test_a_new_work_directory_adopts_the_published_records(finished: Path, tmp_path: Path, capsys) -> None:
    import torch

    folder = _published_copy(finished, tmp_path)
    config = write_config(tmp_path)
    assert run_benchmark(config, progress=False) == folder
    assert "0 computed, 19 reused (19 from the leaderboard folder's records)" in capsys.readouterr().err
    for name in ("leaderboard.csv", "runs.csv", "rl_runs.csv", "curves.csv"):
        assert (folder / name).read_bytes() == (finished / "out" / name).read_bytes(), name
    # a third RL seed trains on the encoder of seed 0, whose run is not here: it is made again (with its
    # dataset), the same run, and its metrics are not computed again
    more = write_config(tmp_path, "more.yaml", **{"  n_eval: 2": "  n_eval: 2\n  seeds: [0, 1, 2]"})
    run_benchmark(more, dry_run=True)
    plan_text = capsys.readouterr().out
    assert "to do: train/CartPole-v0/autoencoder/seed0" in plan_text and "(1 remade)" in plan_text
    run_benchmark(more, progress=False)
    assert "5 computed, 17 reused" in capsys.readouterr().err  # 22 cells: dataset and train seed0 again, 3 agents of seed 2
    computed = {key for key, r in records(tmp_path / "work").items() if "settings" in r or key.startswith("dataset")}
    assert "train__CartPole-v0__autoencoder__seed0" in computed and "metrics__CartPole-v0__autoencoder__seed0" not in computed
    remade = torch.load(tmp_path / "work/runs/CartPole-v0/autoencoder/seed0/model.pt", map_location="cpu")
    original = torch.load(finished / "work/runs/CartPole-v0/autoencoder/seed0/model.pt", map_location="cpu")
    assert remade.keys() == original.keys() and all(torch.equal(remade[k], original[k]) for k in original)
    assert set(pd.read_csv(folder / "rl_runs.csv")["seed"]) == {0, 1, 2}


def test_a_published_record_of_other_settings_is_not_adopted(finished: Path, tmp_path: Path, capsys) -> None:
    _published_copy(finished, tmp_path)
    run_benchmark(write_config(tmp_path, **{"state_dim: 6": "state_dim: 5"}), dry_run=True)
    assert "15 cell(s) done by the records" in capsys.readouterr().out  # ae_wide's 4 cells are not


def test_an_env_revision_is_in_its_own_cells_fingerprints(tmp_path: Path) -> None:
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark

    cart_pole = "  - {id: srl/CartPole-v0, episodes: 8, max_steps: 20, image_size: 16}"
    alone = {c.key: c for c in plan(load_benchmark(write_config(tmp_path)))}
    both = {c.key: c for c in plan(load_benchmark(write_config(tmp_path, "both.yaml", **{
        cart_pole: cart_pole + "\n  - {id: srl/KukaButton-v0, episodes: 2, max_steps: 5, image_size: 16}"})))}
    assert both["dataset/KukaButton-v0"].spec["env_revision"] == 2  # the arm drawn from simplified meshes
    assert both["rl/KukaButton-v0/ground_truth/seed0"].spec["env_revision"] == 2
    assert all(both[key].fingerprint == cell.fingerprint for key, cell in alone.items())  # cart-pole's kept
    assert "env_revision" not in both["dataset/CartPole-v0"].spec


def test_a_part_run_into_the_folder_of_the_whole_keeps_the_other_records(finished: Path, tmp_path: Path,
                                                                        capsys) -> None:
    folder = _published_copy(finished, tmp_path)
    before = set(records(folder))
    run_benchmark(write_config(tmp_path), rows=["autoencoder"], progress=False)
    assert set(pd.read_csv(folder / "leaderboard.csv")["method"]) == {"autoencoder", "ground_truth", "random_policy"}
    assert set(records(folder)) == before  # random's and ae_wide's records are still there
    picture = Path("plots/CartPole-v0/ae_wide_seed0_training.png")  # and so are their pictures
    assert (folder / picture).read_bytes() == (finished / "out" / picture).read_bytes()
    # `srl-bench leaderboard FOLDER --whole`: the whole benchmark again, from the records the folder carries
    assert main(["leaderboard", str(folder), "--whole", "--out", str(tmp_path / "whole")]) == 0
    for name in ("runs.csv", "rl_runs.csv"):
        assert (tmp_path / "whole" / name).read_bytes() == (finished / "out" / name).read_bytes(), name
    capsys.readouterr()
    run_benchmark(write_config(tmp_path), progress=False)  # and the whole benchmark needs nothing computed
    err = capsys.readouterr().err
    assert "0 computed, 19 reused" in err and "no run directory" not in err
    assert (folder / "runs.csv").read_bytes() == (finished / "out" / "runs.csv").read_bytes()
    assert (folder / picture).read_bytes() == (finished / "out" / picture).read_bytes()
    assert "ae_wide_seed0_training.png" in (folder / "index.html").read_text()


def test_each_record_reaches_the_folder_as_its_cell_finishes(finished: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    tables = importlib.import_module("srl_bench.bench.leaderboard")
    folder = _published_copy(finished, tmp_path)

    def machine_gone(*args, **kwargs):  # the run dies before it writes any table
        raise RuntimeError("machine gone")

    monkeypatch.setattr(tables, "write_leaderboard", machine_gone)
    with pytest.raises(RuntimeError, match="machine gone"):
        run_benchmark(write_config(tmp_path, **{"seeds: [0, 1]": "seeds: [0, 1, 2]"}), progress=False)
    published = records(folder)
    assert {"train__CartPole-v0__autoencoder__seed2", "metrics__CartPole-v0__ae_wide__seed2",
            "rl__CartPole-v0__autoencoder__seed2"} <= set(published)
    assert published["rl__CartPole-v0__autoencoder__seed2"]["curve_points"]
    assert (folder / "leaderboard.csv").read_bytes() == (finished / "out" / "leaderboard.csv").read_bytes()


def test_variants_that_train_alike_share_one_training(tmp_path: Path) -> None:
    """World Models read as z and as [z, h] train the same weights (tests/test_methods.py checks that
    premise bit for bit): the [z, h] row reads the z row's run of the same seed instead of training
    again; a variant that trains otherwise keeps its own training."""
    import torch

    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark

    wm = "{name: wm, method: world_models, set: {losses: {mdn: {sequence_length: 4}}}}"
    zh = "{name: wm_zh, method: world_models, set: {representation: zh, losses: {mdn: {sequence_length: 4}}}}"
    other = "{name: wm_h8, method: world_models, set: {representation: zh, rnn_hidden: 8, losses: {mdn: {sequence_length: 4}}}}"
    config = write_config(tmp_path, **{
        "methods: [random, autoencoder, {name: ae_wide, method: autoencoder, set: {state_dim: 6}}]":
        f"methods: [{wm}, {zh}, {other}]", "methods: [autoencoder]": "methods: [wm_zh]"})
    cells = {cell.key: cell for cell in plan(load_benchmark(config))}
    for seed in (0, 1):
        shared = cells[f"train/CartPole-v0/wm_zh/seed{seed}"]
        assert shared.spec["readout_of"] == f"runs/CartPole-v0/wm/seed{seed}"
        assert shared.spec["readout"] == {"representation": "zh"}
        assert f"train/CartPole-v0/wm/seed{seed}" in shared.deps
        assert "readout_of" not in cells[f"train/CartPole-v0/wm_h8/seed{seed}"].spec
    run_benchmark(config, progress=False)
    work = tmp_path / "work"
    done = records(work)
    assert all(record["status"] == "done" for record in done.values())
    for seed in (0, 1):
        z_run, zh_run = (work / "runs" / "CartPole-v0" / name / f"seed{seed}" for name in ("wm", "wm_zh"))
        assert (zh_run / "model.pt").read_bytes() == (z_run / "model.pt").read_bytes()
        z_result, zh_result = (done[f"train__CartPole-v0__{name}__seed{seed}"]["result"] for name in ("wm", "wm_zh"))
        assert zh_result["state_dim"] == z_result["state_dim"] + 32
        assert {k: v for k, v in zh_result.items() if k not in ("state_dim", "seconds")} == \
            {k: v for k, v in z_result.items() if k not in ("state_dim", "seconds")}
        h8 = torch.load(work / "runs" / "CartPole-v0" / "wm_h8" / f"seed{seed}" / "model.pt", weights_only=True)
        assert h8["encoder.memory.weight_hh_l0"].shape[1] == 8
    runs = pd.read_csv(tmp_path / "out" / "runs.csv").set_index(["method", "seed"])
    assert runs.loc[("wm_zh", 0), "state_dim"] == runs.loc[("wm", 0), "state_dim"] + 32
    assert done["rl__CartPole-v0__wm_zh__seed1"]["status"] == "done"
    # the [z, h] cells are current on a rerun: their runs record the settings the plan gives them
    from srl_bench.bench.runner import survey

    status = survey(load_benchmark(config), work, fresh=False)
    assert status.reused == {cell.key for cell in status.cells}


def test_the_standard_benchmark_shares_world_models_training_and_nothing_else() -> None:
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark

    cells = plan(load_benchmark("standard"))
    readouts = {cell.key for cell in cells if "readout_of" in cell.spec}
    assert readouts == {f"train/{env}/world_models_zh/seed{seed}" for env in
                        ("CartPole-v0", "Pendulum-v0", "MiniPacman-v0", "KukaButton-v0") for seed in range(5)}


def test_a_part_with_a_row_that_shares_training_has_the_cells_of_the_whole(tmp_path: Path) -> None:
    """``--method world_models_zh`` keeps the cells (and fingerprints) the whole benchmark gives it,
    with the World Models runs it reads and nothing else of that row."""
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark, select_part

    whole = load_benchmark("standard")
    part = plan(select_part(whole, ["CartPole-v0"], ["world_models_zh"]))
    fingerprints = {cell.key: cell.fingerprint for cell in plan(whole)}
    assert all(fingerprints[cell.key] == cell.fingerprint for cell in part)
    rows = {cell.key for cell in part if cell.row in ("world_models", "world_models_zh")}
    assert rows == {f"{stage}/CartPole-v0/world_models_zh/seed{s}" for stage in ("train", "metrics", "rl") for s in range(5)} \
        | {f"train/CartPole-v0/world_models/seed{s}" for s in range(5)}
    # a row of another method takes no other row along
    assert {cell.row for cell in plan(select_part(whole, ["CartPole-v0"], ["beta_vae"]))} == {
        None, "beta_vae", "ground_truth", "random_policy"}


def test_a_reference_skipped_on_one_env_has_no_cells_there(tmp_path: Path, capsys) -> None:
    from srl_bench.bench.cells import plan
    from srl_bench.bench.config import load_benchmark, select_part

    whole = load_benchmark("standard")
    rl_rows = {(cell.key.split("/")[1], cell.row) for cell in plan(whole) if cell.stage == "rl"}
    assert ("Pendulum-v0", "raw_pixels") not in rl_rows and ("CartPole-v0", "raw_pixels") in rl_rows
    assert ("Pendulum-v0", "ground_truth") in rl_rows
    assert select_part(whole, ["CartPole-v0"]).rl.skip_references == {}
    assert select_part(whole, ["Pendulum-v0"]).rl.skip_references == {"srl/Pendulum-v0": ["raw_pixels"]}
    from srl_bench.bench.leaderboard import header

    assert "Not run (the config's `skip_references`): raw_pixels on srl/Pendulum-v0." in " ".join(header(whole, "x", "y"))
    for skip, message in (("{srl/Pendulum-v0: [ground_truth]}", "skip_references"),
                          ("{srl/Nope-v0: [raw_pixels]}", "rl.skip_references names srl/Nope-v0")):
        config = write_config(tmp_path, **{"n_eval: 2": f"n_eval: 2\n  skip_references: {skip}"})
        assert main(["benchmark", str(config), "--dry-run"]) == 2
        assert message in capsys.readouterr().err
