# The default suite (`make bench`): SynthMotion, lower bound, CVRL and upper bound, linear probe
# and retrieval. Sized to finish within 20 minutes on 2 CPU cores.
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion'
# Every method trains for the same number of steps (matched compute budgets come later).
pretrain = dict(budget=dict(unit="train_flops", value=1e14), warmup_ratio=0.05, log_interval=50)
