from borough.cli import main

main()
