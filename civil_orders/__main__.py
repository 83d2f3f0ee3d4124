from civil_orders.cli import main

main()
