"""The service's one exception type and its JSON rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class GridserveError(Exception):
    """A request the service refuses, with the HTTP status and a message saying what to fix."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def not_found(message: str) -> GridserveError:
    return GridserveError(404, "not_found", message)


def invalid(message: str) -> GridserveError:
    return GridserveError(422, "invalid_request", message)


def unavailable(message: str) -> GridserveError:
    return GridserveError(503, "unavailable", message)


async def gridserve_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GridserveError)
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status_code)


def describe_validation_error(error: Mapping[str, Any]) -> str:
    """One sentence per bad parameter: which one, what is wrong, what the input was."""
    location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
    name = ".".join(location) or "request"
    text = f"parameter '{name}': {error.get('msg', 'is invalid')}"
    if error.get("input") is not None:
        text += f" (got {error['input']!r})"
    return text


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    message = "; ".join(describe_validation_error(error) for error in errors)
    body = {"error": "invalid_request", "message": message, "detail": jsonable_encoder(errors)}
    return JSONResponse(body, status_code=422)
