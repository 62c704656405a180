"""A suite's ``ablation`` setting: which of its methods is the full method, and what the paper
found for each variant (the verdicts: :mod:`vssl_bench.report.ablation`)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vssl_bench.core.errors import ConfigError

EXPECTATIONS = ('below', 'above')


def check_spec(spec: Any, where: str) -> dict[str, Any] | None:
    """The suite's ``ablation`` setting as a plain dict (None when absent); a malformed one
    raises :class:`vssl_bench.core.errors.ConfigError` naming the key and the fix."""
    if spec is None:
        return None
    spec = spec.to_dict() if hasattr(spec, 'to_dict') else spec
    form = ("ablation=dict(reference='CVRL', claims=[dict(variant='CVRL-per-frame-aug', "
            "expect='below', paper='what the paper found')])")
    if not isinstance(spec, dict) or set(spec) != {'reference', 'claims'} \
            or not isinstance(spec['reference'], str) or not isinstance(spec['claims'], list) \
            or not spec['claims']:
        raise ConfigError(f'{where}: ablation must be {form}; got {spec!r}')
    claims = []
    for claim in spec['claims']:
        claim = claim.to_dict() if hasattr(claim, 'to_dict') else claim
        if not isinstance(claim, dict) or set(claim) != {'variant', 'expect', 'paper'} \
                or claim['expect'] not in EXPECTATIONS \
                or not all(isinstance(claim[k], str) for k in claim):
            raise ConfigError(f'{where}: ablation claim {claim!r} must be dict(variant=NAME, '
                                 f"expect='below' or 'above', paper=TEXT), as in {form}")
        claims.append(dict(claim))
    return dict(reference=spec['reference'], claims=claims)


def check_names(spec: dict[str, Any] | None, names: Sequence[str], where: str) -> None:
    """Every name the ablation refers to is a method of the suite."""
    if spec is None:
        return
    unknown = sorted({spec['reference'], *(c['variant'] for c in spec['claims'])} - set(names))
    if unknown:
        raise ConfigError(f'{where}: ablation names {unknown}, which are not methods of the '
                             f'suite {list(names)}; use the names the suite gives its methods')
