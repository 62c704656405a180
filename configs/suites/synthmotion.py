# The default suite (`make bench`): SynthMotion, all methods, 3 seeds, every protocol, under one
# matched training-FLOP budget (set in the base). Sized to finish within 20 minutes on 2 CPU cores.
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion'
