# UCF101 pretraining data at TCLR's resolution (docs/reference.md): 16-frame clips at 112x112. The
# suite sets data_root, ann_file and cache_dir from its data=dict(type='ucf101', split=1).
train_dataloader = dict(
    batch_size=40,  # TCLR's batch
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='VideoClipDataset',
        ann_file='train.txt',
        data_root='data/ucf101',
        sampler=dict(type='RandomClipSampler', clip_len=16, stride=1, num_clips=1),
        # TCLR's square crop of 0.6-1.0 of the short side = area 0.36-1 at aspect 1; flip 0.5;
        # grayscale ~0.18; no blur. DEVIATIONS: TCLR's per-op colour probabilities are not in
        # docs/reference.md, so CVRL's jitter strengths are kept (p 0.8); ClipAugment has no random
        # erasing (TCLR: p 0.5); the harness feeds RGB normalised by the data preprocessor,
        # TCLR's code BGR in [0, 1] without mean/std.
        transform=dict(type='ClipAugment', out_size=112, crop_area=(0.36, 1.0),
                       crop_aspect=(1.0, 1.0), grayscale_p=0.18, blur_p=0.0)))
