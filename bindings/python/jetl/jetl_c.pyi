# The SWIG-generated low-level module (jetl_c.py) carries no hints; the
# typed surface is the jetl package, which converts every value it takes
# from here. To a type checker, the module is dynamic.
from typing import Any

def __getattr__(name: str) -> Any: ...
