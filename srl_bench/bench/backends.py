"""Where cells are computed: in this process, in a pool of local processes, or on a Ray cluster.

A backend takes cells whose dependencies are done (``submit``) and hands back records as cells finish
(``wait``); the scheduler in ``srl_bench.bench.runner`` decides what is ready. Every backend computes
a cell with the same function (``srl_bench.bench.cells.compute``) on the same number of torch threads,
so the results are the same whichever runs them, and however many run at once.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from srl_bench.bench.cells import Cell, as_payload, compute, worker_environment
from srl_bench.errors import SrlBenchError


class Backend(Protocol):
    """Runs cells; ``slots`` of them at once."""

    slots: int

    def submit(self, cell: Cell) -> None: ...

    def wait(self, timeout: float) -> list[dict[str, Any]]: ...

    def shutdown(self, cancel: bool = False) -> None: ...


class InProcess:
    """One cell at a time, here (``--jobs 1``): no start-up cost, and Ctrl-C reaches the cell itself,
    whose outputs then clean up after themselves."""

    slots = 1

    def __init__(self, work_dir: str, threads: int) -> None:
        self.work_dir, self.threads = work_dir, threads
        self.queue: list[Cell] = []

    def submit(self, cell: Cell) -> None:
        self.queue.append(cell)

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        if not self.queue:
            return []
        cell = self.queue.pop(0)
        return [compute(as_payload(cell), self.work_dir, self.threads)]

    def shutdown(self, cancel: bool = False) -> None:
        self.queue.clear()


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent alone handles it and terminates the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalPool:
    """``jobs`` worker processes (spawned: a fresh interpreter each, with OpenMP set up before torch
    loads), each computing one cell at a time on the benchmark's threads per cell. They are a
    ``ProcessPoolExecutor``'s, not a ``multiprocessing.Pool``'s: those are daemonic and may not start
    processes of their own, as a dataset cell with ``workers > 1`` does."""

    def __init__(self, work_dir: str, threads: int, jobs: int) -> None:
        self.work_dir, self.threads, self.slots = work_dir, threads, jobs
        saved = {key: os.environ.get(key) for key in worker_environment(threads)}
        os.environ.update(worker_environment(threads))  # inherited by the spawned workers
        try:
            self.executor = ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_ignore_sigint)
            # start them now, while the environment above is set (the executor starts workers on demand)
            for future in [self.executor.submit(os.getpid) for _ in range(jobs)]:
                future.result()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.pending: list[Future] = []

    def submit(self, cell: Cell) -> None:
        self.pending.append(self.executor.submit(compute, as_payload(cell), self.work_dir, self.threads))

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        if not self.pending:
            return []
        finished, still = futures_wait(self.pending, timeout=timeout, return_when=FIRST_COMPLETED)
        self.pending = [future for future in self.pending if future in still]
        try:
            return [future.result() for future in finished]
        except BrokenProcessPool:
            raise SrlBenchError("a worker process died while computing a cell (out of memory?); the finished "
                                "cells are kept: run the same command again to go on") from None

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            workers = list((getattr(self.executor, "_processes", None) or {}).values())
            self.executor.shutdown(wait=False, cancel_futures=True)
            for process in workers:  # cells already running stop now, as Pool.terminate() did
                process.terminate()
            for process in workers:
                process.join()
        else:
            self.executor.shutdown(wait=True)


class RayCluster:
    """Cells as Ray tasks (``--backend ray``), each asking for ``threads`` CPUs; the work directory must
    be a path every Ray worker sees (a shared file system), as the cells read and write it directly."""

    def __init__(self, work_dir: str, threads: int, address: str | None, jobs: int | None) -> None:
        try:
            import ray
        except ImportError:
            raise SrlBenchError("--backend ray needs Ray: pip install 'srl-bench[ray]'") from None
        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": worker_environment(threads)})
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = jobs or max(1, cpus // threads)
        self.task = ray.remote(num_cpus=threads, max_retries=0)(compute)
        self.work_dir, self.threads = work_dir, threads
        self.pending: list[Any] = []

    def submit(self, cell: Cell) -> None:
        self.pending.append(self.task.remote(as_payload(cell), self.work_dir, self.threads))

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        if not self.pending:
            return []
        done, self.pending = self.ray.wait(self.pending, num_returns=len(self.pending), timeout=timeout)
        return list(self.ray.get(done))

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            for ref in self.pending:
                self.ray.cancel(ref, force=True)
        self.pending = []


def make_backend(name: str, work_dir: str, threads: int, jobs: int | None, address: str | None) -> Backend:
    """The backend called ``name`` (local or ray)."""
    if name == "ray":
        return RayCluster(work_dir, threads, address, jobs)
    if name != "local":
        raise SrlBenchError(f"unknown backend {name!r}; choose local or ray")
    if address is not None:
        raise SrlBenchError("--address is for --backend ray")
    jobs = jobs or 1
    return InProcess(work_dir, threads) if jobs == 1 else LocalPool(work_dir, threads, jobs)
