"""Names from files made safe to show: control characters escaped for terminals and Markdown.

A tensor key or a matrix name comes from a file anyone may have written. Printed raw, an ESC or
OSC sequence in it can clear, recolour or retitle the terminal and spoof the output, and a
newline or a bidirectional override can fake further rows. :func:`printable` shows every such
character as a visible escape instead.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

#: Unicode categories shown as escapes: controls, format characters (bidirectional overrides,
#: zero-width characters) and line or paragraph separators.
_ESCAPED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: object) -> str:
    r"""Return ``str(text)`` with every control or format character shown as an escape.

    Parameters
    ----------
    text : object
        A name (tensor key, matrix name, path); converted with :func:`str`.

    Returns
    -------
    str
        The same text where each character of Unicode category Cc (controls such as ESC, NUL,
        newline, DEL and the C1 range), Cf (bidirectional overrides, zero-width characters),
        Zl, Zp, surrogates, private-use and unassigned characters becomes ``\xNN``,
        ``\uNNNN`` or ``\UNNNNNNNN``; everything else is unchanged.

    Examples
    --------
    >>> printable("\x1b]0;owned\x07W")
    '\\x1b]0;owned\\x07W'
    >>> printable("l0.g"), printable("a\u202eb")
    ('l0.g', 'a\\u202eb')
    """
    raw = str(text)
    if raw.isprintable() and raw.isascii():
        return raw
    return "".join(_escape(c) if unicodedata.category(c) in _ESCAPED else c for c in raw)
