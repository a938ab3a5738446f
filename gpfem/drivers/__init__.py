"""Drivers: stepper, time loop, gradient flow, quasi-static loading, alternate minimisation, stops.

The time loop writes history, fields and checkpoints through :mod:`gpfem.io`, so this package
sits above it.
"""
