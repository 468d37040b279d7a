from greenline.cli import main

main()
