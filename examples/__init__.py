"""Runnable agent loops, each with its committed cassette and snapshot (``bash run demo``)."""
