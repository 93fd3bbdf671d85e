"""Diagnostics: surface scans, ddrescue mapfiles, `doctor` checks and their JSON reports.

Kept apart from ``rescue.ops`` so the engines can be driven without a CLI
(tests, the flash read test) and the CLI modules stay thin.
"""
