"""Testing kit: canonical seeded cases and a backend fixture."""
