package io.hessianatlas.jobs.analyze.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * What `--data` was when the run read it, for run.json: every file under the path (or glob) with
 * its size and modification time, their count, total bytes and latest modification, and a SHA-256
 * over the sorted listing — two runs with the same fingerprint read the same files unchanged (by
 * size and time; contents are not hashed). Taken before Spark starts, so a missing `--data` fails
 * at once ({@link #of}). Hidden files (`_SUCCESS`, `.crc`) are left out, as Spark's readers do.
 *
 * @param files         files found
 * @param bytes         their total size
 * @param latestModified the latest modification time, ISO-8601 UTC
 * @param sha256        of the listing "path\tsize\tmillis\n" in path order
 * @param listing       the first {@link #LISTED} files: path, bytes, modified
 */
public record InputFingerprint(long files, long bytes, String latestModified, String sha256,
                               List<Map<String, Object>> listing) {
    /** Files listed one by one in run.json; the rest are only counted and hashed. */
    public static final int LISTED = 100;

    /**
     * Lists `--data`; throws InputException naming the option when nothing is there. A file system
     * that cannot be listed from the driver without Spark's configuration (credentials given as
     * spark.hadoop.* settings) gives null: Spark's reader then reports it.
     */
    public static InputFingerprint of(Configuration conf, String data) {
        Path path = new Path(data);
        List<FileStatus> found = new ArrayList<>();
        try {
            FileSystem fs = path.getFileSystem(conf);
            FileStatus[] matches = fs.globStatus(path);
            if (matches == null || matches.length == 0) {
                throw new InputException("--data: " + data + " does not exist");
            }
            for (FileStatus m : matches) {
                if (m.isDirectory()) {
                    RemoteIterator<LocatedFileStatus> it = fs.listFiles(m.getPath(), true);
                    while (it.hasNext()) {
                        found.add(it.next());
                    }
                } else {
                    found.add(m);
                }
            }
        } catch (FileNotFoundException e) {
            throw new InputException("--data: " + data + " does not exist");
        } catch (IOException | RuntimeException e) {
            if (e instanceof InputException ie) {
                throw ie;
            }
            return null;
        }
        found.removeIf(f -> hidden(f.getPath(), path));
        found.sort((a, b) -> a.getPath().toString().compareTo(b.getPath().toString()));
        MessageDigest sha = newDigest();
        long bytes = 0;
        long latest = 0;
        List<Map<String, Object>> listing = new ArrayList<>();
        for (FileStatus f : found) {
            bytes += f.getLen();
            latest = Math.max(latest, f.getModificationTime());
            sha.update((f.getPath() + "\t" + f.getLen() + "\t" + f.getModificationTime() + "\n").getBytes(StandardCharsets.UTF_8));
            if (listing.size() < LISTED) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("path", f.getPath().toString());
                e.put("bytes", f.getLen());
                e.put("modified", Instant.ofEpochMilli(f.getModificationTime()).toString());
                listing.add(e);
            }
        }
        return new InputFingerprint(found.size(), bytes, Instant.ofEpochMilli(latest).toString(),
                HexFormat.of().formatHex(sha.digest()), List.copyOf(listing));
    }

    /** run.json's form. */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("files", files);
        m.put("bytes", bytes);
        m.put("latest_modified", latestModified);
        m.put("sha256", sha256);
        m.put("listing", listing);
        return m;
    }

    /** A file or folder below the given path whose name starts with '_' or '.'. */
    private static boolean hidden(Path file, Path root) {
        for (Path p = file; p != null && !p.toUri().getPath().equals(root.toUri().getPath()); p = p.getParent()) {
            String name = p.getName();
            if (name.startsWith("_") || name.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
