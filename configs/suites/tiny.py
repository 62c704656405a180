# A seconds-long suite for the tests: tiny SynthMotion, a few steps, two eval clips.
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'tiny'
data = dict(root='data/synthmotion_tiny', scale='tiny')
seeds = [0]
pretrain = dict(budget=dict(unit='train_flops', value=1.3e10), warmup_ratio=0.34, log_interval=1)
# Small batches and no worker process keep the test fast.
method_overrides = dict(
    train_dataloader=dict(batch_size=4, num_workers=0, persistent_workers=False))
evaluation = dict(view=dict(num_clips=2), batch_size=8,
                  protocols=[dict(type='LinearProbe', folds=2), dict(type='KNN', k=3),
                             dict(type='Retrieval'),
                             # 1 video per class (tiny has 3), two steps of 4 clips.
                             dict(type='SemiSupervised', fractions=(0.01,), steps=2, batch_size=4,
                                  num_workers=0, log_interval=1),
                             dict(type='FineTune', steps=2, batch_size=4, num_workers=0,
                                  log_interval=1)])
