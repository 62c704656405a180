# The default suite (`make bench`): SynthMotion, lower bound, CVRL and upper bound, linear probe
# and retrieval. Sized to finish within 20 minutes on 2 CPU cores.
suite_name = 'synthmotion'
data = dict(
    type='synthmotion',  # generated on first use if missing
    root='data/synthmotion',
    scale='default',
    seed=0,
    splits=dict(pretrain='pretrain.txt', train='train.txt', test='test.txt'))
methods = [
    'configs/methods/random_init_r3d18w16_synthmotion.py',
    'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py',
    'configs/methods/supervised_r3d18w16_8x2_synthmotion.py',
]
seeds = [0]
# Every method trains for the same number of steps (matched compute budgets come later).
pretrain = dict(max_iters=1000, warmup_ratio=0.05, log_interval=50)
evaluation = dict(
    # 5 uniformly spaced 8x2 clips per video, centre view at the training resolution.
    view=dict(clip_len=8, stride=2, num_clips=5, out_size=32),
    batch_size=32,
    num_workers=0,
    protocols=[dict(type='LinearProbe'), dict(type='Retrieval')])
