"""Atomic publishing (srl_bench.publish): outputs are checked before any work, only srl-bench's own
earlier outputs of the same kind are ever replaced, the old output survives a failed write, and
leftovers of dead processes are cleaned up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import srl_bench.publish as publish
from srl_bench.cli import main
from srl_bench.data import load_dataset
from srl_bench.errors import SrlBenchError
from srl_bench.publish import MARKER_FILE, Publisher, clean_stale, replaceable_reason, write_json_atomic

TINY = ["--episodes", "2", "--max-steps", "5", "--image-size", "16", "--quiet"]


def generate(out: str | Path, *extra: str) -> list[str]:
    return ["generate", "srl/CartPole-v0", *TINY, "--out", str(out), *extra]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (hidden ones included) with its bytes (None for a directory)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


def one_sentence(capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """The captured stderr, checked to be one srl-bench error line holding every fragment."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("srl-bench: error:"), err
    for fragment in fragments:
        assert fragment in err, err
    return err


def dead_pid() -> int:
    """The id of a process that has just exited."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    assert not publish._pid_alive(child.pid)
    return child.pid


@pytest.fixture()
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that holds a user's own files, made the current directory."""
    work = tmp_path / "work"
    (work / "my_files").mkdir(parents=True)
    (work / "notes.txt").write_text("my notes")
    (work / "my_files" / "thesis.tex").write_text("\\chapter{one}")
    monkeypatch.chdir(work)
    return work


