package org.qtale.format;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.qtale.QtaleException;

/** Read-only memory maps of checkpoint files, released together when the owning arena closes. */
public final class MappedFile {
    private MappedFile() {
    }

    public static MemorySegment map(Path path, Arena arena) {
        if (Files.isDirectory(path)) {
            throw new QtaleException(path + " is a directory, not a file.");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (IOException e) {
            throw QtaleException.cannotRead("file", path, e);
        }
    }
}
