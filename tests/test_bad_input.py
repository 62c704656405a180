"""Bad input corpus: every malformed suite, method config and command-line value ends in one
line that names the value (exit code 2), no traceback, before any data is generated or cached."""
from pathlib import Path

import pytest

from vssl_bench.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'
METHOD = ROOT / 'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py'

# name -> (lines of a suite inheriting the tiny suite, extra CLI arguments, text the message
# must contain). A suite of None runs the tiny suite itself.
SUITE_CASES = {
    'no seeds': ('seeds = []', [], 'no seeds'),
    'malformed ablation': ("ablation = dict(reference='CVRL')", [], 'ablation must be'),
    'ablation of an unknown method': (
        "ablation = dict(reference='CVRL', claims=[dict(variant='CVRL-x', expect='below', "
        "paper='p')])", [], "ablation names ['CVRL-x']"),
    'no methods': ('methods = []', [], 'no methods'),
    'sampler gives 1 clip, CVRL takes 2': (
        "method_overrides = dict(train_dataloader=dict(dataset=dict(sampler=dict(_delete_=True, "
        "type='RandomClipSampler', clip_len=8, stride=2, num_clips=1))))", ['--methods', 'CVRL'],
        'CVRL takes num_views=2'),
    'pretraining source of another kind': (
        "data = dict(pretrain_data=dict(type='ucf101', root='{dir}/u'))", [],
        'must be another generated data set'),
    'pretraining source without a root': (
        "data = dict(type='synthevents', pretrain_data=dict(type='synthmotion'))", [],
        'needs a root folder'),
    'negative seed in suite': ('seeds = [-3]', [], '-3'),
    'unknown data type': ("data = dict(type='webvid')", [], 'webvid'),
    'unknown synthmotion scale': ("data = dict(scale='huge')", [], 'huge'),
    'frame cache short side 8 px': ('data = dict(cache_short_side=8)', [], 'cache_short_side=8'),
    'frame cache short side as text': ("data = dict(cache_short_side='128')", [], "'128'"),
    'short side without a cache': ('data = dict(cache_dir=None, cache_short_side=64)', [],
                                   'cache_dir is None'),
    'suite name escapes results': ("suite_name = '../escape'", [], '../escape'),
    'suite name with a slash': ("suite_name = 'a/b'", [], 'a/b'),
    'unknown protocol': ("evaluation = dict(protocols=[dict(type='Telepathy')])", [],
                         'Telepathy'),
    'protocol without type': ('evaluation = dict(protocols=[dict(k=3)])', [], 'type'),
    'unknown protocol argument': ("evaluation = dict(protocols=[dict(type='KNN', kk=3)])", [],
                                  'kk'),
    'knn k=0': ("evaluation = dict(protocols=[dict(type='KNN', k=0)])", [], 'k'),
    'one fold': ("evaluation = dict(protocols=[dict(type='LinearProbe', folds=1)])", [],
                 'folds'),
    '50 folds on 3 videos per class': (
        "evaluation = dict(protocols=[dict(type='LinearProbe', folds=50)])", [], 'folds=50'),
    'semisup fraction 1.5': (
        "evaluation = dict(protocols=[dict(type='SemiSupervised', fractions=(1.5,))])", [],
        '1.5'),
    'no protocols': ('evaluation = dict(protocols=[])', [], 'protocols'),
    'num_clips=0': ('evaluation = dict(view=dict(num_clips=0))', [], 'num_clips'),
    'eval batch_size=0': ('evaluation = dict(batch_size=0)', [], 'batch_size'),
    'eval num_workers=-1': ('evaluation = dict(num_workers=-1)', [], 'num_workers'),
    'finetune steps=0': ("evaluation = dict(protocols=[dict(type='FineTune', steps=0)])", [],
                         'steps'),
    'finetune batch_size=0': (
        "evaluation = dict(protocols=[dict(type='FineTune', batch_size=0)])", [], 'batch_size'),
    'negative budget': ("pretrain = dict(budget=dict(unit='train_flops', value=-1))", [], '-1'),
    'zero budget': ("pretrain = dict(budget=dict(unit='epochs', value=0))", [], '0'),
    'unknown budget unit': ("pretrain = dict(budget=dict(unit='parsecs', value=1))", [],
                            'parsecs'),
    'budget unit without value': ("pretrain = dict(budget=dict(unit='epochs'))", [], 'value'),
    'no budget': ('pretrain = dict(_delete_=True, warmup_ratio=0.1)', [], 'budget'),
    'missing method config': ("methods = ['configs/methods/nope.py']", [], 'nope.py'),
    'malformed methods item': ("methods = [dict(cfg='x.py')]", [], 'cfg'),
    'method config sets its schedule': (
        "methods = ['{dir}/sched.py']", [], 'train_cfg'),
    'unknown method type': ("methods = ['{dir}/unknown.py']", [], 'NoSuchMethod'),
    'plugin fails to import': ("methods = ['{dir}/plugin.py']", [], 'no_such_plugin_module'),
    'method config with a syntax error': ("methods = ['{dir}/broken.py']", [], 'broken.py'),
    # command line, on the tiny suite
    'empty --methods': (None, ['--methods', ''], '--methods'),
    'unknown --methods': (None, ['--methods', 'CVRL,Telepathy'], 'Telepathy'),
    'unknown --protocols': (None, ['--protocols', 'linear,telepathy'], 'telepathy'),
    'empty --protocols': (None, ['--protocols', ''], '--protocols'),
    '--seeds a,b': (None, ['--seeds', 'a,b'], 'a,b'),
    'negative --seeds': (None, ['--seeds', '-1'], '-1'),
    'empty --seeds': (None, ['--seeds', ''], '--seeds'),
    '--budget-scale 0': (None, ['--budget-scale', '0'], '0'),
    'unknown --launcher': (None, ['--launcher', 'ssh'], 'ssh'),
    '--out is a file': (None, ['--out', '{dir}/a_file'], 'a_file'),
    '--out under a file': (None, ['--out', '{dir}/a_file/results'], 'a_file'),
    '--work-dir is a file': (None, ['--work-dir', '{dir}/a_file'], 'a_file'),
    '--data-root is a file': (None, ['--data-root', '{dir}/a_file'], 'a_file'),
    '--data-root holds another seed': (None, ['--data-root', '{dir}/other_seed'], 'seed'),
    # issue 25: writes outside --out / --work-dir through a row name
    'row name escapes results': (
        f"methods = [dict(config='{METHOD}', name='../../../X')]", [], '../../../X'),
    'method_name of a method config escapes results': (
        "methods = ['{dir}/escape.py']", [], '../escaped'),
    # issue 25: values that ran on with wrong results
    'seeds as a string': ("seeds = '10'", [], "'10'"),
    'seeds as floats': ('seeds = [0.9, 2.7]', [], '0.9'),
    'suite seed beyond numpy': ('seeds = [2**40]', [], '1099511627776'),
    '--seeds beyond numpy': (None, ['--seeds', '1099511627776'], '1099511627776'),
    'empty --data-root': (None, ['--data-root', ''], "--data-root: '' is empty"),
    'empty --out': (None, ['--out', ''], "--out: '' is empty"),
    'empty --work-dir': (None, ['--work-dir', ' '], "--work-dir: ' ' is empty"),
    'list suite without _delete_': (
        "data = dict(root='{dir}/lists', splits=dict(pretrain='pretrain.txt', train="
        "'train.txt', test='test.txt'))", [], '_delete_=True'),
    'SynthMotion would overwrite a list': (None, ['--data-root', '{dir}/lists'], 'train.txt'),
    'unknown --cfg-options key': (None, ['--cfg-options', 'nosuchkey.x=1'], 'nosuchkey'),
    'misspelt evaluation key': (None, ['--cfg-options', 'evaluation.vew.clip_len=4'], 'vew'),
    'misspelt view key': (None, ['--cfg-options', 'evaluation.view.cliplen=4'], 'cliplen'),
    'unknown pretrain key': ('pretrain = dict(warmup=0.1)', [], 'warmup'),
    'misspelt data key': ("data = dict(scael='tiny')", [], 'scael'),
    'budget value=True': ("pretrain = dict(budget=dict(unit='epochs', value=True))", [],
                          'True'),
    'unknown --method-cfg-options key': (None, ['--method-cfg-options', 'nosuch.x=1'],
                                         'nosuch'),
    # issue 25: tracebacks and late refusals
    '--budget-scale nan': (None, ['--budget-scale', 'nan'], 'nan'),
    '--budget-scale inf': (None, ['--budget-scale', '0.5,inf'], 'inf'),
    '--method-cfg-options batch_size=0': (
        None, ['--method-cfg-options', 'train_dataloader.batch_size=0'], 'batch_size=0'),
    'protocols as text from --cfg-options': (
        None, ['--cfg-options', "evaluation.protocols=[dict(type='LinearProbe')]"],
        "dict(type='LinearProbe')"),
    'duplicate methods': (f"methods = ['{METHOD}', '{METHOD}']", [], 'more than once'),
    'method_overrides set the schedule': (
        "method_overrides = dict(train_cfg=dict(max_iters=3))", [], 'train_cfg'),
    'eval clip longer than the videos': ('evaluation = dict(view=dict(clip_len=10000))', [],
                                         'clip_len=10000'),
}
FILE_CASES = {
    'suite file is not .py': ('suite.txt', 'seeds = [0]\n', '.py'),
    'suite file has a syntax error': ('suite.py', 'seeds = [0\n', 'suite.py'),
    'suite file does not exist': (None, None, 'missing.py'),
}


