"""Operator tools: the audit and its report, read-model rebuilds, backlog scans, migrations."""
