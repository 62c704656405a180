"""What `vssl-bench` runs: suite configs and their validation, the suite and family runners,
training, evaluation of external checkpoints, export and clean-up."""