@pytest.fixture
def case_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the method paths of the suites are relative to the repository

    def refuse(*args, **kwargs):
        raise AssertionError('bad input reached data preparation: it must be refused before')
    import vssl_bench.harness.external
    import vssl_bench.harness.suite
    monkeypatch.setattr(vssl_bench.harness.suite, 'prepare_data', refuse)
    monkeypatch.setattr(vssl_bench.harness.external, 'prepare_data', refuse)
    (tmp_path / 'escape.py').write_text(f"_base_ = ['{METHOD}']\nmethod_name = '../escaped'\n")
    _write_lists(tmp_path)
    (tmp_path / 'a_file').write_text('not a folder')
    (tmp_path / 'sched.py').write_text(
        f"_base_ = ['{METHOD}']\ntrain_cfg = dict(type='IterBasedTrainLoop', max_iters=5)\n")
    (tmp_path / 'unknown.py').write_text(f"_base_ = ['{METHOD}']\nmodel = dict(type="
                                         "'NoSuchMethod')\n")
    (tmp_path / 'plugin.py').write_text(f"_base_ = ['{METHOD}']\ncustom_imports = dict("
                                        "imports=['no_such_plugin_module'])\n")
    (tmp_path / 'broken.py').write_text('model = dict(\n')
    (tmp_path / 'other_seed').mkdir()
    (tmp_path / 'other_seed' / 'meta.json').write_text(
        '{"dataset": "synthmotion", "scale": "tiny", "seed": 7, "version": 5}')
    return tmp_path


