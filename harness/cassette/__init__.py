"""The timeline: what one test exchanged with the outside world, and how it is kept on disk."""

from harness.cassette.model import Body, Cassette, HttpInteraction, Request, Response

__all__ = ["Body", "Cassette", "HttpInteraction", "Request", "Response"]
