"""Brian2 backend: the continuous-time reference."""
