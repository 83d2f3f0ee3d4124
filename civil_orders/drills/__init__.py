"""Synthetic cases driven through the services: the demo, the seed, the soak, the benchmark."""
