"""srl-bench's shipped YAML configs (methods/, rl/, benchmarks/), installed as ``srl_bench.configs``.

Read them through :mod:`srl_bench.config`, which finds them with :mod:`importlib.resources`.
"""
