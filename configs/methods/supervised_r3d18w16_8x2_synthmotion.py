# Supervised pretraining on the pretrain pool's labels: the upper bound of the table.
_base_ = ['../_base_/backbone_r3d18_w16.py', '../_base_/data_synthmotion.py',
          '../_base_/optim_adamw.py']

method_name = 'Supervised'
model = dict(type='Supervised', num_classes=12)  # SynthMotion's 12 motion classes
train_dataloader = dict(batch_size=64)
