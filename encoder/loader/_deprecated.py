"""Old names of the loader's public arguments and attributes, kept as deprecated aliases.

The loader once called a sample's number a "key" (a word the package keeps for keyboard
keys) and the shards it reads "sources" (a word kept for capture inputs). The new names are
``sample_id(s)`` and ``shards``; the old ones still work and raise a
:class:`DeprecationWarning`.
"""
from __future__ import annotations

import functools
import warnings


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
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__qualname__}() got both {new}= and its old name {old}=")
                    warnings.warn(f"{func.__qualname__}({old}=) is deprecated; use {new}=",
                                  DeprecationWarning, stacklevel=2)
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


__all__ = ["renamed_arguments", "renamed_attribute"]
