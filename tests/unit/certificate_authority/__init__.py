"""Tests of the site CA and the certificates it signs (components/certificate_authority.py)."""
