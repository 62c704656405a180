# Kinetics pretraining data at CVRL's resolution (docs/reference.md): clips of 16 frames at
# stride 2, 224x224. The suite sets data_root, ann_file and cache_dir from its
# data=dict(type='kinetics').
train_dataloader = dict(
    # The paper's batch of 1024 is global; mmengine's batch_size is per process: under N
    # processes set batch_size=1024 // N in the suite's method_overrides.
    batch_size=1024,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='VideoClipDataset',
        ann_file='train.txt',
        data_root='data/kinetics',
        sampler=dict(type='RandomClipSampler', clip_len=16, stride=2, num_clips=1),
        # ClipAugment's defaults are CVRL's augmentation (crop area [0.3, 1], aspect [0.5, 2],
        # flip 0.5, colour jitter 0.8/0.8/0.8/0.2 at p 0.8, grayscale 0.2, blur 0.5).
        transform=dict(type='ClipAugment', out_size=224)))
