"""In-tree methods; importing this package registers them (one module per method)."""
from methods import (base, cvrl, frame_simclr, random_init, rho_byol, rho_moco,  # noqa: F401
                     supervised, tclr, vcop)
from methods.base import VideoMethod

__all__ = ['VideoMethod']
