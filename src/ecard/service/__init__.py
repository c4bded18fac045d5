"""The web service: one ASGI application (FastAPI, served by uvicorn) embedding the library.

Contract: a thin layer. Every decision stays in the library (:mod:`ecard.workflow` for the
application steps and card statuses, :mod:`ecard.verify` for the counter, :mod:`ecard.publish`
for lists); the service translates HTTP to library calls and library errors to HTTP answers
carrying the library's stable codes. It holds no rule of its own beyond HTTP concerns
(sessions, CSRF, rate and size limits, security headers).

Layout: :mod:`~ecard.service.config` (settings from a file or the environment),
:mod:`~ecard.service.context` (the library objects one running service shares),
:mod:`~ecard.service.app` (the application factory assembling the routers),
:mod:`~ecard.service.api` (the JSON API), :mod:`~ecard.service.pages` (the HTML pages:
applicant, clerk console, wallet, counter), templates and static files (vendored JavaScript
with its licences; no CDN).
"""
