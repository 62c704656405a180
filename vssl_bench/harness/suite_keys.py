"""What a suite config may set and name: its keys, its row names (they name folders) and its
seeds, each refused by value with the fix when wrong.

Keys: a misspelt or unknown key (in the suite file or in ``--cfg-options``) is refused by name
instead of being silently ignored (mmengine's ``merge_from_dict`` creates any key it is given).
Top-level names of a suite file are free (``_base_`` variables such as
``frozen_feature_protocols`` are shared that way), but ``--cfg-options`` may only set a top-level
key the suite already has or one a suite may declare (:data:`SUITE_KEYS`, :data:`OPTIONAL_KEYS`).
Inside the ``pretrain``, ``evaluation`` and ``evaluation.view`` sections and a generated or
plain-list ``data`` section only the keys below are read; any other is a mistake.
"""
from __future__ import annotations

import re

from vssl_bench.core.errors import UserError
from vssl_bench.data.procedural import GENERATED

#: A suite's or a row's name: a plain folder name.
SAFE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]*$')
#: Seeds are below 2**31 (see :func:`check_seeds`).
MAX_SEED = 2**31
SUITE_KEYS = ('suite_name', 'data', 'methods', 'seeds', 'pretrain', 'evaluation')
#: Top-level keys a suite may declare besides :data:`SUITE_KEYS`.
OPTIONAL_KEYS = ('method_overrides', 'backbone', 'backbone_variants', 'ablation',
                 'paper_reference', 'paper_reference_code', 'paper_unconfirmed')
#: ``pretrain`` keys: :func:`vssl_bench.engine.pretrain.pretrain`'s keyword arguments.
PRETRAIN_KEYS = ('budget', 'warmup_ratio', 'log_interval', 'checkpoint_interval')
EVALUATION_KEYS = ('view', 'batch_size', 'num_workers', 'protocols')
VIEW_KEYS = ('clip_len', 'stride', 'num_clips', 'out_size')
#: ``data`` keys of the data types whose keys the harness reads itself (readers of real data
#: sets take their own arguments, checked by the reader).
#: A generated data set (SynthMotion, SynthEvents, SynthInteract) may name a generated
#: ``pretrain_data`` source (:mod:`vssl_bench.data.pretrain_source`; ``pretrain_root`` is set from
#: it at load time).
_GENERATED_KEYS = ('type', 'root', 'scale', 'seed', 'splits', 'cache_dir', 'cache_short_side',
                   'pretrain_data', 'pretrain_root')
DATA_KEYS = {
    **{name: _GENERATED_KEYS for name in GENERATED},
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


def check_seeds(seeds, where: str = '--seeds') -> None:
    """Seeds are integers in [0, 2**31): numpy, mmengine and the loaders' workers derive their
    own seeds from them, and numpy refuses seeds of 2**32 and above."""
    bad = [s for s in seeds if not isinstance(s, int) or isinstance(s, bool) or not
           0 <= s < MAX_SEED]
    if bad:
        raise UserError(f'{where} {bad} are not seeds: use integers from 0 to {MAX_SEED - 1}, '
                        'e.g. --seeds 0,1,2')
