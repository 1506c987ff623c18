"""The scheduler's filters, one module per upstream file (scheduler/filter/)."""
