"""Outputs: history CSV, summary JSON, field series, checkpoints, plots."""
