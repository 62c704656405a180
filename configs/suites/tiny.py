# A seconds-long suite for the tests: tiny SynthMotion, a few steps, two eval clips.
suite_name = 'tiny'
data = dict(
    type='synthmotion',
    root='data/synthmotion_tiny',
    scale='tiny',
    seed=0,
    splits=dict(pretrain='pretrain.txt', train='train.txt', test='test.txt'))
methods = [
    'configs/methods/random_init_r3d18w16_synthmotion.py',
    'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py',
    'configs/methods/supervised_r3d18w16_8x2_synthmotion.py',
]
seeds = [0]
pretrain = dict(max_iters=3, warmup_ratio=0.34, log_interval=1)
# Tiny videos are 32x32: train and evaluate at that size, small batches, no worker process.
method_overrides = dict(
    train_dataloader=dict(batch_size=4, num_workers=0, persistent_workers=False,
                          dataset=dict(transform=dict(out_size=32))))
evaluation = dict(
    view=dict(clip_len=8, stride=2, num_clips=2, out_size=32),
    batch_size=8,
    num_workers=0,
    protocols=[dict(type='LinearProbe', folds=2), dict(type='Retrieval')])
