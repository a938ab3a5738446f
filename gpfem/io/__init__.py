"""Outputs, written by rank 0; models write files only through this package.

History CSV, summary JSON, tables, field series with a live ``.pvd`` index, checkpoints, plots.
"""
