"""An example srl-bench plug-in: the ``state_l2`` loss term and the ``tiny_inverse`` method.

srl-bench loads them through the entry points of ``pyproject.toml`` when ``srl_bench.methods`` is
imported; nothing here needs to be imported by hand.
"""
