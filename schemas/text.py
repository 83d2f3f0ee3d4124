"""Text PostgreSQL can store: no NUL character, and valid Unicode (JSON's `\\udc00` escape
gives Python a lone surrogate, which has no UTF-8 form)."""

NUL = "\x00"


def unstorable(text: str) -> str | None:
    """Why PostgreSQL could not store `text`, or None if it could."""
    if NUL in text:
        return "Text must not contain NUL (\\x00)"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "Text must not contain an unpaired surrogate (\\ud800 to \\udfff)"
    return None


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL could not store written out as escapes (`\\x00`, `\\udc00`),
    for quoting bad input back in a reason or an error."""
    return text.encode(errors="backslashreplace").decode().replace(NUL, "\\x00")
