"""Heads shared by the methods (and available to plugins): the projection MLP of SimCLR / CVRL /
MoCo and the bottleneck predictor of BYOL / SimSiam."""
from __future__ import annotations

import torch


def projection_mlp(in_dim: int, hidden_dim: int, out_dim: int,
                   num_hidden: int) -> torch.nn.Sequential:
    """``num_hidden`` x (Linear -> BN -> ReLU), then Linear -> out_dim (the SimCLR/CVRL head)."""
    layers: list[torch.nn.Module] = []
    dim = in_dim
    for _ in range(num_hidden):
        layers += [torch.nn.Linear(dim, hidden_dim), torch.nn.BatchNorm1d(hidden_dim),
                   torch.nn.ReLU(inplace=True)]
        dim = hidden_dim
    layers.append(torch.nn.Linear(dim, out_dim))
    return torch.nn.Sequential(*layers)


def predictor_mlp(dim: int, hidden_dim: int) -> torch.nn.Sequential:
    """BYOL's / SimSiam's predictor: Linear -> BN -> ReLU -> Linear, ``dim -> hidden_dim -> dim``
    (:func:`projection_mlp` with one hidden layer; a bottleneck when ``hidden_dim < dim``)."""
    return projection_mlp(dim, hidden_dim, dim, num_hidden=1)
