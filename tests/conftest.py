import os

os.environ.setdefault("MPLBACKEND", "Agg")

pytest_plugins = ["neuroport.testing.plugin"]
