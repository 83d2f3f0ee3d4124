"""The force's configuration as shipped: its teams, its staff and its screening rules, read by
the services (through `plumbing.settings`) and by the tools alike."""
