"""Names the harness shares across layers: a run's files and the baseline row.

One definition each, imported by the modules that write, read or compare them.
"""

#: A (method, seed) run dir's final weights; their presence marks a finished pretraining.
WEIGHTS_FILE = 'final_weights.pth'
#: What the pretraining consumed (budget, steps, TFLOPs, wall seconds), written before the weights.
STATS_FILE = 'pretrain_stats.json'
#: The untrained baseline every row is compared with.
BASELINE = 'RandomInit'
