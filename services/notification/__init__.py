"""Notification service: MOSOVO teams alerted when orders are allocated or breached."""
