"""The generated synchronous facade; see scripts/gen_sync.py."""

from .client import Cloudflare

__all__ = ["Cloudflare"]
