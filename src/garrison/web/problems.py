"""Errors as RFC 9457 problem details for the API, and as pages for people."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"


class WebProblem(Exception):
    """An error a request can cause, with its HTTP status and a short title."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotAuthenticated(WebProblem):
    status = 401
    title = "Not signed in"


class Forbidden(WebProblem):
    status = 403
    title = "Forbidden"


class NotFound(WebProblem):
    status = 404
    title = "Not found"


class Conflict(WebProblem):
    status = 409
    title = "Conflict"


class PayloadTooLarge(WebProblem):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(WebProblem):
    status = 415
    title = "Unsupported media type"


class UnprocessableContent(WebProblem):
    status = 422
    title = "Unprocessable content"


class TooManyRequests(WebProblem):
    status = 429
    title = "Too many requests"


def problem_response(
    status: int, title: str, detail: str, instance: str, **extensions: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)