LISTS = {  # list file -> lines (relative path, label); classes.txt names 3 classes
    'pretrain.txt': [('v/p0.mp4', 0), ('v/p1.mp4', 1)],
    'train.txt': [('v/a.mp4', 0), ('v/b.mp4', 1), ('v/c.mp4', 2)],
    'test.txt': [('v/d.mp4', 0), ('v/e.mp4', 1), ('v/f.mp4', 2)],
    'test_999.txt': [('v/d.mp4', 0), ('v/e.mp4', 999)],
    'test_negative.txt': [('v/d.mp4', 0), ('v/e.mp4', -1)],
    'test_repeated.txt': [('v/d.mp4', 0), ('v/e.mp4', 1), ('v/d.mp4', 0)],
    'test_shared.txt': [('v/d.mp4', 0), ('v/a.mp4', 0)],
}


def _write_lists(root: Path) -> None:
    """``root/lists`` (3 classes named in classes.txt), ``root/lists_short`` (the same lists,
    classes.txt naming 2) and ``root/lists_unnamed`` (no classes.txt)."""
    for folder, classes in (('lists', 'a b c'), ('lists_short', 'a b'), ('lists_unnamed', None)):
        (root / folder).mkdir()
        for name, lines in LISTS.items():
            (root / folder / name).write_text(''.join(f'{p} {label}\n' for p, label in lines))
        if classes:
            (root / folder / 'classes.txt').write_text(classes.replace(' ', '\n') + '\n')


LIST_SUITE = ("data = dict(_delete_=True, root='{dir}/lists', splits=dict(pretrain='pretrain.txt', "
              "train='train.txt', test='{test}'))")
