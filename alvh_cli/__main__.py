from alvh_cli.cli import main

main()
