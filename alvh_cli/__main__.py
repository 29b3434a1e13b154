from alvh_cli.cli import run

run()
