# CVRL, R3D-50 pretrained 800 epochs on Kinetics-600, linear evaluation on Kinetics-600.
_base_ = ['../_base_/suite_cvrl_kinetics.py']

suite_name = 'paper_cvrl_r3d50_k600_800ep'
data = dict(root='data/kinetics600', version=600)
pretrain = dict(budget=dict(unit='epochs', value=800), warmup_ratio=5 / 800)
# {method: {protocol: {metric: value}}}, percent, docs/reference.md's numbers only
# (None: unconfirmed).
paper_reference = dict(CVRL=dict(linear=dict(top1=70.4)))
