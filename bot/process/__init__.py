"""Process plumbing: running the event loop and signals, logging, memory and heap tuning, and
the configuration diagnostics of `python -m bot check`."""
