"""The source interface (encoder.capture.sources) and its former error name."""
from __future__ import annotations

import pytest

import encoder.capture
import encoder.capture.sources
from encoder.errors import EncoderError, SourceUnavailableError


@pytest.mark.parametrize("module", [encoder.capture.sources, encoder.capture])
def test_source_unavailable_is_a_deprecated_alias(module):
    with pytest.warns(DeprecationWarning, match="SourceUnavailableError"):
        old = module.SourceUnavailable
    assert old is SourceUnavailableError
    assert issubclass(old, RuntimeError) and issubclass(old, EncoderError)   # `except RuntimeError` still works
    assert "SourceUnavailable" not in module.__all__
    with pytest.raises(AttributeError):
        module.NoSuchSource
