"""Breach service: breaches of live orders recorded, repeat breaches flagged."""
