"""The keys a suite config may set, so that a misspelt or unknown key (in the suite file or in
``--cfg-options``) is refused by name instead of being silently ignored (mmengine's
``merge_from_dict`` creates any key it is given).

Top-level names of a suite file are free (``_base_`` variables such as
``frozen_feature_protocols`` are shared that way), but ``--cfg-options`` may only set a top-level
key the suite already has or one a suite may declare (:data:`SUITE_KEYS`, :data:`OPTIONAL_KEYS`).
Inside the ``pretrain``, ``evaluation`` and ``evaluation.view`` sections and a SynthMotion or
plain-list ``data`` section only the keys below are read; any other is a mistake.
"""
from __future__ import annotations

import re

from benchmark.errors import UserError

#: A suite's or a row's name: a plain folder name.
SAFE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]*$')
SUITE_KEYS = ('suite_name', 'data', 'methods', 'seeds', 'pretrain', 'evaluation')
#: Top-level keys a suite may declare besides :data:`SUITE_KEYS`.
OPTIONAL_KEYS = ('method_overrides', 'backbone', 'backbone_variants', 'ablation',
                 'paper_reference', 'paper_reference_code', 'paper_unconfirmed')
#: ``pretrain`` keys: :func:`benchmark.pretrain.pretrain`'s keyword arguments.
PRETRAIN_KEYS = ('budget', 'warmup_ratio', 'log_interval', 'checkpoint_interval')
EVALUATION_KEYS = ('view', 'batch_size', 'num_workers', 'protocols')
VIEW_KEYS = ('clip_len', 'stride', 'num_clips', 'out_size')
#: ``data`` keys of the data types whose keys the harness reads itself (readers of real data
#: sets take their own arguments, checked by the reader).
DATA_KEYS = {
    'synthmotion': ('type', 'root', 'scale', 'seed', 'splits', 'cache_dir', 'cache_short_side'),
    None: ('root', 'splits', 'cache_dir', 'cache_short_side'),  # plain annotation lists
}


def check_option_keys(cfg, options: dict, where: str) -> None:
    """Every ``--cfg-options`` key names a top-level key that ``cfg`` (the suite config) has or
    that a suite may declare."""
    for key in options:
        top = key.split('.', 1)[0]
        if top not in cfg and top not in SUITE_KEYS + OPTIONAL_KEYS:
            raise UserError(f'--cfg-options {key}: suite {where} has no key {top!r}; its keys '
                            f'are {", ".join(SUITE_KEYS + OPTIONAL_KEYS)}: fix the spelling')


def check_section_keys(suite, where: str) -> None:
    """The ``pretrain``, ``evaluation``, ``evaluation.view`` and (SynthMotion, plain lists)
    ``data`` sections hold only keys the harness reads."""
    data_type = suite.data.get('type')
    sections = [('pretrain', suite.pretrain, PRETRAIN_KEYS),
                ('evaluation', suite.evaluation, EVALUATION_KEYS),
                ('evaluation.view', suite.evaluation.get('view') or {}, VIEW_KEYS)]
    if data_type in DATA_KEYS:
        sections.append(('data', suite.data, DATA_KEYS[data_type]))
    for name, section, known in sections:
        unknown = sorted(set(section) - set(known))
        if unknown:
            raise UserError(f'{where}: {name} has unknown key(s) {unknown}; it reads '
                            f'{", ".join(known)}: fix the spelling or remove them')


def check_row_name(name, where: str, example: str) -> str:
    """A leaderboard row's name names folders (its records, its work dir): no path of its own."""
    if not isinstance(name, str) or not SAFE_NAME.match(name):
        raise UserError(f'{where} {name!r} must be a plain name (letters, digits, _ . + -, '
                        f'starting with a letter or digit; no / or ..), e.g. {example}: it '
                        'names the folders of its records and weights')
    return name
