# TCLR's optimiser (docs/reference.md): Adam, lr 1e-3 (weight decay not given: torch's default 0).
# DEVIATION: TCLR divides the lr by 10 on plateau after a 5-epoch warm-up; the harness's
# schedule is warm-up then cosine to 0 (suite's pretrain.warmup_ratio). float32, TCLR's
# reference precision (its code autocasts to fp16).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3))
