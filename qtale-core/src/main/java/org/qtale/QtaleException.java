package org.qtale;

/**
 * An error caused by the user's input (a missing or corrupt file, a shape that does not match, an option out of
 * range). Its message is one complete sentence meant to be shown as is, without a stack trace.
 */
public class QtaleException extends RuntimeException {
    public QtaleException(String message) {
        super(message);
    }

    public QtaleException(String message, Throwable cause) {
        super(message, cause);
    }
}
