"""The run record: one JSON file per (method, seed, protocol) under ``<out>/runs/``, typed.

A record says what was evaluated (suite, method, its config and hash, seed), by which protocol
and version, what it scored (``metrics``, percent; ``per_video`` hits for the intervals), what
the pretraining consumed (``pretrain``), how the evaluation ran (``evaluation``) and where
(``provenance``). :class:`RunRecord` is the one place that knows those fields: the suite writes
through it and every reader loads through :meth:`RunRecord.from_dict`, which refuses a record
that lacks a field or holds one of the wrong type, naming the field.

``schema`` numbers the layout. Records written before it existed are schema 1, which has the
same fields; a record of a higher schema than this code knows is refused with the fix (a newer
vssl-bench wrote it).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

#: The layout :class:`RunRecord` writes. 1: records without a ``schema`` field (same fields);
#: 2: ``schema`` written.
RECORD_SCHEMA = 2


class RecordError(ValueError):
    """A run record that cannot be read as one: a field missing or of the wrong type."""


@dataclass(frozen=True)
class RunRecord:
    """One (method, seed, protocol) result. Optional fields are None (or empty) where the run
    had none: ``per_video`` for protocols without per-video hits, ``pretrain`` for a record of
    another tool, ``extra`` for what only some suites write (``data`` lists, ``pretrain_data``
    of a transfer suite, ``weights_from`` of an external checkpoint)."""
    method: str
    seed: int
    protocol: str
    metrics: dict[str, float]
    suite: str | None = None
    protocol_version: str | None = None
    config_hash: str | None = None
    method_config: str | None = None
    pretrain: dict[str, Any] | None = None
    evaluation: dict[str, Any] = field(default_factory=dict)
    per_video: dict[str, Any] | None = None
    eval_wall_s: float | None = None
    provenance: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    schema: int = RECORD_SCHEMA

    #: (field, accepted types, required) in the order the JSON file lists them.
    _FIELDS = (('suite', str, False), ('method', str, True), ('method_config', str, False),
               ('config_hash', str, False), ('seed', int, True), ('protocol', str, True),
               ('protocol_version', str, False), ('metrics', dict, True),
               ('pretrain', dict, False), ('evaluation', dict, False),
               ('per_video', dict, False), ('eval_wall_s', Real, False),
               ('provenance', dict, False))

    @classmethod
    def from_dict(cls, data: Any, where: str = 'run record') -> RunRecord:
        """The record ``data`` (a JSON object) holds; RecordError naming ``where`` and the field
        otherwise. Keys it does not know go to ``extra``."""
        if not isinstance(data, dict):
            raise RecordError(f'{where}: a run record is a JSON object, not a '
                              f'{type(data).__name__}')
        schema = data.get('schema', 1)
        if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
            raise RecordError(f'{where}: schema {schema!r} is not a positive integer')
        if schema > RECORD_SCHEMA:
            raise RecordError(f'{where}: written with record schema {schema}, newer than this '
                              f'vssl-bench reads ({RECORD_SCHEMA}): upgrade vssl-bench')
        values = {}
        for name, kind, required in cls._FIELDS:
            value = data.get(name)
            if value is None:
                if required:
                    raise RecordError(f'{where}: field {name!r} is missing')
                continue
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise RecordError(f'{where}: field {name!r} is a {type(value).__name__}, '
                                  f'not a {getattr(kind, "__name__", kind)}')
            values[name] = value
        bad = [k for k, v in values['metrics'].items()
               if not isinstance(k, str) or not isinstance(v, Real) or isinstance(v, bool)]
        if bad:
            raise RecordError(f'{where}: metrics {bad} are not numbers')
        known = {name for name, _, _ in cls._FIELDS} | {'schema'}
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**values, extra=extra, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the record, in the field order of :attr:`_FIELDS`, ``extra`` after
        ``pretrain`` as the suite has always written it, optional fields left out when None."""
        out: dict[str, Any] = {'schema': self.schema}
        for name, _, _ in self._FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
            if name == 'pretrain':
                out.update(self.extra)
        return out

    def replace(self, **changes: Any) -> RunRecord:
        return dataclasses.replace(self, **changes)

    @property
    def label(self) -> str:
        """``method/seed<n>/protocol``: how messages name the record."""
        return f'{self.method}/seed{self.seed}/{self.protocol}'
