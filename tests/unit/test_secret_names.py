"""Which environment variables hold credentials: the names the redactor's rule (a case-insensitive search for
any of these words, ``API_KEY`` with or without its underscore) calls secret, checked as plain substrings against
that rule written as a regular expression, on names built from the words and on arbitrary ones."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops.redact import Redactor, secret_name

RULE = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH|SESSION|COOKIE|DSN",
    re.IGNORECASE,
)
PIECES = ["api", "key", "_", "API", "KEY", "Access", "private", "tok", "en", "PASS", "word", "wd", "AUTH", "x", "dsn"]


@given(st.lists(st.sampled_from(PIECES), max_size=6).map("".join))
def test_names_made_of_the_rules_pieces(name: str) -> None:
    assert secret_name(name) == bool(RULE.search(name))


@given(st.text(st.characters(max_codepoint=127), max_size=30))  # names of environment variables are ASCII
def test_any_name(name: str) -> None:
    assert secret_name(name) == bool(RULE.search(name))


def test_examples() -> None:
    assert [secret_name(n) for n in ("GITHUB_TOKEN", "db_password", "MY_APIKEY", "SENTRY_DSN", "PATH", "HOME")] == [
        True, True, True, True, False, False
    ]  # fmt: skip
    redactor = Redactor({"DEPLOY_API_KEY": "s3cr3t-value", "EDITOR": "vim-editor"})
    assert redactor.text("key s3cr3t-value, editor vim-editor") == "key ***DEPLOY_API_KEY***, editor vim-editor"
