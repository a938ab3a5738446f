"""Core machinery shared by every model: energy terms, solver layer, steppers, parameters, errors."""
