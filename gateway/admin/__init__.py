"""Endpoints about the gateway rather than through it: models, explain, deployment status, probes."""
