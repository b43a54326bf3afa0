from speakr.cli import main

main()
