"""Hostile-input tooling: seed shards, mutators, entry-point drivers and atheris targets."""
