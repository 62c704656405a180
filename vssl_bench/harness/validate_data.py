"""The data section of a suite and its folder, checked before anything is generated, cached or
read: the data type and a generated data set's scale and lists (SynthMotion, SynthEvents,
SynthInteract: :mod:`vssl_bench.data.procedural`), the frame cache's short side, evaluation clips
that fit the generated videos, ``--data-root``, the folder a data set would be generated into
(never over lists it did not write) and plain annotation lists
(:mod:`vssl_bench.data.list_check`). Part of :mod:`vssl_bench.harness.validate`."""
from __future__ import annotations

from pathlib import Path

from vssl_bench.core.errors import ConfigError
from vssl_bench.core.io import read_json
from vssl_bench.data import pretrain_source, procedural, suite_data
from vssl_bench.data.list_check import check_lists

#: ``data.type`` values: a generated data set, plain annotation lists (no type) or a reader.
DATA_TYPES = (*procedural.GENERATED, *suite_data.DEFAULT_SPLITS)
#: Smallest short side of a frame cache (SynthMotion's frames are 32 px).
MIN_CACHE_SHORT_SIDE = 16
#: The lists a generated data set writes (and the only ones its suite may name).
GENERATED_SPLITS = dict(pretrain='pretrain.txt', train='train.txt', test='test.txt')


def check_data_section(suite, where: str) -> None:
    """The suite's ``data`` section as loaded (nothing on disk is read)."""
    data_type = suite.data.get('type')
    if data_type is not None and data_type not in DATA_TYPES:
        raise ConfigError(f'{where}: unknown data.type {data_type!r}; known: '
                          f'{", ".join(DATA_TYPES)} (or no type for plain annotation lists)')
    if procedural.is_generated(data_type):
        _check_scale(suite.data, where)
        if pretrain_source.is_generated_transfer(suite.data):
            _check_scale(suite.data['pretrain_data'], f'{where}: data.pretrain_data')
        if dict(suite.data.get('splits') or {}) != GENERATED_SPLITS:
            raise ConfigError(f'{where}: data.splits={suite.data.get("splits")!r} but data.type '
                              f'is {data_type!r} (inherited from the base config?), whose lists '
                              f'are {GENERATED_SPLITS}: for your own annotation lists start '
                              "the suite's data with _delete_=True, e.g. data = dict(_delete_="
                              "True, root=..., splits=dict(pretrain=..., train=..., test=...))")
    side = suite.data.get('cache_short_side')
    if side is not None and not (_positive_int(side) and side >= MIN_CACHE_SHORT_SIDE):
        raise ConfigError(f'{where}: data.cache_short_side={side!r} must be an integer >= '
                          f'{MIN_CACHE_SHORT_SIDE} (pixels of the cached frames\' short side, at '
                          'least the training and evaluation crops), or None for native-size frames')
    if side is not None and suite.data.get('cache_dir') is None:
        raise ConfigError(f'{where}: data.cache_short_side={side} needs a frame cache, but '
                          'data.cache_dir is None: remove cache_short_side or set cache_dir')


def _check_scale(data: dict, where: str) -> None:
    spec = procedural.get(data['type'])
    scale = data.get('scale', 'default')
    if scale not in spec.scales:
        raise ConfigError(f'{where}: unknown {spec.title} scale {scale!r}; known: '
                          f'{", ".join(sorted(spec.scales))}')


def check_view_span(suite, view: dict, where: str) -> None:
    """An evaluation clip may not span more frames than a generated video has: the sampler
    would wrap around the video and extraction would run for ages on a meaningless view."""
    frames = _video_frames(suite)
    span = (view.get('clip_len', 1) - 1) * view.get('stride', 1) + 1
    if frames is not None and span > frames:
        raise ConfigError(f'{where}: evaluation.view clip_len={view.get("clip_len")} x stride='
                          f'{view.get("stride")} spans {span} frames, but the videos have '
                          f'{frames}: use (clip_len - 1) * stride + 1 <= {frames}')


def _video_frames(suite) -> int | None:
    """Frames per video when known before generating (generated data sets)."""
    if not procedural.is_generated(suite.data.get('type')):
        return None
    scale = procedural.get(suite.data['type']).scales.get(suite.data.get('scale', 'default'))
    return scale.frames if scale else None


def check_data_root_option(data_root: str | None) -> None:
    """``--data-root ''`` is the current directory to ``Path``: refuse it rather than generate a
    data set into the working tree."""
    if data_root is not None and not str(data_root).strip():
        raise ConfigError(f'--data-root {data_root!r} is empty: pass the data set folder, e.g. '
                          '--data-root data/synthmotion, or leave the option out')


def check_data(suite) -> None:
    """The suite's data folder before anything is generated, cached or read: the generated data
    set of the same type, scale and seed (or none yet, or a generation that was interrupted),
    plain lists with valid labels (:mod:`vssl_bench.data.list_check`)."""
    root = Path(suite.data['root'])
    if root.exists() and not root.is_dir():
        raise ConfigError(f'data root {root} is a file: pass the data set folder (--data-root)')
    if suite.data.get('type') is None:
        check_lists(root, suite.data['splits'], f'suite {suite.path}')
    if not procedural.is_generated(suite.data.get('type')):
        return
    _check_generated_root(suite.data)
    if pretrain_source.is_generated_transfer(suite.data):
        source = suite.data['pretrain_data']
        if Path(source['root']).exists() and not Path(source['root']).is_dir():
            raise ConfigError(f'data.pretrain_data root {source["root"]} is a file: name the '
                              'folder of the data set to pretrain on')
        _check_generated_root(source)


def _check_generated_root(data: dict) -> None:
    """The folder of a generated data set holds that data set (type, scale, seed), nothing yet,
    or an interrupted generation of it."""
    root, data_type = Path(data['root']), data['type']
    if not (root / 'meta.json').is_file():
        _check_generation_target(root, procedural.get(data_type).title)
        return
    try:
        meta = read_json(root / 'meta.json')
    except (OSError, ValueError):
        meta = None
    wanted = dict(dataset=data_type, scale=data.get('scale', 'default'), seed=data.get('seed', 0))
    found = ({k: procedural.meta_field(meta, k) for k in wanted} if isinstance(meta, dict)
             else None)
    if found != wanted:
        raise ConfigError(f'{root} holds another generated data set ({found}, this suite '
                          f'needs {wanted}): pass another --data-root or delete that folder')


def _check_generation_target(root: Path, title: str) -> None:
    """A data set is generated into ``root``: refuse when its lists would overwrite lists that
    no generator wrote (a user's, e.g. of a suite whose data inherited
    type='synthmotion' for want of ``_delete_=True``)."""
    for split, name in GENERATED_SPLITS.items():
        path = root / name
        if not path.is_file():
            continue
        first = next((line.strip() for line in path.read_text(errors='replace').splitlines()
                      if line.strip()), '')
        if first and not first.startswith(f'videos/{split}/'):
            raise ConfigError(
                f'{path} is not a {title} list (its first line is {first!r}) and generating '
                f'{title} into {root} would overwrite it: for your own lists start the '
                "suite's data with _delete_=True (data = dict(_delete_=True, root=..., splits="
                '...)), else pass another --data-root')


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
