"""Neuron, synapse and plasticity models (importable as ``neuroport.models``)."""
