"""The generated synchronous facade; see scripts/gen_sync.py."""

from cfaisearch._sync.client import Cloudflare

__all__ = ["Cloudflare"]
