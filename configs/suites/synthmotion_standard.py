# The standard suite: all 8 methods, seeds 0-2, every protocol, at the SynthMotion budget (set in
# the base). Results in results/synthmotion_standard/; with `--budget-scale` it draws the budget
# curve. Hours on 2 CPU cores, minutes on one GPU (docs/harness.md, "The standard suite").
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion_standard'
