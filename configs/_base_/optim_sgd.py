# SGD with momentum as in CVRL; bfloat16 autocast on any device (see benchmark/optim.py).
# The learning-rate schedule (warm-up + cosine) is set by the harness from the suite's length.
optim_wrapper = dict(
    type='AutocastOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
