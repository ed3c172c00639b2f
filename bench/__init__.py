"""Benchmarks for harness: ``python -m bench`` (or ``bash run bench``) runs them all and prints one table.

Every ratio is against a baseline measured in the same process (or the same run), interleaved
with the thing measured, and every figure is a median over rounds.
"""
