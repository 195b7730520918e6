"""The demo company, Ravello Instruments: CUCM-format CDR/CMR files, directory and configuration.

- `generate(out_dir, legs, days, seed, end)`: a bulk history (`ringledger demo`).
- `write_minute(out_dir, at)`: one more minute of live traffic, continuing the same cluster.
- `load_demo(home)`: an empty data home made into a working demo (`ringledger run`).
"""

from ringledger.demo.generator import RunSummary, generate, write_minute
from ringledger.demo.load import DEFAULT_DAYS, DEFAULT_LEGS, LoadResult, load_demo

__all__ = ["DEFAULT_DAYS", "DEFAULT_LEGS", "LoadResult", "RunSummary", "generate", "load_demo", "write_minute"]
