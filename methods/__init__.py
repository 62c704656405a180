"""In-tree methods; importing this package registers them (one module per method)."""
from methods import base, cvrl, random_init, supervised  # noqa: F401
from methods.base import VideoMethod

__all__ = ['VideoMethod']
