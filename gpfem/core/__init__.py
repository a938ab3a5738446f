"""Core machinery shared by every model.

Energy terms, constants, the solver layer, drivers (gradient flow, quasi-static, alternate minimisation),
stepper and time loop, parameters, logging, errors.
"""
