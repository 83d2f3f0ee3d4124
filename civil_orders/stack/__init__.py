"""The embedded stack, its supervisor, the team-inbox stand-in, and a client of the services."""