@pytest.fixture(scope="module")
def old_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An earlier tiny dataset (2 episodes of at most 5 steps, 16×16), copied by tests that change it."""
    out = tmp_path_factory.mktemp("old") / "d"
    assert main(generate(out)) == 0
    return out


def copy_of(dataset: Path, where: Path) -> Path:
    import shutil

    return Path(shutil.copytree(dataset, where))


# (i) the working directory ------------------------------------------------------------------------

@pytest.mark.parametrize("out", [".", "./", "../work"])
def test_generate_into_the_working_directory_deletes_nothing(out: str, user_dir: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(user_dir)
    assert main(generate(out, "--overwrite")) == 2
    one_sentence(capsys, "is the current working directory")
    assert snapshot(user_dir) == before
    assert sorted(p.name for p in user_dir.parent.iterdir()) == ["work"]  # no temporary sibling either


# (ii) an empty path, a folder of the user's files, home, root, an ancestor of the working directory ---

def test_empty_out_is_refused(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(user_dir)
    assert main(generate("", "--overwrite")) == 2
    one_sentence(capsys, "the output path is empty")
    assert snapshot(user_dir) == before


@pytest.mark.parametrize("overwrite", [True, False])
def test_a_folder_of_the_users_files_is_never_replaced(overwrite: bool, user_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(user_dir)
    assert main(generate("my_files", *(["--overwrite"] if overwrite else []))) == 2
    if overwrite:
        one_sentence(capsys, "my_files is not an earlier srl-bench dataset", "nothing was deleted")
    else:
        one_sentence(capsys, "my_files already exists; choose another --out or pass --overwrite")
    assert snapshot(user_dir) == before


def test_a_dataset_holding_other_files_is_not_replaced(old_dataset: Path, user_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = copy_of(old_dataset, user_dir / "data")
    (data / "README.txt").write_text("how I made this")
    before = snapshot(user_dir)
    assert main(generate("data", "--overwrite")) == 2
    one_sentence(capsys, "holds files that are not part of a srl-bench dataset (README.txt)")
    assert snapshot(user_dir) == before


def test_home_root_and_ancestors_of_the_working_directory_are_refused(
        user_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOME", str(user_dir / "my_files"))
    before = snapshot(user_dir)
    assert main(generate(user_dir / "my_files", "--overwrite")) == 2
    one_sentence(capsys, "is your home directory")
    assert main(generate("/", "--overwrite")) == 2
    one_sentence(capsys, "is a filesystem root")
    monkeypatch.chdir(user_dir / "my_files")
    assert main(generate(user_dir, "--overwrite")) == 2
    one_sentence(capsys, "contains the current working directory")
    assert snapshot(user_dir) == before


# (iii) train ---------------------------------------------------------------------------------------

def test_train_into_the_working_directory_is_refused(old_dataset: Path, user_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(user_dir)
    argv = ["train", "autoencoder", "--data", str(old_dataset), "--epochs", "1", "--device", "cpu", "--quiet",
            "--overwrite", "--out"]
    assert main([*argv, "."]) == 2
    one_sentence(capsys, "is the current working directory")
    assert main([*argv, "my_files"]) == 2
    one_sentence(capsys, "my_files is not an earlier srl-bench run directory", "nothing was deleted")
    assert snapshot(user_dir) == before


def test_train_will_not_replace_a_dataset(old_dataset: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = copy_of(old_dataset, tmp_path / "data")
    before = snapshot(data)
    assert main(["train", "autoencoder", "--data", str(data), "--out", str(data), "--overwrite", "--quiet"]) == 2
    one_sentence(capsys, "holds a srl-bench dataset, not a run directory")
    assert snapshot(data) == before


# (iv) overwriting an earlier dataset: works, and keeps the old one when the new write fails ----------

def test_overwriting_an_earlier_dataset(old_dataset: Path, tmp_path: Path) -> None:
    data = copy_of(old_dataset, tmp_path / "d")
    assert json.loads((data / MARKER_FILE).read_text())["kind"] == "dataset"
    assert main(generate(data, "--overwrite", "--seed", "1")) == 0
    new = load_dataset(data)
    assert new.meta["seed"] == 1
    new.verify()
    (data / MARKER_FILE).unlink()  # as written before the marker existed: recognised by meta.json
    assert main(generate(data, "--overwrite", "--seed", "2")) == 0
    assert load_dataset(data).meta["seed"] == 2 and (data / MARKER_FILE).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_failed_overwrite_keeps_the_old_dataset(error: BaseException, old_dataset: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import srl_bench.collect.generate as gen
    from srl_bench.data.format import DatasetWriter

    data = copy_of(old_dataset, tmp_path / "d")
    before = snapshot(data)
    real = DatasetWriter.add_episode

    def failing(self, arrays):  # the second episode fails midway, whichever collection path made it
        if self.n_episodes == 1:
            raise error
        return real(self, arrays)

    monkeypatch.setattr(DatasetWriter, "add_episode", failing)
    with pytest.raises(type(error)):
        gen.generate_dataset("srl/CartPole-v0", 2, data, image_size=16, max_steps=5, seed=1, overwrite=True,
                             progress=False)
    assert snapshot(data) == before
    load_dataset(data).verify()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # the temporary directory is gone


def test_a_failed_final_rename_keeps_the_old_dataset(old_dataset: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from srl_bench.collect import generate_dataset

    data = copy_of(old_dataset, tmp_path / "d")
    before = snapshot(data)
    real = os.rename

    def rename(src, dst):
        if Path(src).name.startswith(".d.tmp-"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(publish.os, "rename", rename)
    with pytest.raises(SrlBenchError, match="could not move the new output into place .* is unchanged"):
        generate_dataset("srl/CartPole-v0", 2, data, image_size=16, max_steps=5, seed=1, overwrite=True,
                         progress=False)
    assert snapshot(data) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_interrupt_inside_a_publisher_removes_everything_it_made(tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "run"
    with pytest.raises(KeyboardInterrupt):
        with Publisher(out, "run") as tmp_dir:
            (tmp_dir / "config.json").write_text("{}")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []  # neither the temporary directory nor the parents it created


def test_an_earlier_run_is_recognised_without_a_marker(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "tensorboard").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"method": "autoencoder", "config": {}}))
    (run / "model.pt").write_bytes(b"weights")
    (run / "train_log.csv").write_text("epoch\n")
    (run / "metrics.json").write_text("{}")
    (run / "tensorboard" / "events.out.tfevents.1.host").write_bytes(b"")
    assert replaceable_reason(run, "run") is None
    assert "not an earlier srl-bench RL result directory" in replaceable_reason(run, "rl")
    (run / "tensorboard" / "notes.md").write_text("mine")
    assert "tensorboard/notes.md" in replaceable_reason(run, "run")
    (run / "tensorboard" / "notes.md").unlink()
    with Publisher(run, "run", overwrite=True) as tmp_dir:
        (tmp_dir / "config.json").write_text(json.dumps({"method": "pca", "config": {}}))
    assert sorted(p.name for p in run.iterdir()) == [MARKER_FILE, "config.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_empty_directory_may_be_used(tmp_path: Path) -> None:
    (tmp_path / "made_by_hand").mkdir()
    with Publisher(tmp_path / "made_by_hand", "benchmark") as tmp_dir:
        (tmp_dir / "leaderboard.md").write_text("# Leaderboard: x\n")
    assert (tmp_path / "made_by_hand" / "leaderboard.md").is_file()


# (v) leftovers of dead processes -----------------------------------------------------------------

def test_stale_leftovers_are_removed_and_reported(old_dataset: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = copy_of(old_dataset, tmp_path / "d")
    pid = dead_pid()
    for stale in (f".d.tmp-{pid}", f".d.old-{pid}"):
        (tmp_path / stale).mkdir()
        (tmp_path / stale / "observations.raw").write_bytes(b"half")
    live = tmp_path / f".d.tmp-{os.getppid()}"  # another process still writing: left alone
    live.mkdir()
    assert main(generate(data, "--overwrite")) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f".d.tmp-{pid}" in err[0] and f".d.old-{pid}" in err[0] and "removed" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "d"]


def test_an_output_moved_aside_by_a_dead_process_is_restored(old_dataset: Path, tmp_path: Path) -> None:
    pid = dead_pid()
    aside = copy_of(old_dataset, tmp_path / f".d.old-{pid}")
    before = snapshot(aside)
    lines: list[str] = []
    assert clean_stale(tmp_path / "d", say=lines.append) == [aside]
    assert snapshot(tmp_path / "d") == before and not aside.exists()
    assert len(lines) == 1 and "restored d" in lines[0]


# (vi) an existing file, a parent that is a file, a parent that cannot be written ---------------------

def test_an_existing_file_is_not_a_directory(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(user_dir)
    assert main(generate("notes.txt", "--overwrite")) == 2
    one_sentence(capsys, "notes.txt is an existing file, not a directory")
    assert main(generate("notes.txt/d")) == 2
    one_sentence(capsys, "notes.txt is a file, not a directory")
    assert snapshot(user_dir) == before


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_parent_that_cannot_be_written(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = user_dir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(generate("locked/d")) == 2
        one_sentence(capsys, "permission denied")
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_single_files_are_checked_and_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write_json_atomic(tmp_path / "a" / "metrics.json", {"x": 1})
    assert json.loads(target.read_text()) == {"x": 1}
    with pytest.raises(SrlBenchError, match="is a directory, not a file"):
        write_json_atomic(tmp_path / "a", {"x": 2})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"x": object()})  # fails before anything is written
    assert json.loads(target.read_text()) == {"x": 1}
    assert sorted(p.name for p in target.parent.iterdir()) == ["metrics.json"]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SrlBenchError, match="is the current working directory"):
        write_json_atomic(".", {})


def test_a_parent_reported_unwritable_gives_one_sentence(user_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The same check as above, where the OS says the folder is not writable (runs as root too)."""
    monkeypatch.setattr(publish.os, "access", lambda path, mode: False)
    before = snapshot(user_dir)
    assert main(generate("new/d")) == 2
    one_sentence(capsys, f"cannot write into {user_dir} (permission denied)")
    assert snapshot(user_dir) == before


def test_a_parent_made_meanwhile_by_another_process_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmark cells publish side by side into the same new folder: the one that loses the race to
    create it goes on, and leaves it alone when it aborts (it is not its own)."""
    from srl_bench.publish import Publisher

    shared = tmp_path / "runs" / "pca"
    mkdir = Path.mkdir

    def racing_mkdir(self, *args, **kwargs):
        if self == shared and not shared.exists():
            mkdir(self, *args, **kwargs)  # the other process wins
            raise FileExistsError(str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", racing_mkdir)
    publisher = Publisher(shared / "seed1", "run")
    publisher.begin()
    (shared / "seed0").mkdir()  # the other process's output
    publisher.abort()
    assert shared.is_dir() and (shared / "seed0").is_dir() and not (shared / "seed1").exists()
