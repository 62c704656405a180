"""Evaluation protocols; importing this package registers them.

Feature protocols (linear, knn, retrieval) evaluate frozen features; model protocols (semisup,
finetune) fine-tune the network from its weights (see ``base.py``).
"""
from vssl_bench.protocols.base import (FeatureProtocol, ModelContext, ModelProtocol, Protocol,
                                       ProtocolResult)
from vssl_bench.protocols.build import build_protocol
from vssl_bench.protocols.finetune import FineTune
from vssl_bench.protocols.knn import KNN
from vssl_bench.protocols.linear import LinearProbe
from vssl_bench.protocols.retrieval import Retrieval
from vssl_bench.protocols.semisup import SemiSupervised

__all__ = ['FeatureProtocol', 'FineTune', 'KNN', 'LinearProbe', 'ModelContext', 'ModelProtocol',
           'Protocol', 'ProtocolResult', 'Retrieval', 'SemiSupervised', 'build_protocol']
