package io.hessianatlas.common.model.io;

/**
 * The one exception for a model that cannot be read: a malformed, truncated or inconsistent
 * safetensors file, model.json or Spark weight vector. The message is a single line naming the
 * file (or source) and what was expected.
 */
public class ModelFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
