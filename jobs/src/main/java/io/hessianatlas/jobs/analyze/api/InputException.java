package io.hessianatlas.jobs.analyze.api;

/**
 * Bad input found after the options were parsed (a model file, a data column or row): the CLI
 * prints the message as one line and exits 2.
 */
public class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InputException(String message) {
        super(message);
    }

    public InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
