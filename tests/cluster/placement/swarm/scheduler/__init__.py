"""The scheduler: filters, strategies and the nodes they weigh (scheduler/)."""
