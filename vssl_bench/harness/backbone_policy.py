"""The backbone belongs to the suite, not to a method.

A suite declares ``backbone``: the path of a config file whose ``model.backbone`` is the
architecture every method of the suite is built on (e.g. ``configs/_base_/backbone_r3d18_w16.py``),
or the backbone dict itself. A method config that builds another backbone, directly or through a
suite's overrides, is refused: otherwise an architecture change would be credited to a method
(an untrained R3D-18 that keeps 4 time steps scores ~10 points of linear top-1 above one that
keeps 1 on SynthMotion). A method config without a backbone gets the suite's.

To compare architectures on purpose, a suite declares ``backbone_variants = dict(NAME=dict(...))``
(overrides of its backbone) and lists methods with ``backbone_variant='NAME'``; each variant in
use needs its own RandomInit entry on the same variant, so that every row has a matched lower
bound. A suite without ``backbone`` must still build one backbone for all methods of a variant.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mmengine.config import Config

from vssl_bench.core.errors import UserError
from vssl_bench.core.names import BASELINE


class BackboneError(UserError):
    """A suite whose methods would not share one backbone; the message names the fix."""


def canonical(backbone: Mapping[str, Any] | None) -> str:
    """Order- and container-independent text of a backbone dict (tuples equal lists)."""
    plain = backbone.to_dict() if hasattr(backbone, 'to_dict') else backbone
    return json.dumps(plain, sort_keys=True, default=str)


def plain(backbone: Any) -> dict:
    """A backbone dict as plain JSON types (ConfigDicts and tuples become dicts and lists)."""
    return json.loads(canonical(backbone))


def load_suite_backbone(spec: str | Mapping | None, where: str, resolve) -> dict | None:
    """The suite's backbone dict from its ``backbone`` entry (a config path, resolved with
    ``resolve(path)``, or a dict); None when the suite declares none."""
    if spec is None:
        return None
    if isinstance(spec, str):
        path = Path(resolve(spec))
        if not path.is_file():
            raise BackboneError(f'{where}: backbone={spec!r} is not a file; name a config whose '
                                'model.backbone is the suite\'s backbone (e.g. '
                                "'configs/_base_/backbone_r3d18_w16.py')")
        cfg = Config.fromfile(str(path))
        if 'model' not in cfg or 'backbone' not in cfg.model:
            raise BackboneError(f'{where}: {path} has no model.backbone')
        return plain(cfg.model.backbone)
    if isinstance(spec, Mapping) and 'type' in spec:
        return plain(spec)
    raise BackboneError(f'{where}: backbone must be a config path or dict(type=...), got '
                        f'{spec!r}')


def variant_backbone(backbone: dict, variants: Mapping[str, Mapping], variant: str | None,
                     where: str) -> dict:
    """The suite's backbone with the named variant's overrides applied (None: unchanged)."""
    if variant is None:
        return backbone
    if variant not in variants:
        raise BackboneError(f'{where}: backbone_variant {variant!r} is not declared; the suite\'s '
                            f'backbone_variants are {sorted(variants) or "none"}')
    cfg = Config(dict(backbone=copy.deepcopy(backbone)))
    cfg.merge_from_dict({'backbone': plain(variants[variant])})
    return plain(cfg.backbone)


def differences(actual: Mapping, expected: Mapping) -> list[str]:
    """'key: A vs B' for every top-level key where two backbone dicts differ."""
    actual, expected = plain(actual), plain(expected)
    return [f'{key}: {actual.get(key, "<unset>")!r} vs {expected.get(key, "<unset>")!r}'
            for key in sorted(set(actual) | set(expected)) if actual.get(key) != expected.get(key)]


def enforce(model_cfg: Any, expected: dict, where: str) -> None:
    """Give ``model_cfg`` (a method's ``model`` ConfigDict) the suite's backbone, or refuse a
    method config that builds another one."""
    actual = model_cfg.get('backbone')
    if actual is None:
        model_cfg['backbone'] = copy.deepcopy(expected)
        return
    diff = differences(actual, expected)
    if diff:
        raise BackboneError(
            f'{where} changes the suite\'s backbone (method vs suite: {"; ".join(diff)}): the '
            'backbone belongs to '
            'the suite, so that every row compares methods and not architectures. Delete the '
            'backbone setting from the method config, or declare it in the suite as a '
            'backbone_variant with its own RandomInit entry (see '
            'vssl_bench/harness/backbone_policy.py)')


def check_shared(entries: Sequence[tuple[str, str | None, str, Any]], where: str) -> None:
    """``entries``: (method name, backbone variant, model type, backbone dict) of every method of
    a suite. Refuses methods of one variant that build different backbones (a suite without
    ``backbone``) and variants without a RandomInit row."""
    by_variant: dict[str | None, list[tuple[str, str, Any]]] = {}
    for name, variant, model_type, backbone in entries:
        by_variant.setdefault(variant, []).append((name, model_type, backbone))
    for variant, members in by_variant.items():
        first_name, _, first = members[0]
        for name, _, backbone in members[1:]:
            diff = differences(backbone, first)
            if diff:
                raise BackboneError(
                    f'{where}: {name} and {first_name} build different backbones '
                    f'({"; ".join(diff)}); declare the suite\'s backbone (backbone=...) and a '
                    'backbone_variant for the other architecture')
        if variant is not None and not any(t == BASELINE for _, t, _ in members):
            raise BackboneError(
                f'{where}: backbone_variant {variant!r} ({", ".join(n for n, _, _ in members)}) '
                'has no RandomInit entry: add dict(config=<random_init config>, name=..., '
                f"backbone_variant={variant!r}) so its rows have a matched lower bound")
