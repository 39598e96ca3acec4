"""Stage: the venue system for audience-made live shows."""

__version__ = "0.1.0"
