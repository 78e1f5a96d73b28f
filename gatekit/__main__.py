from gatekit.cli import run

run()
