package org.qtale;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * An error caused by the user's input (a missing or corrupt file, a shape that does not match, an option out of
 * range). Its message is one complete sentence meant to be shown as is, without a stack trace.
 */
public class QtaleException extends RuntimeException {
    /** One sentence for a failed read of {@code path}, e.g. "Tokenizer file not found: x.bin." */
    public static QtaleException cannotRead(String what, Path path, IOException e) {
        String capitalized = Character.toUpperCase(what.charAt(0)) + what.substring(1);
        if (e instanceof NoSuchFileException) {
            return new QtaleException(capitalized + " not found: " + path + ".", e);
        }
        if (e instanceof AccessDeniedException) {
            return new QtaleException("Permission denied reading " + what + " " + path + ".", e);
        }
        return new QtaleException("Cannot read " + what + " " + path + ": " + e.getMessage() + ".", e);
    }

    public QtaleException(String message) {
        super(message);
    }

    public QtaleException(String message, Throwable cause) {
        super(message, cause);
    }
}