LIST_CASES = {  # name -> (test list, data folder, text the message must contain)
    'list label out of range': ('test_999.txt', 'lists', '999'),
    'list label -1': ('test_negative.txt', 'lists', '-1'),
    'list repeats a video': ('test_repeated.txt', 'lists', 'more than once'),
    'train and test lists share a video': ('test_shared.txt', 'lists', 'v/a.mp4'),
    'classes.txt shorter than the labels': ('test.txt', 'lists_short', 'label 2'),
    'label gap without classes.txt': ('test_999.txt', 'lists_unnamed', '3-999'),
}


@pytest.mark.parametrize('name', sorted(LIST_CASES))
def test_bad_annotation_lists_are_refused_before_any_work(name, case_dir, capsys):
    test, folder, expected = LIST_CASES[name]
    suite = case_dir / 'suite.py'
    suite.write_text(f"_base_ = ['{TINY}']\n" + LIST_SUITE.format(dir=case_dir, test=test) + '\n')
    code, err = _run(['run', str(suite), '--data-root', str(case_dir / folder), '--out',
                      str(case_dir / 'out'), '--work-dir', str(case_dir / 'work')], capsys)
    _check(code, err, expected, case_dir / folder)
    assert not (case_dir / folder / '.frame_cache').exists()


def test_good_annotation_lists_pass(case_dir):
    from vssl_bench.harness.validate import check_run, load_suite
    suite_file = case_dir / 'suite.py'
    suite_file.write_text(f"_base_ = ['{TINY}']\n"
                          + LIST_SUITE.format(dir=case_dir, test='test.txt') + '\n')
    for folder in ('lists', 'lists_unnamed'):
        suite = load_suite(suite_file, data_root=str(case_dir / folder))
        check_run(suite, methods=None, seeds=None, work_dir=str(case_dir / 'work'),
                  data_root=str(case_dir / folder))


class _NotAWeight:
    """Pickled into a checkpoint, it makes the file unloadable with weights_only=True."""


EVAL_CASES = {  # name -> (checkpoint writer, extra CLI arguments, text the message must contain)
    '--name escapes results': ('text', ['--name', '../../../X'], '../../../X'),
    '--name is a path': ('text', ['--name', 'a/b'], 'a/b'),
    '--name of a suite method': ('text', ['--name', 'CVRL'], "'CVRL' is a method"),
    'file name is not a row name': ('spaces', [], 'pass --name'),
    'text file as checkpoint': ('text', [], 'not a weights file'),
    'checkpoint of pickled objects': ('pickle', [], 'not a weights file'),
    'missing checkpoint': ('missing', [], 'not found'),
    '--seeds beyond numpy': ('text', ['--seeds', '1099511627776'], '1099511627776'),
    'empty --data-root': ('text', ['--data-root', ''], "--data-root: '' is empty"),
    'empty --out': ('text', ['--out', ''], "--out: '' is empty"),
    'protocols as text from --cfg-options': (
        'text', ['--cfg-options', "evaluation.protocols=[dict(type='LinearProbe')]"],
        "dict(type='LinearProbe')"),
    '--method-cfg-options outside the model': (
        'text', ['--method-cfg-options', 'train_dataloader.batch_size=0'], 'train_dataloader'),
    'unknown --cfg-options key': ('text', ['--cfg-options', 'nosuchkey.x=1'], 'nosuchkey'),
}


def _checkpoint(kind: str, folder: Path) -> Path:
    import torch
    path = folder / ('my weights.pth' if kind == 'spaces' else 'weights.pth')
    if kind in ('text', 'spaces'):
        path.write_text('not a checkpoint')
    elif kind == 'pickle':
        torch.save({'backbone.w': torch.zeros(1), 'extra': _NotAWeight()}, path)
    return path


@pytest.mark.parametrize('name', sorted(EVAL_CASES))
def test_bad_eval(name, case_dir, capsys):
    kind, extra, expected = EVAL_CASES[name]
    checkpoint = _checkpoint(kind, case_dir)
    before = set(case_dir.parent.iterdir())
    defaults = {'--out': str(case_dir / 'out'), '--work-dir': str(case_dir / 'work'),
                '--data-root': str(case_dir / 'data')}
    argv = ['eval', str(checkpoint), '--suite', str(TINY), *extra]
    for option, value in defaults.items():
        if option not in extra:
            argv += [option, value]
    code, err = _run(argv, capsys)
    _check(code, err, expected, case_dir / 'data')
    assert set(case_dir.parent.iterdir()) == before  # nothing beside the test's folder
    assert not (case_dir / 'out' / 'runs').exists()


