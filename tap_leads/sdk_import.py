"""The SDK's package modules run their imports only when something asks for them.

`import singer_sdk` runs the package's __init__, which imports every part of the SDK: the
Target, the REST and GraphQL streams, with requests, joblib and their own imports: about
240 modules and 0.08 s of CPU at every start that a tap's run never uses. Here `singer_sdk`
and `singer_sdk.streams` are registered as packages whose __init__ waits: their submodules
import as usual (`singer_sdk.tap_base`, `singer_sdk.streams.core`), and the first name
asked of the package itself (`singer_sdk.Target`, say) runs the real __init__ then, so
everything written against the SDK still works. A package already imported is left as it
is. This must run before anything imports the SDK: tap_leads/__init__.py calls it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import typing as t

#: The SDK's packages whose __init__ imports what a tap's run does not need.
DEFERRED = ("singer_sdk", "singer_sdk.streams")


def defer_package_inits(names: t.Iterable[str] = DEFERRED) -> None:
    """Register each package, not yet imported, with its __init__ deferred."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            continue
        module = importlib.util.module_from_spec(spec)
        module.__getattr__ = _first_ask(module, spec)  # type: ignore[attr-defined]
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def _first_ask(module: t.Any, spec: t.Any) -> t.Callable[[str], t.Any]:
    def __getattr__(name: str) -> t.Any:
        submodule = f"{spec.name}.{name}"
        try:
            return importlib.import_module(submodule)
        except ModuleNotFoundError as exc:
            if exc.name != submodule:
                raise
        # Not a submodule: the package's own names need its __init__, run once, now.
        if module.__dict__.get("__getattr__") is __getattr__:
            del module.__getattr__
            spec.loader.exec_module(module)
        return module.__dict__[name] if name in module.__dict__ else _ask_real(module, name)

    return __getattr__


def _ask_real(module: t.Any, name: str) -> t.Any:
    """The package's own __getattr__ (if its __init__ has one) or AttributeError."""
    real = module.__dict__.get("__getattr__")
    if real is not None:
        return real(name)
    raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
