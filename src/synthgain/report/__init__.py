"""Self-contained HTML reports: figures embedded as data URIs, no scripts, no network."""

from ._audit import AUDIT_FILES, render_audit_report, write_audit
from ._files import check_filtered_path, write_rows
from ._files import write_filtered as write_filtered_rows

__all__ = ["AUDIT_FILES", "check_filtered_path", "render_audit_report", "write_audit", "write_filtered_rows",
           "write_rows"]
