# CVRL, R3D-50 pretrained 200 epochs on Kinetics-400, linear evaluation on Kinetics-400.
_base_ = ['../_base_/suite_cvrl_kinetics.py']

suite_name = 'paper_cvrl_r3d50_k400_200ep'
data = dict(root='data/kinetics400', version=400)
pretrain = dict(budget=dict(unit='epochs', value=200), warmup_ratio=5 / 200)
paper_reference = dict(CVRL=dict(linear=dict(top1=63.8)))
