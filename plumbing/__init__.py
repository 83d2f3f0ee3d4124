"""Plumbing every service shares: settings, event store, outbox relay, consumers, dead letters."""
