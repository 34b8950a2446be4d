"""Applications built on neuroport: training loops and command-line back ends, not models."""
