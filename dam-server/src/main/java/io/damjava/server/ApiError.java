package io.damjava.server;

/** A request failure with its HTTP status and an OpenAI-style error type; never a stack trace. */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int status;
  final String type;

  ApiError(int status, String type, String message) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, "invalid_request_error", message);
  }
}
