"""The answers other than success, with the statuses upstream's exception mappers give them.

eclipse/che 5.22.0 core/che-core-api-core/.../rest/ApiExceptionMapper.java:35-72 maps ForbiddenException to 403,
NotFoundException to 404, UnauthorizedException to 401, BadRequestException to 400, ConflictException to 409 and
ServerException (LimitExceededException among them) to 500, each with the JSON body {"message": ...}.
"""

from __future__ import annotations


class ApiError(Exception):
    """An answer other than success: its status, a message, and further fields of the JSON body."""

    def __init__(self, status: int, message: str, **fields) -> None:
        super().__init__(message)
        self.status = status
        self.fields = fields


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def server_error(message: str, **fields) -> ApiError:
    return ApiError(500, message, **fields)
