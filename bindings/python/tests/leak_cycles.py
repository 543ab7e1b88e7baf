#!/usr/bin/python3
"""N open/close cycles (plus one failed open) for a leak check under valgrind:

  PYTHONMALLOC=malloc PYTHONPATH=build/bindings/python valgrind --leak-check=full \\
      /usr/bin/python3 bindings/python/tests/leak_cycles.py 1000

Compare with N=10: the leak summary must be the same (nothing grows per cycle).
"""
import os
import sys

import jetl

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
for _ in range(n):
    with jetl.open(db=os.environ["JETL_DB"]):
        pass
try:
    jetl.open(db="postgresql://jetl@127.0.0.1:1/x")
except jetl.DatabaseConnectionError:
    pass
print("cycles", n)
