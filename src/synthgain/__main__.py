from synthgain.cli import main

main()
