"""Training and running models: the compute budget, pretraining through mmengine's Runner,
checkpoints and weights, optimiser wrappers, fine-tuning and feature extraction."""
