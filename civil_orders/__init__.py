"""civil-orders: the command line, the embedded stack, the demo and the benchmark."""
