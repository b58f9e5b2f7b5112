"""Dataset format: writer, memory-mapped reader, episode-aware splits, integrity checks."""

from srl_bench.data.format import ARRAY_NAMES, FORMAT_VERSION, Dataset, DatasetWriter, load_dataset
from srl_bench.data.splits import SPLIT_SEED, TEST_FRACTION, split_episodes

__all__ = ["ARRAY_NAMES", "FORMAT_VERSION", "SPLIT_SEED", "TEST_FRACTION", "Dataset", "DatasetWriter", "load_dataset",
           "split_episodes"]
