package org.qtale.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import org.qtale.QtaleException;

/** Files that readers see either whole or not at all. */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    public static void createDirectories(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new QtaleException("Cannot create the folder " + directory + ": " + e.getMessage() + ".");
        }
    }

    /** Writes a temporary file beside {@code target} and renames it over the target. */
    public static void write(Path target, byte[] content) {
        Path temp = null;
        try {
            temp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
            Files.write(temp, content);
            if (Files.getFileStore(temp).supportsFileAttributeView(PosixFileAttributeView.class)) {
                Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--")); // not 0600
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new QtaleException("Cannot write " + target + ": " + e.getMessage() + ".");
        }
    }

    private static void deleteQuietly(Path temp) {
        if (temp != null) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the original error is the one worth reporting
            }
        }
    }
}
