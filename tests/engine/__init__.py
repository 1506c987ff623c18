"""A stand-in for the Pulumi engine and its providers, for tests on real Docker engines: the real program
registers its resources, and this engine diffs them against the stack's state, creates, updates,
replaces and deletes them in Pulumi's order, and applies docker resources and Commands for real."""
