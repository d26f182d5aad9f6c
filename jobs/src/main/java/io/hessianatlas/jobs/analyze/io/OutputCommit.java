package io.hessianatlas.jobs.analyze.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Atomic output: every table and run.json are written into a hidden staging folder beside
 * `--out` ({@code .<name>.staging-<uuid>}), and the finished folder is renamed into place as the
 * last step (run.json and _SUCCESS are its last files). A failed run deletes its staging folder
 * and leaves any previous output untouched; with --overwrite the old output is moved aside only
 * once the new one is complete, and deleted after the rename.
 */
public final class OutputCommit implements AutoCloseable {
    static final String SUCCESS = "_SUCCESS";
    static final String RUN_JSON = "run.json";

    private final FileSystem fs;
    private final Path out;
    private final Path staging;
    private final boolean overwrite;
    private boolean committed;

    private OutputCommit(FileSystem fs, Path out, Path staging, boolean overwrite) {
        this.fs = fs;
        this.out = out;
        this.staging = staging;
        this.overwrite = overwrite;
    }

    /**
     * Checks `--out` before any Spark work: an existing non-empty folder needs --overwrite, and a
     * file is never replaced. Throws InputException naming the option.
     */
    public static void check(Configuration conf, String out, boolean overwrite) {
        try {
            Path p = new Path(out);
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                return;
            }
            FileStatus st = fs.getFileStatus(p);
            if (!st.isDirectory()) {
                throw new InputException("--out: " + out + " is a file, expected a directory to create");
            }
            if (!overwrite && fs.listStatus(p).length > 0) {
                throw new InputException("--out: " + out + " exists and is not empty (pass --overwrite to replace it)");
            }
        } catch (IOException e) {
            throw new InputException("--out: cannot check " + out + ": " + e.getMessage(), e);
        }
    }

    /** Creates the staging folder beside `out`. */
    public static OutputCommit begin(Configuration conf, String out, boolean overwrite) {
        Path target = new Path(out);
        try {
            FileSystem fs = target.getFileSystem(conf);
            Path qualified = fs.makeQualified(target);
            Path parent = qualified.getParent();
            Path staging = new Path(parent, "." + qualified.getName() + ".staging-" + UUID.randomUUID());
            if (!fs.mkdirs(staging)) {
                throw new InputException("--out: cannot create " + staging + " (is " + parent + " writable?)");
            }
            return new OutputCommit(fs, qualified, staging, overwrite);
        } catch (IOException e) {
            throw new InputException("--out: cannot write beside " + out + ": " + e.getMessage(), e);
        }
    }

    /** The staging folder: the output as it is being written. */
    public String stagingPath() {
        return staging.toString();
    }

    /** The path of a table folder inside the staging folder. */
    public String tablePath(String table) {
        return new Path(staging, table).toString();
    }

    void writeText(String file, String text) throws IOException {
        try (OutputStream os = fs.create(new Path(staging, file), true)) {
            os.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Writes run.json and _SUCCESS, then renames the staging folder to `out`. */
    public void commit(String runJson) throws IOException {
        writeText(RUN_JSON, runJson);
        writeText(SUCCESS, "");
        Path aside = null;
        if (fs.exists(out)) {
            if (fs.listStatus(out).length > 0 && !overwrite) {
                throw new InputException("--out: " + out + " appeared during the run and is not empty");
            }
            aside = new Path(out.getParent(), "." + out.getName() + ".replaced-" + UUID.randomUUID());
            if (!fs.rename(out, aside)) {
                throw new IOException("cannot move the previous output " + out + " aside");
            }
        }
        if (!fs.rename(staging, out)) {
            if (aside != null) {
                fs.rename(aside, out);
            }
            throw new IOException("cannot rename " + staging + " to " + out);
        }
        committed = true;
        if (aside != null) {
            fs.delete(aside, true);
        }
    }

    /** Deletes the staging folder unless the output was committed. */
    @Override
    public void close() {
        if (!committed) {
            try {
                fs.delete(staging, true);
            } catch (IOException ignored) {
                // best effort: a leftover hidden staging folder never looks like a complete output
            }
        }
    }
}
