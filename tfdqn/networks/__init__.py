"""Q-networks: builders, Rainbow heads, noisy layers, the NumPy acting mirror, plain-Keras export."""
