"""Self-contained HTML reports: figures embedded as data URIs, no scripts, no network."""

from ._audit import render_audit_report, write_audit

__all__ = ["render_audit_report", "write_audit"]
