# Fine-tuning searched to convergence against the linear probe, for every method of the
# standard suite: its methods, budget, data and fine-tuning search (the base's), seed 0, the
# linear probe and full fine-tuning only (the semisup search doubles the time). Shows per
# method whether fine-tuning from its checkpoint reaches at least its own linear probe, and the
# searched schedule that got it there (each record's protocol_info.search).
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion_finetune'
seeds = [0]
evaluation = dict(protocols={{_base_.linear_and_finetune_protocols}})
