"""The package's version, in a leaf module: any module may read it without importing the package's root (whose
public names load the rest of tfdqn), and packaging reads it from here (pyproject.toml)."""

__version__ = "0.1.0"