@pytest.mark.parametrize('argv, expected', [
    (['data', 'synthmotion', '--out', '', '--scale', 'tiny'], "--out: '' is empty"),
    (['data', 'synthmotion', '--out', 'd', '--seed', '-1'], '--seed [-1]'),
    (['train', str(METHOD), '--seed', str(2**40)], f'--seed [{2**40}]'),
    (['train', str(METHOD), '--data-root', ''], "--data-root: '' is empty"),
])
def test_data_and_train_refuse_empty_folders_and_bad_seeds(argv, expected, tmp_path,
                                                          monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, err = _run(argv, capsys)
    _check(code, err, expected, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing generated or trained in the current folder


def test_train_refuses_a_method_name_that_escapes_its_work_dir(case_dir, capsys):
    code, err = _run(['train', str(case_dir / 'escape.py'), '--data-root',
                      str(case_dir / 'data')], capsys)
    _check(code, err, '../escaped', case_dir / 'data')
    assert not (ROOT / 'work_dirs' / 'escaped').exists()


def test_a_bug_keeps_its_traceback_a_user_error_is_one_line(monkeypatch, capsys):
    """cli.main turns only :class:`UserError` (and OSError) into one line with exit code 2: a
    plain ValueError is a bug and propagates with its traceback."""
    import vssl_bench.cli
    from vssl_bench.core.errors import UserError

    def bug(args):
        raise ValueError('an internal invariant broke')
    monkeypatch.setattr(vssl_bench.cli, 'cmd_methods', bug)
    with pytest.raises(ValueError, match='internal invariant'):
        main(['methods'])

    def mistake(args):
        raise UserError('--x 3 is wrong: pass --x 2')
    monkeypatch.setattr(vssl_bench.cli, 'cmd_methods', mistake)
    code, err = _run(['methods'], capsys)
    assert code == 2 and err == ['error: --x 3 is wrong: pass --x 2']


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return code, err


def _check(code, err, expected, data_root: Path):
    assert code == 2
    assert len(err) == 1, err
    assert 'Traceback' not in err[0] and expected in err[0], err[0]
    assert not (data_root / 'meta.json').exists()  # refused before generating data


@pytest.mark.parametrize('name', sorted(SUITE_CASES))
def test_bad_suite_or_command_line(name, case_dir, capsys):
    body, extra, expected = SUITE_CASES[name]
    suite = TINY
    if body is not None:
        suite = case_dir / 'suite.py'
        suite.write_text(f"_base_ = ['{TINY}']\n" + body.format(dir=case_dir) + '\n')
    extra = [arg.format(dir=case_dir) for arg in extra]
    defaults = {'--out': str(case_dir / 'out'), '--work-dir': str(case_dir / 'work'),
                '--data-root': str(case_dir / 'data')}
    argv = ['run', str(suite), *extra]
    for option, value in defaults.items():
        if option not in extra:
            argv += [option, value]
    before = set(case_dir.parent.iterdir())
    code, err = _run(argv, capsys)
    _check(code, err, expected, case_dir / 'data')
    assert set(case_dir.parent.iterdir()) == before  # nothing beside the test's folder
    assert not (case_dir / 'out' / 'runs').exists()
    assert not any((case_dir / 'work').glob('pretrain/*'))


@pytest.mark.parametrize('name', sorted(FILE_CASES))
def test_bad_suite_file(name, case_dir, capsys):
    filename, text, expected = FILE_CASES[name]
    path = case_dir / (filename or 'missing.py')
    if text is not None:
        path.write_text(text)
    code, err = _run(['run', str(path), '--data-root', str(case_dir / 'data')], capsys)
    _check(code, err, expected, case_dir / 'data')


def test_corpus_size():
    assert (len(SUITE_CASES) + len(FILE_CASES) + len(DATA_CASES) + len(LIST_CASES)
            + len(EVAL_CASES)) >= 95


# Bad data: a data set of three good videos plus one bad one. The bad one is left out and counted
# (or, for a single frame or another size, kept with a warning), never fatal.
def _missing(path: Path) -> None:
    """Listed but never written."""


def _truncated(path: Path) -> None:
    from tests.conftest import synthetic_frames, write_video
    write_video(path, synthetic_frames(24, (32, 40)))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])


