# CVRL's optimiser (docs/reference.md): SGD, momentum 0.9, lr 0.32 for the global batch of 1024,
# weight decay 1e-6. The schedule (warm-up, then cosine to 0) is the harness's, from the
# suite's budget and pretrain.warmup_ratio. float32 (the papers' precision is not recorded).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.32, momentum=0.9, weight_decay=1e-6))
