# Random initialisation: the lower bound, no pretraining at all.
_base_ = ['../_base_/backbone_r3d18_w16.py']

method_name = 'RandomInit'
model = dict(type='RandomInit')
