# SynthMotion pretraining data (the suite sets data_root, ann_file and cache_dir).
# Clips of 8 frames at stride 2 cover 15 of a video's 48 frames, so two clips can lie far apart.
# Training resolution = SynthMotion's 32x32 frames: at 64x64 a CPU budget of minutes was too
# short for even supervised training to leave chance level (measured, see docs/calibration.md).
data_root = 'data/synthmotion'
train_dataloader = dict(
    batch_size=32,
    # One worker process overlaps decoding/augmentation with the step; where the process may use
    # at most 2 cores, pretraining replays this worker in the training process instead, with the
    # same batches (vssl_bench/data/in_process_loader.py). Raise it on bigger machines.
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='VideoClipDataset',
        ann_file='pretrain.txt',
        data_root=data_root,
        sampler=dict(type='RandomClipSampler', clip_len=8, stride=2, num_clips=1),
        # No horizontal flip on SynthMotion: a flip turns translate_left into translate_right and
        # every cw class into its ccw twin, i.e. it changes the class. (Kinetics-style data,
        # where the papers flip, has few classes that a mirror changes.)
        transform=dict(type='ClipAugment', out_size=32, flip_p=0.0)))
