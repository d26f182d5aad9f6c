package io.hessianatlas.jobs.analyze.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.net.InetAddress;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Atomic output: every table and run.json are written into a hidden staging folder beside
 * `--out` ({@code .<name>.staging-<uuid>}), and the finished folder is renamed into place as the
 * last step (run.json and _SUCCESS are its last files). A failed run deletes its staging folder
 * and leaves any previous output untouched; with --overwrite the old output is moved aside only
 * once the new one is complete, and deleted after the rename.
 *
 * <p>A staging folder names its owner in {@value #OWNER} ({@code host pid}) until the commit. A
 * run that was killed (SIGKILL, a lost machine) cannot delete its own: the next run into the same
 * parent removes every staging folder of the same output whose owner is a process of this host that
 * no longer runs, or, from another host, that is older than {@link #FOREIGN_STALE_MILLIS}, and logs
 * each. {@link #abortAll} deletes the open ones (SIGTERM / SIGINT).
 */
public final class OutputCommit implements AutoCloseable {
    static final String SUCCESS = "_SUCCESS";
    static final String RUN_JSON = "run.json";
    static final String OWNER = "_OWNER";
    /** Marks a staging folder: {@code .<name>.staging-<uuid>} beside --out, {@code .staging-run_id=...} in a run root. */
    static final String STAGING = ".staging-";
    /** A staging folder of another host (whose process cannot be checked) is stale after a day. */
    static final long FOREIGN_STALE_MILLIS = 24L * 3600 * 1000;

    private static final Logger LOG = LoggerFactory.getLogger(OutputCommit.class);
    private static final Set<OutputCommit> OPEN = ConcurrentHashMap.newKeySet();

    /** The partition column of the --run-id layout. */
    public static final String RUN_ID_COLUMN = "run_id";
    /** --run-id layout: the folder of each run's run.json, report.html and charts. */
    public static final String MANIFESTS = "manifests";
    /** --run-id layout: the table of runs, moved into place last. */
    public static final String RUNS = "runs";
    /** The report's chart folder (moves with report.html). */
    static final String CHARTS = "report";

    private final FileSystem fs;
    private final Path out;
    private final Path staging;
    private final boolean overwrite;
    private final String runId;
    private boolean committed;

    private OutputCommit(FileSystem fs, Path out, Path staging, boolean overwrite, String runId) {
        this.fs = fs;
        this.out = out;
        this.staging = staging;
        this.overwrite = overwrite;
        this.runId = runId;
    }

    /** {@code run_id=<id>}: the Hive-style partition folder of one run. */
    public static String partition(String runId) {
        return RUN_ID_COLUMN + "=" + runId;
    }

    /**
     * Checks a --run-id root before any Spark work: it may hold other runs; this run's id may be
     * there only with --overwrite. Without a run id, {@link #check(Configuration, String, boolean)}.
     */
    public static void check(Configuration conf, String out, boolean overwrite, String runId) {
        if (runId == null) {
            check(conf, out, overwrite);
            return;
        }
        try {
            Path p = new Path(out);
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                return;
            }
            if (!fs.getFileStatus(p).isDirectory()) {
                throw new InputException("--out: " + out + " is a file, expected the root folder of the --run-id runs");
            }
            if (!overwrite && (fs.exists(new Path(new Path(p, MANIFESTS), partition(runId)))
                    || fs.exists(new Path(new Path(p, RUNS), partition(runId))))) {
                throw new InputException("--run-id " + runId + ": a run with this id is already under " + out
                        + " (pass --overwrite to replace that run's partitions)");
            }
        } catch (IOException e) {
            throw new InputException("--out: cannot check " + out + ": " + e.getMessage(), e);
        }
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

    /**
     * Creates the staging folder: beside `out`, or with a run id inside the root `out`
     * ({@code .staging-run_id=<id>-<uuid>}, so concurrent runs of different ids never share one).
     */
    public static OutputCommit begin(Configuration conf, String out, boolean overwrite, String runId) {
        if (runId == null) {
            return begin(conf, out, overwrite);
        }
        Path target = new Path(out);
        try {
            FileSystem fs = target.getFileSystem(conf);
            Path root = fs.makeQualified(target);
            Path staging = new Path(root, STAGING + partition(runId) + "-" + UUID.randomUUID());
            if (!fs.mkdirs(staging)) {
                throw new InputException("--out: cannot create " + staging + " (is " + root + " writable?)");
            }
            OutputCommit commit = new OutputCommit(fs, root, staging, overwrite, runId);
            commit.writeText(OWNER, host() + " " + ProcessHandle.current().pid());
            OPEN.add(commit);
            removeStale(fs, root, STAGING, staging);
            return commit;
        } catch (IOException e) {
            throw new InputException("--out: cannot write under " + out + ": " + e.getMessage(), e);
        }
    }

    /** Creates the staging folder beside `out`. */
    public static OutputCommit begin(Configuration conf, String out, boolean overwrite) {
        Path target = new Path(out);
        try {
            FileSystem fs = target.getFileSystem(conf);
            Path qualified = fs.makeQualified(target);
            Path parent = qualified.getParent();
            Path staging = new Path(parent, "." + qualified.getName() + STAGING + UUID.randomUUID());
            if (!fs.mkdirs(staging)) {
                throw new InputException("--out: cannot create " + staging + " (is " + parent + " writable?)");
            }
            OutputCommit commit = new OutputCommit(fs, qualified, staging, overwrite, null);
            commit.writeText(OWNER, host() + " " + ProcessHandle.current().pid());
            OPEN.add(commit);
            removeStale(fs, parent, "." + qualified.getName() + STAGING, staging);
            return commit;
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

    /**
     * Where an entry of the staging folder ends up: {@code out/<entry>}, or with a run id
     * {@code out/<table>/run_id=<id>} for a table and {@code out/manifests/run_id=<id>/<file>} for
     * run.json, report.html and the charts.
     */
    public String finalPath(String entry, boolean table) {
        if (runId == null) {
            return new Path(out, entry).toString();
        }
        return table ? new Path(new Path(out, entry), partition(runId)).toString()
                : new Path(new Path(new Path(out, MANIFESTS), partition(runId)), entry).toString();
    }

    /** Writes run.json and _SUCCESS, then renames the staging folder to `out`. */
    public void commit(String runJson) throws IOException {
        fs.delete(new Path(staging, OWNER), false);
        writeText(RUN_JSON, runJson);
        writeText(SUCCESS, "");
        if (runId != null) {
            commitRun();
            return;
        }
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

    /**
     * The --run-id commit: this id's existing partitions (with --overwrite) are moved aside, then
     * every table folder of the staging folder becomes {@code out/<table>/run_id=<id>}, the files
     * (run.json, _SUCCESS, report.html and its charts) {@code out/manifests/run_id=<id>}, and last
     * the {@code runs} row: a run is complete once it has its row in {@code runs}. Other runs' files
     * are never touched. Renames are atomic one by one, not as a whole: a crash between them leaves
     * partitions of an id without a runs row, which a rerun with --overwrite replaces.
     */
    private void commitRun() throws IOException {
        String part = partition(runId);
        Path aside = new Path(out, ".replaced-" + part + "-" + UUID.randomUUID());
        boolean movedAside = false;
        for (FileStatus d : fs.listStatus(out)) {
            Path existing = new Path(d.getPath(), part);
            if (d.isDirectory() && !d.getPath().getName().startsWith(".") && fs.exists(existing)) {
                if (!overwrite) {
                    throw new InputException("--run-id " + runId + ": a run with this id appeared under " + out
                            + " during the run");
                }
                fs.mkdirs(new Path(aside, d.getPath().getName()));
                if (!fs.rename(existing, new Path(new Path(aside, d.getPath().getName()), part))) {
                    throw new IOException("cannot move " + existing + " aside");
                }
                movedAside = true;
            }
        }
        Path manifests = new Path(new Path(out, MANIFESTS), part);
        fs.mkdirs(manifests);
        Path runs = null;
        for (FileStatus e : fs.listStatus(staging)) {
            String name = e.getPath().getName();
            if (name.equals(RUNS)) {
                runs = e.getPath();
            } else if (e.isDirectory() && !name.equals(CHARTS)) {
                fs.mkdirs(new Path(out, name));
                move(e.getPath(), new Path(new Path(out, name), part));
            } else {
                move(e.getPath(), new Path(manifests, name));
            }
        }
        if (runs != null) {
            fs.mkdirs(new Path(out, RUNS));
            move(runs, new Path(new Path(out, RUNS), part));
        }
        committed = true;
        fs.delete(staging, true);
        if (movedAside) {
            fs.delete(aside, true);
        }
    }

    private void move(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("cannot rename " + from + " to " + to);
        }
    }

    /** Deletes the staging folder unless the output was committed. */
    @Override
    public void close() {
        OPEN.remove(this);
        if (!committed) {
            try {
                fs.delete(staging, true);
            } catch (IOException ignored) {
                // best effort: a leftover hidden staging folder never looks like a complete output
            }
        }
    }

    /** Deletes the staging folders of every output still being written in this JVM (on a signal). */
    public static void abortAll() {
        for (OutputCommit c : OPEN) {
            c.close();
        }
    }

    /**
     * Removes the staging folders of {@code out} left by runs that are gone (see the class comment);
     * best effort: a folder that cannot be read or deleted is left for a later run.
     */
    static void removeStale(FileSystem fs, Path folder, String prefix, Path own) {
        FileStatus[] siblings;
        try {
            siblings = fs.listStatus(folder, p -> p.getName().startsWith(prefix));
        } catch (IOException e) {
            return;
        }
        String host = host();
        long now = System.currentTimeMillis();
        for (FileStatus st : siblings) {
            Path dir = st.getPath();
            if (!st.isDirectory() || dir.getName().equals(own.getName())) {
                continue;
            }
            String why = null;
            try {
                Path ownerFile = new Path(dir, OWNER);
                String[] owner = fs.exists(ownerFile) ? readText(fs, ownerFile).trim().split(" ") : new String[0];
                boolean foreign = owner.length != 2 || !owner[0].equals(host);
                if (!foreign && ProcessHandle.of(Long.parseLong(owner[1])).map(h -> !h.isAlive()).orElse(true)) {
                    why = "its run (pid " + owner[1] + " on this host) no longer runs";
                } else if (foreign && now - st.getModificationTime() > FOREIGN_STALE_MILLIS) {
                    why = owner.length == 2 ? "its run on host " + owner[0] + " has not written it for over a day"
                            : "it names no owner and is over a day old";
                }
                if (why != null && fs.delete(dir, true)) {
                    LOG.warn("removed the stale staging folder {}: {}", dir, why);
                }
            } catch (IOException | NumberFormatException e) {
                LOG.debug("cannot check the staging folder {}: {}", dir, e.toString());
            }
        }
    }

    private static String readText(FileSystem fs, Path file) throws IOException {
        try (java.io.InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
