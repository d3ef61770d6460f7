"""Replay: the NumPy ring buffers, prioritized replay with its sum tree, and the n-step adder."""
