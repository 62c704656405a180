"""Evaluation protocols; importing this package registers them.

Feature protocols (linear, knn, retrieval) evaluate frozen features; model protocols (semisup,
finetune) fine-tune the network from its weights (see ``base.py``).
"""
from benchmark.protocols.base import (FeatureProtocol, ModelContext, ModelProtocol, Protocol,
                                      ProtocolResult)
from benchmark.protocols.build import build_protocol
from benchmark.protocols.finetune import FineTune
from benchmark.protocols.knn import KNN
from benchmark.protocols.linear import LinearProbe
from benchmark.protocols.retrieval import Retrieval
from benchmark.protocols.semisup import SemiSupervised

__all__ = ['FeatureProtocol', 'FineTune', 'KNN', 'LinearProbe', 'ModelContext', 'ModelProtocol',
           'Protocol', 'ProtocolResult', 'Retrieval', 'SemiSupervised', 'build_protocol']
