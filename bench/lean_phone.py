"""The benchmarks' simulated phone is the one ``stage rehearse`` uses (one implementation)."""

from stage.rehearse.phone import LeanPhone, PhoneClosed

__all__ = ["LeanPhone", "PhoneClosed"]
