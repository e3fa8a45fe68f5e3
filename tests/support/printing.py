"""Printing an export: convert workbooks to PDF with LibreOffice headless and count the pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")  # a page, not the /Pages tree


def to_pdf(sources: list[Path], work: Path) -> dict[str, Path]:
    """Each source converted to PDF by `soffice --headless` with its own profile dir under `work`, by file stem."""
    out = work / "pdf"
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{work}/lo-profile", "--convert-to", "pdf",
         "--outdir", str(out), *[str(source) for source in sources]],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    pdfs = {source.stem: out / f"{source.stem}.pdf" for source in sources}
    missing = [name for name, pdf in pdfs.items() if not pdf.exists()]
    assert not missing, f"LibreOffice wrote no PDF for {missing}: {result.stdout} {result.stderr}"
    return pdfs


def page_count(pdf: Path) -> int:
    """The number of pages: pdfinfo (poppler-utils) when installed, else the /Type /Page objects in the file."""
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60, check=True).stdout
        found = re.search(r"^Pages:\s+(\d+)", info, re.M)
        assert found is not None, info
        return int(found.group(1))
    return len(PAGE_OBJECT.findall(pdf.read_bytes()))
