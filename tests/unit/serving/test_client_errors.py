"""The HTTP client raises the error class an error response's ``ErrorCode`` names."""

from __future__ import annotations

import json

import httpx
import pytest

from mlyard.errors import (
    ERROR_CLASSES,
    HTTP_STATUS,
    MlyardError,
    NotAcceptable,
    NotFoundError,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationError,
    error_class,
)
from mlyard.serving.client import error_from_response, raise_for_error


def _response(status: int, body: object | str) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(status, content=content.encode())


def test_every_error_class_has_its_own_code() -> None:
    assert len(ERROR_CLASSES) == len(HTTP_STATUS)
    for cls in HTTP_STATUS:
        assert error_class(cls.code) is cls
    assert error_class("NoSuchCode") is MlyardError


@pytest.mark.parametrize("cls", list(HTTP_STATUS))
def test_code_not_status_picks_the_class(cls: type[MlyardError]) -> None:
    # the status is deliberately not the class's own: the code alone decides
    response = _response(418, {"ErrorCode": cls.code, "Message": "details"})
    error = error_from_response(response)
    assert type(error) is cls
    assert error.message == f"{cls.code}: details"


def test_subclasses_come_back_as_themselves() -> None:
    with pytest.raises(UnsupportedMediaType, match="UnsupportedMediaType: x"):
        raise_for_error(_response(415, {"ErrorCode": "UnsupportedMediaType", "Message": "x"}))
    with pytest.raises(NotAcceptable, match="NotAcceptable: x"):
        raise_for_error(_response(406, {"ErrorCode": "NotAcceptable", "Message": "x"}))
    # still a ValidationError for older callers
    with pytest.raises(ValidationError, match="UnsupportedMediaType: x"):
        raise_for_error(_response(415, {"ErrorCode": "UnsupportedMediaType", "Message": "x"}))
    with pytest.raises(NotFoundError, match="ResourceNotFound: no endpoint"):
        raise_for_error(_response(404, {"ErrorCode": "ResourceNotFound",
                                        "Message": "no endpoint"}))


def test_unknown_code_and_foreign_bodies() -> None:
    error = error_from_response(_response(400, {"ErrorCode": "Teapot", "Message": "m"}))
    assert type(error) is MlyardError and error.message == "Teapot: m"
    for status, body, cls in ((503, "<html>bad gateway</html>", ServiceUnavailable),
                              (502, "", ServiceUnavailable),
                              (429, "slow down", ServiceUnavailable),
                              (404, "Not Found", MlyardError),
                              (500, {"detail": "no code"}, MlyardError),
                              (400, ["a", "list"], MlyardError),
                              (400, {"ErrorCode": 7}, MlyardError)):
        error = error_from_response(_response(status, body))
        assert type(error) is cls, (status, body)
    assert error_from_response(_response(200, {"ok": True})) is None
    raise_for_error(_response(204, ""))
