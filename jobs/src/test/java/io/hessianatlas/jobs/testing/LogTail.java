package io.hessianatlas.jobs.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Follows a growing log file: each {@link #newLines} call returns the complete lines written since the last. */
public final class LogTail {
    private final Path file;
    private long offset;
    private final StringBuilder partial = new StringBuilder();

    public LogTail(Path file) {
        this.file = file;
    }

    public List<String> newLines() throws IOException {
        List<String> lines = new ArrayList<>();
        if (!Files.exists(file)) {
            return lines;
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            if (length <= offset) {
                return lines;
            }
            byte[] buf = new byte[(int) Math.min(length - offset, 1 << 24)];
            f.seek(offset);
            f.readFully(buf);
            offset += buf.length;
            partial.append(new String(buf, StandardCharsets.UTF_8));
        }
        int start = 0;
        for (int nl = partial.indexOf("\n"); nl >= 0; nl = partial.indexOf("\n", start)) {
            lines.add(partial.substring(start, nl));
            start = nl + 1;
        }
        partial.delete(0, start);
        return lines;
    }
}
