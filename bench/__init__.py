"""Ringledger's benchmarks: each figure of the performance budget beside a baseline from the same run."""
