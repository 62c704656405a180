"""From run records to tables: aggregation, statistics, leaderboards in every format, budget
curves, family reports, checks against reference accuracies."""
