"""Dark-launch comparator: join stable and dark responses, compare them, report divergence."""

__version__ = "0.1.0"
