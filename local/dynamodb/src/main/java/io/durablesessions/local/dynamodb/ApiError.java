package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error that is returned to the client as a DynamoDB error body. {@code extra} carries
 * modelled error members (e.g. {@code Item}, {@code CancellationReasons}).
 */
final class ApiError extends RuntimeException {
    final String type;
    final int status;
    final ObjectNode extra;

    ApiError(String type, String message) {
        this(type, message, 400, null);
    }

    ApiError(String type, String message, int status, ObjectNode extra) {
        super(message, null, false, false);
        this.type = type;
        this.status = status;
        this.extra = extra;
    }

    static ApiError validation(String message) {
        return new ApiError("ValidationException", message);
    }

    static ApiError notFound(String message) {
        return new ApiError("ResourceNotFoundException", message);
    }

    static ApiError conditionFailed(ObjectNode itemOrNull) {
        ObjectNode extra = null;
        if (itemOrNull != null) {
            extra = Json.MAPPER.createObjectNode();
            extra.set("Item", itemOrNull);
        }
        return new ApiError("ConditionalCheckFailedException", "The conditional request failed", 400, extra);
    }

    /** The namespace DynamoDB puts in front of the error name in {@code __type}. */
    String qualifiedType() {
        return switch (type) {
            case "ValidationException" -> "com.amazon.coral.validate#" + type;
            case "UnknownOperationException", "SerializationException", "InternalFailure" ->
                "com.amazon.coral.service#" + type;
            default -> "com.amazonaws.dynamodb.v20120810#" + type;
        };
    }
}
