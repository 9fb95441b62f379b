"""One error tree, rendered as OpenAI's ``{"error": {...}}`` envelope by one handler."""

from __future__ import annotations

from typing import ClassVar


class ConfigurationError(Exception):
    """A setting, key, certificate or model is missing or wrong: the gateway cannot start."""


class GatewayError(Exception):
    """A refusal or failure that a client sees, with its HTTP status and OpenAI error type."""

    status_code: int = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code
        self.headers: dict[str, str] = {}

    def to_body(self) -> dict[str, dict[str, str | None]]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequestError(GatewayError):
    """The request is malformed or asks for something the gateway does not allow."""

    status_code = 400
    error_type = "invalid_request_error"


class UnsupportedParameterError(InvalidRequestError):
    default_code = "unsupported_parameter"


class ContextLengthExceededError(InvalidRequestError):
    default_code = "context_length_exceeded"


class AuthenticationError(GatewayError):
    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_token"


class PermissionDeniedError(GatewayError):
    status_code = 403
    error_type = "permission_error"
    default_code = "forbidden"


class NotFoundError(GatewayError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class ModelNotFoundError(NotFoundError):
    default_code = "model_not_found"


class ConflictError(GatewayError):
    """The request clashes with what exists (a duplicate name, a suspended tenant)."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class MethodNotAllowedError(GatewayError):
    status_code = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"


class PayloadTooLargeError(GatewayError):
    status_code = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class RequestTimeoutError(GatewayError):
    """The client took too long to send its request (a slow body)."""

    status_code = 408
    error_type = "invalid_request_error"
    default_code = "request_timeout"


class HeadersTooLargeError(GatewayError):
    """The request line and headers together are over the server's limit."""

    status_code = 431
    error_type = "invalid_request_error"
    default_code = "request_headers_too_large"


class RateLimitedError(GatewayError):
    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"
    limit_kind: str = "requests"
    """Which limit refused: ``requests``, ``tokens``, ``burst`` or ``concurrency``."""


class InternalError(GatewayError):
    status_code = 500
    default_code = "internal_error"


class ServiceUnavailableError(GatewayError):
    status_code = 503
    default_code = "service_unavailable"


class EngineUnavailableError(ServiceUnavailableError):
    default_code = "engine_unavailable"
