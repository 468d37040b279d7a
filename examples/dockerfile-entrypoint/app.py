import sys

print("worker started", *sys.argv[1:])
