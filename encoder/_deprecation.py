"""Old public names kept as deprecated aliases: of module attributes, arguments and attributes.

One meaning per name (docs/architecture.md) renamed a few public names: ``key=`` of an
encryption key is ``encryption_key=``, the loader's sample "keys" are sample ids and its
"sources" are shards, ``SourceUnavailable`` is ``SourceUnavailableError``. The old names
still work and raise a :class:`DeprecationWarning` that points at the caller's line.
"""
from __future__ import annotations

import functools
import warnings
from typing import Mapping


def renamed_module_attributes(module: str, names: Mapping[str, object]):
    """A module ``__getattr__`` that serves old names with a :class:`DeprecationWarning`.

    ``names`` maps each old name to its new object; ``module`` is the module's name.
    """
    def __getattr__(name: str):
        if name in names:
            new = names[name]
            warnings.warn(f"{module}.{name} is deprecated; use {getattr(new, '__module__', module)}."
                          f"{getattr(new, '__name__', name)}", DeprecationWarning, stacklevel=2)
            return new
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return __getattr__


def renamed_arguments(**old_to_new: str):
    """Decorate a function so that keyword ``old=`` still works as ``new=``, with a warning.

    >>> @renamed_arguments(key="sample_id")
    ... def sample(sample_id):
    ...     return sample_id
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     sample(key=3), caught[0].category.__name__
    (3, 'DeprecationWarning')
    """
    def decorate(func):
        name = func.__qualname__.removesuffix(".__init__")  # a class's arguments are its __init__'s

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{name}() got both {new}= and its deprecated name {old}=")
                    warnings.warn(f"{name}({old}=) is deprecated; use {new}=", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)
        return wrapper
    return decorate


def renamed_attribute(old: str, new: str) -> property:
    """A read-only property ``old`` that returns attribute ``new``, with a warning."""
    def get(self):
        warnings.warn(f"{type(self).__name__}.{old} is deprecated; use .{new}", DeprecationWarning, stacklevel=2)
        return getattr(self, new)
    return property(get, doc=f"Deprecated alias of :attr:`{new}`.")


__all__ = ["renamed_arguments", "renamed_attribute", "renamed_module_attributes"]
