"""A suite's frame-cache choice reaches every dataset it builds: pretraining, feature extraction,
fine-tuning and its test predictions, and the failed-video count; real data sets get no
native-size cache unless asked; suites that do not set a short side keep their hashes; the
precision a run trains in is part of its identity."""
from pathlib import Path

import pytest

from vssl_bench.core.io import read_json
from vssl_bench.core.registry import MODELS, build
from vssl_bench.data.synthmotion import generate
from vssl_bench.engine.finetuning import failed_videos, finetune_runner_cfg
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.feature_cache import eval_dataset, feature_key
from vssl_bench.harness.run_records import pretrain_hash, run_config_hash
from vssl_bench.harness.suite import model_context, run_suite
from vssl_bench.harness.suite_config import Suite, load_method_config

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'
SIDE = 24  # the tiny videos are 32 x 32: every cached frame is resized


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthmotion_tiny')
    generate(root, scale='tiny', seed=0, progress=False)
    return root


def _load(tiny_data, **data):
    options = {f'data.{key}': value for key, value in data.items()}
    return Suite.load(TINY, data_root=str(tiny_data), cfg_options=options or None)


def _method(suite, name):
    load_plugins()
    return next(cfg for cfg in (load_method_config(m, suite) for m in suite.methods)
                if cfg.method_name == name)


def test_short_side_reaches_every_dataset(tiny_data, tmp_path):
    suite = _load(tiny_data, cache_short_side=SIDE)
    cfg = _method(suite, 'Supervised')
    assert cfg.train_dataloader.dataset.cache_short_side == SIDE
    assert cfg.train_dataloader.dataset.cache_dir == suite.data['cache_dir']
    store = eval_dataset(suite, 'test').store
    assert store.short_side == SIDE and store.cache_path.endswith(f'-short{SIDE}')
    assert store.get(0).shape[1:] == (SIDE, SIDE, 3)
    context = model_context(suite, cfg, tmp_path / 'work', tmp_path / 'out')
    assert context.cache_short_side == SIDE
    runner_cfg = finetune_runner_cfg(
        context, suite.data['splits']['train'], 12, seed=0, work_dir=tmp_path / 'ft', steps=2,
        batch_size=2, lr=1e-3, weight_decay=0.0, head_lr_mult=1.0, warmup_ratio=0.0,
        augment={}, dtype=None, dropout=0.0, num_workers=0, log_interval=1)
    dataset = runner_cfg.train_dataloader.dataset
    assert dataset.cache_short_side == SIDE and dataset.cache_dir == suite.data['cache_dir']
    assert failed_videos(context.ann_files['test'], context) == 0


def test_without_short_side_nothing_changes(tiny_data, tmp_path):
    plain, short = _load(tiny_data), _load(tiny_data, cache_short_side=SIDE)
    cfg = _method(plain, 'CVRL')
    assert 'cache_short_side' not in cfg.train_dataloader.dataset  # hashes of before hold
    assert eval_dataset(plain, 'test').store.short_side is None
    assert model_context(plain, cfg, tmp_path, tmp_path).cache_short_side is None
    # The short side is part of what names the weights, the records and the cached features.
    cfg_short = _method(short, 'CVRL')
    assert pretrain_hash(plain, cfg) != pretrain_hash(short, cfg_short)
    assert run_config_hash(plain, cfg) != run_config_hash(short, cfg_short)
    model = build(MODELS, cfg.model.to_dict())
    keys = {feature_key(model, cfg.model.to_dict(), s, 'test') for s in (plain, short)}
    assert len(keys) == 2


def test_real_data_sets_get_no_native_cache(tmp_path):
    def load(**data):
        path = tmp_path / f'suite{len(data)}.py'
        path.write_text(f"_base_ = ['{TINY}']\ndata = dict(_delete_=True, type='ucf101', "
                        f"root='{tmp_path / 'ucf101'}', split=1, **{data!r})\n")
        return Suite.load(path)
    assert load().data['cache_dir'] is None  # every sample decodes just its frames
    short = load(cache_short_side=128)
    assert short.data['cache_dir'] == str(tmp_path / 'ucf101' / '.frame_cache')
    assert short.data['cache_short_side'] == 128
    # SynthMotion (and plain lists) keep the native decode-once cache.
    assert Suite.load(TINY).data['cache_dir'].endswith('.frame_cache')


def test_suite_runs_from_the_short_side_cache(tiny_data, tmp_path):
    suite = _load(tiny_data, cache_short_side=SIDE, cache_dir=str(tmp_path / 'cache'))
    board, failures = run_suite(suite, out=tmp_path / 'results', work_root=tmp_path / 'work',
                                methods=['Supervised'])
    assert failures == [] and board is not None
    # Every dataset read the per-video cache at the short side: no native-size cache was built.
    built = sorted(p.name for p in (tmp_path / 'cache').iterdir())
    assert built and all(name.endswith(f'-short{SIDE}') for name in built)
    runs = tmp_path / 'results' / 'runs' / 'Supervised' / 'seed0'
    linear, finetune = (read_json(runs / f'{p}.json') for p in ('linear', 'finetune'))
    assert linear['evaluation']['num_failed'] == dict(train=0, test=0)
    assert linear['evaluation']['num_train'] == 36 and linear['evaluation']['num_test'] == 24
    assert finetune['evaluation']['num_failed'] == dict(train=0, test=0)
    assert linear['pretrain']['num_failed'] == 0 and linear['pretrain']['iters'] > 1


def test_precision_is_part_of_the_run_identity(tiny_data, monkeypatch):
    # Where bfloat16 is native, VSSL_FLOAT32 changes the precision and so the work dir and the
    # records' hash: float32 runs never reuse bfloat16 weights in the same --work-dir.
    from vssl_bench.core import precision
    suite = _load(tiny_data)
    cfg = _method(suite, 'CVRL')
    monkeypatch.setattr(precision.torch.cuda, 'is_available', lambda: False)
    hashes = {}
    for native in (True, False):
        monkeypatch.setattr(precision, 'native_bfloat16', lambda device_type, n=native: n)
        for forced in ('', '1'):
            monkeypatch.setenv(precision.FLOAT32_ENV, forced)
            hashes[native, forced] = (pretrain_hash(suite, cfg), run_config_hash(suite, cfg))
    assert hashes[True, ''] != hashes[True, '1']
    assert hashes[True, '1'] == hashes[False, ''] == hashes[False, '1']  # float32 all three
