"""Ringledger: call accounting and call analytics for Cisco Unified CM."""

__version__ = "0.1.0"
