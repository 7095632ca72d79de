from floorsync.cli.app import main

main()
