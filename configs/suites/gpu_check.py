# `make gpu-check` (tools/throughput/gpu_check.py): the CI-scale SynthMotion data (480
# pretraining videos: the tiny scale's 48 make no batch of 64) on one CUDA device, trained for a
# device-seconds budget with the configs' bfloat16 autocast, in minutes.
# Two methods (a contrastive one and the supervised bound) and the frozen-feature protocols keep
# the whole check, torchrun and loader benchmark included, under 10 minutes.
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'gpu_check'
data = dict(root='data/synthmotion_ci', scale='ci')
_m = 'configs/methods/'
methods = [_m + 'cvrl_r3d18w16_8x2_synthmotion.py', _m + 'supervised_r3d18w16_8x2_synthmotion.py']
seeds = [0]
pretrain = dict(budget=dict(unit='device_seconds', value=30), warmup_ratio=0.1, log_interval=10)
method_overrides = dict(train_dataloader=dict(num_workers=2))
evaluation = dict(view=dict(num_clips=2), batch_size=64,
                  protocols=[dict(type='LinearProbe', folds=2), dict(type='KNN', k=3)])
