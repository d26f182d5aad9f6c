package io.hessianatlas.jobs.analyze.api;

import java.util.Locale;

/** Spark data source of `--data` (`--format`); AUTO picks it from the path's extension, else parquet. */
public enum InputFormat {
    AUTO, PARQUET, CSV, JSON, LIBSVM;

    public String sourceName() {
        return name().toLowerCase(Locale.ROOT);
    }


    /** The concrete format for a path: this one, or for AUTO the one its extension names (else parquet). */
    public InputFormat resolve(String path) {
        if (this != AUTO) {
            return this;
        }
        String p = path.toLowerCase(Locale.ROOT);
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.endsWith(".csv") || p.endsWith(".csv.gz")) {
            return CSV;
        }
        if (p.endsWith(".json") || p.endsWith(".jsonl") || p.endsWith(".json.gz") || p.endsWith(".jsonl.gz")) {
            return JSON;
        }
        if (p.endsWith(".libsvm") || p.endsWith(".svm")) {
            return LIBSVM;
        }
        return PARQUET;
    }
}
