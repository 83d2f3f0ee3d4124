from civil_orders.cli import app

app()
