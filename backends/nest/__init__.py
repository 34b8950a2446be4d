"""The NEST backend (mode ``nest``): the graph's continuous-time models on NEST's exact integrators."""
