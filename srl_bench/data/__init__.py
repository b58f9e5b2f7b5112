"""Dataset format: writer, memory-mapped reader, episode-aware splits, integrity checks."""

from srl_bench.data.format import ARRAY_NAMES, FORMAT_VERSION, Dataset, DatasetWriter, load_dataset
from srl_bench.data.splits import split_episodes

__all__ = ["ARRAY_NAMES", "FORMAT_VERSION", "Dataset", "DatasetWriter", "load_dataset", "split_episodes"]
