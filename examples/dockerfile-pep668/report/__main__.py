import sys

print(f"report runs on {sys.prefix}")
