"""Secrets never reach a report: values of environment variables whose names look like credentials are
replaced wherever they appear in the run report (failure text, command output, arguments) before anything
is written."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["Redactor", "secret_name"]

#: what in an environment variable's name (any case) says its value is a credential; plain substrings, not a
#: regular expression: compiling one with these alternatives cost every run 1.6 M instructions
_SECRET_WORDS = (
    "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "APIKEY", "API_KEY", "ACCESSKEY", "ACCESS_KEY",
    "PRIVATEKEY", "PRIVATE_KEY", "CREDENTIAL", "AUTH", "SESSION", "COOKIE", "DSN",
)  # fmt: skip


def secret_name(name: str) -> bool:
    """Whether an environment variable of this name holds a credential."""
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


_MIN_LENGTH = 6  # shorter values ("true", "1234") would blank out ordinary text


class Redactor:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        found = {(value, name) for name, value in env.items() if len(value) >= _MIN_LENGTH and secret_name(name)}
        self.secrets = sorted(found, key=lambda vn: -len(vn[0]))  # longest first: a secret containing another
        self._pattern = re.compile("|".join(re.escape(v) for v, _ in self.secrets)) if self.secrets else None
        self._names = {v: n for v, n in self.secrets}

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(lambda m: f"***{self._names[m.group(0)]}***", value)

    def apply(self, obj: Any) -> Any:
        """Redact every string inside a dataclass tree, in place; returns the object."""
        if self._pattern is None:
            return obj
        self._walk(obj)
        return obj

    def _walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                new = self._walk(value)
                if new is not value:
                    object.__setattr__(obj, f.name, new)
            return obj
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                obj[i] = self._walk(item)
            return obj
        if isinstance(obj, dict):
            for key, item in obj.items():
                obj[key] = self._walk(item)
            return obj
        return obj
