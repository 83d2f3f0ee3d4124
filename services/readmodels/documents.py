"""Documents as files: HTML as it is, and the same HTML printed to PDF (weasyprint)."""

from pathlib import Path


def write_pdf(html: str, path: Path) -> Path:
    from weasyprint import HTML  # pango is loaded on first use, not at import of the service

    HTML(string=html).write_pdf(path)
    return path
