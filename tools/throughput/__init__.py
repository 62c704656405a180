"""Throughput measurements: the data loader against the model step (results/throughput/)."""
