# AdamW for short from-scratch schedules (TCLR also pretrains with Adam, lr 1e-3): on
# SynthMotion it left chance level within ~150 steps where SGD (lr 0.1, momentum 0.9) had not
# after 160. bfloat16 autocast on any device (see vssl_bench/engine/optim.py). The learning-rate
# schedule (warm-up + cosine) is set by the harness from the suite's length.
optim_wrapper = dict(
    type='AutocastOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
