"""Allen-Cahn as a gpfem plug-in: ``spec`` (parameters, presets; cheap) and ``model`` (the run)."""
