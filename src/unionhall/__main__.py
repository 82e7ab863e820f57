from unionhall.cli import main

main()