def _random_bytes(path: Path) -> None:
    import numpy as np
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def _write(frames: int, size=(32, 40)):
    def write(path: Path) -> None:
        from tests.conftest import synthetic_frames, write_video
        write_video(path, synthetic_frames(frames, size))
    return write


DATA_CASES = {  # name -> (writer of the bad file, counted as failed, warning that names it)
    'missing file': (_missing, True, 'file not found'),
    'zero-byte file': (lambda p: p.write_bytes(b''), True, 'bad.mp4'),
    'truncated video': (_truncated, True, 'bad.mp4'),
    'random bytes': (_random_bytes, True, 'bad.mp4'),
    'text file named .mp4': (lambda p: p.write_text('hello'), True, 'bad.mp4'),
    'folder named .mp4': (lambda p: p.mkdir(), True, 'bad.mp4'),
    'single-frame video': (_write(1), False, 'single frame'),
    'video of another size': (_write(24, (48, 64)), False, 'bad.mp4 (48x64)'),
}


@pytest.mark.parametrize('name', sorted(DATA_CASES))
def test_bad_video_is_counted_or_warned_never_fatal(name, tmp_path):
    from tests.conftest import make_videos
    from vssl_bench.data.dataset import VideoClipDataset
    write, counted, warning = DATA_CASES[name]
    ann = make_videos(tmp_path, n=3, frames=24, size=(32, 40))
    (tmp_path / 'videos').mkdir(exist_ok=True)
    write(tmp_path / 'videos' / 'bad.mp4')
    ann.write_text(ann.read_text() + 'videos/bad.mp4 1\n')
    with pytest.warns(RuntimeWarning, match=warning.replace('(', r'\(').replace(')', r'\)')):
        dataset = VideoClipDataset(str(ann), data_root=str(tmp_path), cache_dir=str(
            tmp_path / 'cache'), sampler=dict(type='UniformClipSampler', clip_len=4, stride=2,
                                               num_clips=1),
            transform=dict(type='CenterClip', out_size=16), cache_workers=1)
    assert dataset.num_failed == int(counted)
    assert len(dataset) == 4 - int(counted)
    for i in range(len(dataset)):
        assert dataset[i]['inputs'].shape[-2:] == (16, 16)


@pytest.mark.parametrize('text, expected', [
    ('', 'lists no videos'),
    ('videos/vid000.mp4 notalabel\n', 'expected'),
])
def test_bad_annotation_file_is_one_line(tmp_path, text, expected):
    from vssl_bench.data.dataset import VideoClipDataset
    ann = tmp_path / 'ann.txt'
    ann.write_text(text)
    with pytest.raises(ValueError, match=expected) as info:
        VideoClipDataset(str(ann), data_root=str(tmp_path))
    assert '\n' not in str(info.value)


def test_full_disk_leaves_no_temporary_file_and_says_so_in_one_line(tmp_path, monkeypatch,
                                                                     capsys):
    """A weights file written on a full disk: torch's RuntimeError becomes an OSError (ENOSPC)
    naming the file, and the partial temporary file is removed."""
    import errno
    import shutil
    from collections import namedtuple

    import torch

    import vssl_bench.core.io
    from vssl_bench.engine import pretrain as pt

    def full_disk_save(obj, path):
        with open(path, 'wb') as f:
            f.write(b'partial')
        raise RuntimeError('[enforce fail at inline_container.cc] file write failed')
    usage, disk_usage = namedtuple('usage', 'total used free'), shutil.disk_usage
    monkeypatch.setattr(torch, 'save', full_disk_save)
    monkeypatch.setattr(vssl_bench.core.io.shutil, 'disk_usage', lambda p: usage(10**9, 10**9, 0))
    target = tmp_path / 'run' / 'final_weights.pth'
    with pytest.raises(OSError) as info:
        pt.save_weights(torch.nn.Linear(2, 2), target)
    assert info.value.errno == errno.ENOSPC and str(target) in str(info.value)
    assert '\n' not in str(info.value)
    assert sorted(p.name for p in target.parent.iterdir()) == []  # no partial file, no temp
    monkeypatch.setattr(vssl_bench.core.io.shutil, 'disk_usage', disk_usage)
    with pytest.raises(RuntimeError, match='file write failed'):  # not a full disk: as it was
        pt.save_weights(torch.nn.Linear(2, 2), target)
    assert list(target.parent.iterdir()) == []
