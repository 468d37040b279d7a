import sys
import tomllib

with open(sys.argv[1], "rb") as settings:
    greeting = tomllib.load(settings)["greeting"]
print(greeting)
