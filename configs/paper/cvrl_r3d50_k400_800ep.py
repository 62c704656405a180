# CVRL, R3D-50 pretrained 800 epochs on Kinetics-400, linear evaluation on Kinetics-400.
_base_ = ['../_base_/suite_cvrl_kinetics.py']

suite_name = 'paper_cvrl_r3d50_k400_800ep'
data = dict(root='data/kinetics400', version=400)
pretrain = dict(budget=dict(unit='epochs', value=800), warmup_ratio=5 / 800)
paper_reference = dict(CVRL=dict(linear=dict(top1=66.1)))
