"""Data-set readers on small trees laid out like the real UCF101, HMDB51 and Kinetics."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import synthetic_frames, write_video
from vssl_bench.data.dataset import VideoClipDataset, read_annotations
from vssl_bench.data.readers import READERS, mean_over_splits, prepare_lists

SMALL = dict(sampler=dict(type='UniformClipSampler', clip_len=2, stride=1),
             transform=dict(type='CenterClip', out_size=16))


def tiny_video(path: Path, seed: int = 0) -> None:
    write_video(path, synthetic_frames(4, (16, 16), seed=seed))


def assert_loads(lists, split: str, n: int) -> None:
    ds = VideoClipDataset(lists.ann_files[split], lists.data_root, **SMALL)
    assert len(ds) == n and ds.num_failed == 0
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (1, 3, 2, 16, 16)
    assert list(ds.video_labels) == [label for _, label in read_annotations(ds.ann_file)]


def test_registered_types():
    assert {'ucf101', 'hmdb51', 'kinetics', 'kinetics400', 'kinetics600', 'list'} <= set(READERS)
    with pytest.raises(KeyError, match='ucf101'):
        prepare_lists('ucf102', out_dir='x', root='y')


# ------------------------------------------------------------------------------------- UCF101
def ucf_tree(root: Path) -> None:
    """3 classes (one with UCF's HandstandPushups/HandStand spelling), split 1 and 2 files."""
    ann = root / 'ucfTrainTestlist'
    ann.mkdir(parents=True)
    (ann / 'classInd.txt').write_text('1 ApplyEyeMakeup\n2 Archery\n3 HandstandPushups\n')
    vids = {'ApplyEyeMakeup': ['v_ApplyEyeMakeup_g01_c01', 'v_ApplyEyeMakeup_g08_c01'],
            'Archery': ['v_Archery_g01_c01', 'v_Archery_g08_c01'],
            'HandstandPushups': ['v_HandStandPushups_g01_c01', 'v_HandStandPushups_g08_c01']}
    for k, (cls, names) in enumerate(vids.items()):
        for j, name in enumerate(names):
            tiny_video(root / 'UCF-101' / cls / f'{name}.avi', seed=2 * k + j)
    train = ''.join(f'{c}/{n[1]}.avi {i + 1}\r\n' for i, (c, n) in enumerate(vids.items()))
    test = ''.join(f'{c}/{n[0]}.avi\r\n' for c, n in vids.items())
    (ann / 'trainlist01.txt').write_text(train)
    (ann / 'testlist01.txt').write_text(test)
    # Split 2 swaps the groups.
    (ann / 'trainlist02.txt').write_text(
        ''.join(f'{c}/{n[0]}.avi {i + 1}\n' for i, (c, n) in enumerate(vids.items())))
    (ann / 'testlist02.txt').write_text(''.join(f'{c}/{n[1]}.avi\n' for c, n in vids.items()))


def test_ucf101_split1_lists_and_dataset(tmp_path):
    ucf_tree(tmp_path / 'ucf')
    lists = prepare_lists('ucf101', out_dir=tmp_path / 'lists', root=tmp_path / 'ucf', split=1)
    assert lists.classes == ['ApplyEyeMakeup', 'Archery', 'HandstandPushups']
    assert lists.counts == {'train': 3, 'test': 3} and lists.num_missing == 0
    train = read_annotations(lists.ann_files['train'])
    assert train == [('ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi', 0),
                     ('Archery/v_Archery_g08_c01.avi', 1),
                     ('HandstandPushups/v_HandStandPushups_g08_c01.avi', 2)]
    test = read_annotations(lists.ann_files['test'])
    assert [label for _, label in test] == [0, 1, 2]
    assert 'g01' in test[0][0]
    assert (tmp_path / 'lists/classes.txt').read_text().splitlines() == lists.classes
    meta = json.loads((tmp_path / 'lists/meta.json').read_text())
    assert meta['split'] == 1 and meta['counts'] == {'train': 3, 'test': 3}
    assert_loads(lists, 'train', 3)
    assert_loads(lists, 'test', 3)


def test_ucf101_split2_and_errors(tmp_path):
    ucf_tree(tmp_path / 'ucf')
    lists = prepare_lists('ucf101', out_dir=tmp_path / 's2', root=tmp_path / 'ucf', split=2)
    assert 'g01' in read_annotations(lists.ann_files['train'])[0][0]
    with pytest.raises(FileNotFoundError, match='trainlist03.txt'):
        prepare_lists('ucf101', out_dir=tmp_path / 's3', root=tmp_path / 'ucf', split=3)
    with pytest.raises(ValueError, match='1, 2, 3'):
        prepare_lists('ucf101', out_dir=tmp_path / 's4', root=tmp_path / 'ucf', split=4)
    with pytest.raises(FileNotFoundError, match=r'UCF-101.*v_<Class>_gXX_cYY\.avi'):
        prepare_lists('ucf101', out_dir=tmp_path / 'x', root=tmp_path / 'empty')
    (tmp_path / 'ucf/ucfTrainTestlist/classInd.txt').unlink()
    with pytest.raises(FileNotFoundError, match='classInd.txt'):
        prepare_lists('ucf101', out_dir=tmp_path / 'x', root=tmp_path / 'ucf')


def test_ucf101_label_mismatch_rejected(tmp_path):
    ucf_tree(tmp_path / 'ucf')
    (tmp_path / 'ucf/ucfTrainTestlist/trainlist01.txt').write_text(
        'Archery/v_Archery_g08_c01.avi 1\n')
    with pytest.raises(ValueError, match='disagrees'):
        prepare_lists('ucf101', out_dir=tmp_path / 'l', root=tmp_path / 'ucf')


def test_mean_over_splits():
    mean = mean_over_splits({1: {'top1': 80.0, 'top5': 95.0}, 2: {'top1': 70.0, 'top5': 90.0},
                             3: {'top1': 75.0, 'top5': 94.0}})
    assert mean == pytest.approx({'top1': 75.0, 'top5': 93.0})
    with pytest.raises(ValueError, match='same metrics'):
        mean_over_splits({1: {'top1': 1.0}, 2: {'top5': 1.0}})
    with pytest.raises(ValueError):
        mean_over_splits({})


# ------------------------------------------------------------------------------------- HMDB51
def test_hmdb51_lists_and_dataset(tmp_path):
    root = tmp_path / 'hmdb'
    splits = root / 'testTrainMulti_7030_splits'
    splits.mkdir(parents=True)
    # Written out of alphabetical order: the class index is the sorted names.
    for k, cls in enumerate(['ride_bike', 'brush_hair']):
        tags = {f'{cls}_a.avi': 1, f'{cls}_b.avi': 2, f'{cls}_c.avi': 0}
        for j, name in enumerate(tags):
            tiny_video(root / 'hmdb51' / cls / name, seed=3 * k + j)
        (splits / f'{cls}_test_split1.txt').write_text(
            ''.join(f'{n} {t} \n' for n, t in tags.items()))
        (splits / f'{cls}_test_split2.txt').write_text(
            ''.join(f'{n} {2 if t == 1 else 1 if t == 2 else 0} \n' for n, t in tags.items()))
    lists = prepare_lists('hmdb51', out_dir=tmp_path / 'lists', root=root, split=1)
    assert lists.classes == ['brush_hair', 'ride_bike']
    assert read_annotations(lists.ann_files['train']) == [('brush_hair/brush_hair_a.avi', 0),
                                                          ('ride_bike/ride_bike_a.avi', 1)]
    assert read_annotations(lists.ann_files['test']) == [('brush_hair/brush_hair_b.avi', 0),
                                                         ('ride_bike/ride_bike_b.avi', 1)]
    assert_loads(lists, 'train', 2)
    lists2 = prepare_lists('hmdb51', out_dir=tmp_path / 'l2', root=root, split=2)
    assert read_annotations(lists2.ann_files['train'])[0][0].endswith('_b.avi')
    with pytest.raises(FileNotFoundError, match='_test_split3.txt'):
        prepare_lists('hmdb51', out_dir=tmp_path / 'l3', root=root, split=3)


# ----------------------------------------------------------------------------------- Kinetics
def test_kinetics_missing_clips_counted(tmp_path):
    root = tmp_path / 'k400'
    (root / 'annotations').mkdir(parents=True)
    (root / 'annotations/train.csv').write_text(
        'label,youtube_id,time_start,time_end,split\n'
        'abseiling,0347ZoDXyP0,14,24,train\n'
        '"air drumming",--nQbRBEz2s,104,114,train\n'
        'abseiling,GONEvid0000,0,10,train\n')       # never downloaded
    (root / 'annotations/validate.csv').write_text(
        'label,youtube_id,time_start,time_end,split\n'
        '"air drumming",3caPS4FHFF8,30,40,val\n')
    tiny_video(root / 'train/abseiling/0347ZoDXyP0_000014_000024.mp4', seed=0)
    # Space spelled as underscore on disk, as many download scripts do.
    tiny_video(root / 'train/air_drumming/--nQbRBEz2s_000104_000114.mp4', seed=1)
    tiny_video(root / 'val/air drumming/3caPS4FHFF8_000030_000040.mp4', seed=2)
    with pytest.warns(RuntimeWarning, match=r'1 of 3 .*missing.*GONEvid0000_000000_000010'):
        lists = prepare_lists('kinetics400', out_dir=tmp_path / 'lists', root=root)
    assert lists.classes == ['abseiling', 'air drumming']
    assert lists.counts == {'train': 2, 'val': 1}
    assert lists.missing == {'train': 1, 'val': 0} and lists.num_missing == 1
    assert lists.missing_examples['train'] == ['train/abseiling/GONEvid0000_000000_000010.mp4']
    assert read_annotations(lists.ann_files['train']) == [
        ('train/abseiling/0347ZoDXyP0_000014_000024.mp4', 0),
        ('train/air_drumming/--nQbRBEz2s_000104_000114.mp4', 1)]
    assert read_annotations(lists.ann_files['val']) == [
        ('val/air drumming/3caPS4FHFF8_000030_000040.mp4', 1)]
    meta = json.loads((tmp_path / 'lists/meta.json').read_text())
    assert meta['missing'] == {'train': 1, 'val': 0}
    assert_loads(lists, 'train', 2)
    assert_loads(lists, 'val', 1)


def test_kinetics_errors(tmp_path):
    (tmp_path / 'k').mkdir()
    with pytest.raises(FileNotFoundError, match=r'train\.csv.*kinetics-dataset'):
        prepare_lists('kinetics', out_dir=tmp_path / 'l', root=tmp_path / 'k')
    bad = tmp_path / 'bad.csv'
    bad.write_text('youtube_id,time_start,time_end,split\nabc,0,10,test\n')
    with pytest.raises(ValueError, match=r"lacks columns \['label'\]"):
        prepare_lists('kinetics', out_dir=tmp_path / 'l', root=tmp_path / 'k',
                      csv_files=[bad])


# ----------------------------------------------------------------------------- mmaction2 list
def test_list_passthrough(tmp_path):
    root = tmp_path / 'data'
    tiny_video(root / 'a.mp4', seed=0)
    tiny_video(root / 'sub dir/b.mp4', seed=1)
    (tmp_path / 'train.txt').write_text('# comment\na.mp4 0\nsub dir/b.mp4 1\nnot_here.mp4 1\n')
    with pytest.warns(RuntimeWarning, match='1 of 3'):
        lists = prepare_lists('list', out_dir=tmp_path / 'lists', root=root,
                              ann_files={'train': tmp_path / 'train.txt'})
    assert lists.classes == ['0', '1'] and lists.counts == {'train': 2}
    assert_loads(lists, 'train', 2)
    (tmp_path / 'bad.txt').write_text('a.mp4\n')
    with pytest.raises(ValueError, match='expected "relative/path.mp4 label"'):
        prepare_lists('list', out_dir=tmp_path / 'l', root=root,
                      ann_files={'train': tmp_path / 'bad.txt'})
    (tmp_path / 'classes.txt').write_text('only\n')
    with pytest.raises(ValueError, match=r'label 1 .*outside \[0, 1\)'):
        prepare_lists('list', out_dir=tmp_path / 'l', root=root,
                      ann_files={'train': tmp_path / 'train.txt'},
                      classes_file=tmp_path / 'classes.txt')
