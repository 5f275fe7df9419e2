"""The web page: `chromatize serve` (server.py) builds page.py's tabs on jobs.py's upload handling.
Imports inference and media only."""
from .jobs import Limits

__all__ = ["Limits", "serve"]


def serve(**options):
    from .server import serve as _serve

    return _serve(**options)
