package org.qtale.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The one way tests reach {@code ../shared/data}: a test whose data is absent is skipped with a message, unless
 * {@code QTALE_REQUIRE_SHARED_DATA=1} (CI sets it), where it fails.
 */
public final class SharedData {
    private SharedData() {
    }

    /** The shared data folder, or null when it cannot be found. */
    public static Path root() {
        String configured = System.getenv("QTALE_SHARED_DATA");
        if (configured != null && Files.isDirectory(Path.of(configured))) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolveSibling("shared").resolve("data");
            if (Files.isDirectory(candidate)) {
                return candidate.normalize();
            }
        }
        return null;
    }

    /** A file under the shared data folder; skips (or fails in CI) when it is missing. */
    public static Path file(String relative) {
        Path root = root();
        Path path = root == null ? null : root.resolve(relative);
        if (path == null || !Files.exists(path)) {
            String message = "shared data file " + relative + " is not available (looked for ../shared/data)";
            if ("1".equals(System.getenv("QTALE_REQUIRE_SHARED_DATA"))) {
                fail(message + " and QTALE_REQUIRE_SHARED_DATA=1");
            }
            Assumptions.abort(message);
        }
        return path;
    }
}
