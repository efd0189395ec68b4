"""Secrets out of text before it is stored: shell command lines (and UI element names).

A fixed, documented rule set (docs/capture.md, "Shell commands"); each match is replaced by
:data:`MARKER` (``***``) and the rest of the text is kept, so ``curl -u bob:hunter2 host``
stays useful as ``curl -u bob:*** host``. :func:`redact` returns the text and how many
secrets it removed; the recorder counts them, and what was removed is never stored.

The rules, applied in this order (every pattern is case-insensitive where it names a word):

===============  ==========================================================================
rule             what is replaced (``***``)
===============  ==========================================================================
url              the password of credentials in a URL: ``https://user:***@host``
header           the value after ``Authorization:`` / ``Proxy-Authorization:`` (to the
                 closing quote or the end), and the token after ``Bearer`` / ``Basic``
assignment       the value of a variable whose name ends in ``TOKEN``, ``KEY``, ``SECRET``,
                 ``PASSWORD``, ``PASSWD``, ``PASS``, ``PWD`` (not ``PWD`` alone) or
                 ``CREDENTIALS`` (``export GITHUB_TOKEN=***``, ``AWS_SECRET_ACCESS_KEY=***``)
option           the value of ``--password``, ``--passwd``, ``--pass``, ``--token``,
                 ``--secret``, ``--api-key``, ``--access-key``, ``--client-secret``,
                 ``--auth-token`` (``=value`` or the next word), and of the short options
                 ``-p<password>`` (mysql style, glued) of ``mysql``/``mysqldump``/``mysqladmin``/``mariadb``,
                 and ``-p <password>`` of ``docker login``/``podman login``/``sshpass``
key=value        the value after ``key=``, ``token=``, ``secret=``, ``password=``,
                 ``passwd=``, ``pwd=``, ``api_key=``, ``apikey=``, ``access_token=``,
                 ``client_secret=``, ``auth=``, ``sig=``, ``signature=`` (query strings too)
token            well-known token shapes anywhere: AWS access key ids (``AKIA``/``ASIA`` +
                 16), GitHub (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``,
                 ``github_pat_``), GitLab (``glpat-``), Slack (``xox[abposr]-``), OpenAI/
                 Anthropic style (``sk-`` + 20 or more), Stripe (``sk_live_``, ``rk_live_``),
                 Google API keys (``AIza`` + 35), JSON Web Tokens (three base64url parts,
                 the first starting ``eyJ``), PEM private key blocks
long secret      a run of 32 or more hex digits, or 40 or more base64 characters with
                 digits and both cases, after ``=`` or ``:`` (a bare value that looks random)
===============  ==========================================================================

Ordinary commands are left alone (tests/capture/test_redact.py has a list): paths, git
hashes as arguments (a 40-hex commit id after ``git show`` is not after ``=`` or ``:``),
``ls -p``, ``grep -p``, ``ps -p 42``, ``cd $PWD``.

>>> redact("export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789")
('export GITHUB_TOKEN=***', 1)
>>> redact("curl -H 'Authorization: Bearer abc.def.ghi' https://u:p@example.com/x")
("curl -H 'Authorization: ***' https://u:***@example.com/x", 2)
>>> redact("mysql -u root -phunter2 shop")
('mysql -u root -p*** shop', 1)
>>> redact("git log --oneline -5")
('git log --oneline -5', 0)
"""
from __future__ import annotations

import re

MARKER = "***"

_SECRET_WORDS = r"(?:token|key|secret|password|passwd|pass|pwd|credentials?)"
_TOKEN_SHAPES = "|".join((
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{20,255}\b",
    r"\bgithub_pat_[A-Za-z0-9_]{20,255}\b",
    r"\bglpat-[A-Za-z0-9_\-]{20,}",
    r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
    r"\bsk-(?:[A-Za-z0-9_\-]{20,})",
    r"\b[sr]k_live_[A-Za-z0-9]{16,}",
    r"\bAIza[0-9A-Za-z_\-]{35}",
    r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
))
_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s'"&;|]+)"""

#: (name, compiled pattern, replacement): the rule set, in the order applied.
RULES = (
    ("url", re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s:/@'\"]+:)([^\s@/'\"]+)(@)", re.I), r"\1***\3"),
    ("header", re.compile(r"(\b(?:proxy-)?authorization\s*:\s*)(?:\"[^\"]*\"|'[^']*'|[^'\"\n]+)", re.I),
     r"\1***"),
    ("header", re.compile(r"(\b(?:bearer|basic)\s+)(?!\*\*\*)[A-Za-z0-9._~+/=\-]{4,}", re.I), r"\1***"),
    ("assignment", re.compile(r"(\b[A-Za-z_][A-Za-z0-9_]*?(?:_|\b)" + _SECRET_WORDS + r"S?=)" + _VALUE, re.I),
     r"\1***"),
    ("option", re.compile(r"((?:^|\s)--(?:password|passwd|pass|token|secret|api-key|apikey|access-key|"
                          r"secret-key|client-secret|auth-token)(?:=|\s+))" + _VALUE, re.I), r"\1***"),
    ("option", re.compile(r"(\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^|;&]*?\s-p)"
                          r"(?!\s)" + _VALUE), r"\1***"),
    ("option", re.compile(r"(\b(?:(?:docker|podman|nerdctl|helm)\s+(?:registry\s+)?login|sshpass)\b[^|;&]*?\s-p\s+)"
                          + _VALUE), r"\1***"),
    ("key=value", re.compile(r"(\b(?:key|token|secret|password|passwd|pwd|api_?key|access_token|client_secret|"
                             r"auth|sig|signature)=)(?!\*\*\*)" + _VALUE, re.I), r"\1***"),
    ("token", re.compile(_TOKEN_SHAPES, re.S), MARKER),
    ("long secret", re.compile(r"(?<=[=:])(?:[0-9a-fA-F]{32,}|(?=[A-Za-z0-9+/_\-]*\d)(?=[A-Za-z0-9+/_\-]*[a-z])"
                               r"(?=[A-Za-z0-9+/_\-]*[A-Z])[A-Za-z0-9+/_\-]{40,}={0,2})"), MARKER),
)


def redact(text: str | None) -> tuple[str | None, int]:
    """``text`` with every secret the rules find replaced by ``***``, and how many there were.

    A replacement that would change nothing (a value that is already ``***``) is not counted.
    """
    if not text:
        return text, 0
    count = 0
    for _, pattern, replacement in RULES:
        def sub(match, replacement=replacement):
            nonlocal count
            new = match.expand(replacement)
            if new != match.group(0):
                count += 1
            return new
        text = pattern.sub(sub, text)
    return text, count


__all__ = ["MARKER", "RULES", "redact"]
