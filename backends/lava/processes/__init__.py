"""neuroport's own Lava processes (kept in a folder of their own: Lava imports every .py file beside a process while searching for its models)."""
