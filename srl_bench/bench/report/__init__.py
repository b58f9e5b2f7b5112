"""Leaderboard reports, made from a benchmark's saved cell results alone (no training, no
re-evaluation): the tables per environment, rliable's aggregates across environments, the plots
behind each number, ``index.html`` (one page for all of it), LaTeX tables and the machine-readable JSON.

``srl-bench benchmark`` writes them at its end (``srl_bench.bench.leaderboard.write_leaderboard``);
``srl-bench leaderboard DIR`` makes them again from a leaderboard folder or a work directory.
"""

from srl_bench.bench.report.build import FORMATS, Plot, Report, build_report, render, write_folder
from srl_bench.bench.report.source import Source, from_benchmark, from_directory

__all__ = ["FORMATS", "Plot", "Report", "Source", "build_report", "from_benchmark", "from_directory", "render",
           "write_folder"]
