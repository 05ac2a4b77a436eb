"""sourcebook — turn a folder of sources plus a request into a grounded, cited report."""

__version__ = "0.1.0"
