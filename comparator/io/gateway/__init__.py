"""Application middleware that publishes one side's responses as comparator events.

The stable deployment runs it with ``side="stable"``, the dark deployment with ``side="dark"``;
both key events by the request id the mirror gave both copies of the request (``x-request-id``).
See docs/gateways.md.

- :class:`comparator.io.gateway.asgi.ResponseEventMiddleware` for ASGI apps (FastAPI, ...)
- :class:`comparator.io.gateway.wsgi.ResponseEventMiddleware` for WSGI apps (Flask, Django, ...)
"""
