"""Application service: court applications built to standard, and the orders courts grant."""
