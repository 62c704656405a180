"""Evaluation protocols on frozen features; importing this package registers them."""
from benchmark.protocols.base import Protocol, build_protocol
from benchmark.protocols.linear import LinearProbe
from benchmark.protocols.retrieval import Retrieval

__all__ = ['LinearProbe', 'Protocol', 'Retrieval', 'build_protocol']
