package io.hessianatlas.jobs.analyze;

import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wall time per phase of a run: one log line per phase, and the figures for run.json. */
public final class PhaseTimer {
    private static final Logger LOG = LoggerFactory.getLogger("io.hessianatlas.analyze");

    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private final long start = System.nanoTime();
    private long phaseStart = start;

    /** Ends the current phase under this name and logs its elapsed time. */
    void end(String phase, String detail) {
        long now = System.nanoTime();
        double s = (now - phaseStart) / 1e9;
        seconds.merge(phase, s, Double::sum);
        phaseStart = now;
        LOG.info(String.format("phase %-10s %8.2f s%s", phase, s, detail == null || detail.isEmpty() ? "" : "  " + detail));
    }

    double totalSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    Map<String, Double> phases() {
        return new LinkedHashMap<>(seconds);
    }
}
