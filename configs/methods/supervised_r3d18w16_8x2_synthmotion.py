# Supervised pretraining on the pretrain pool's labels: the upper bound of the table.
_base_ = ['../_base_/backbone_r3d18_w16.py', '../_base_/data_synthmotion.py',
          '../_base_/optim_adamw.py']

method_name = 'Supervised'
model = dict(type='Supervised', num_classes=12)  # SynthMotion's 12 motion classes
train_dataloader = dict(
    batch_size=64,
    # The usual supervised recipe: scale/position jitter only. Colour jitter and CVRL's crop
    # range kept supervised training near chance for 240 steps (measured, see README).
    dataset=dict(transform=dict(crop_area=(0.6, 1.0), jitter_p=0.0, grayscale_p=0.0,
                                blur_p=0.0)))
