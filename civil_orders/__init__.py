"""civil-orders: the command line (`cli`), and the stack, operator tools and drills it runs."""
