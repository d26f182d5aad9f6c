package io.hessianatlas.jobs.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Renders a local HTML file in Debian's headless Chromium and reports what a person opening it
 * would have met: a screenshot, every console message (CSP violations included) and every network
 * request the page made.
 *
 * <p>How each is observed (checked against Chromium 156 in {@code HeadlessChromiumTest}, which
 * renders deliberately broken pages so that each check is seen to fail):
 * <ul>
 *   <li>console: with {@code --enable-logging=stderr --v=0} Chromium logs every console message of a
 *       page, whatever its level, to stderr as {@code [pid:tid:time:INFO:CONSOLE:line] "text", source:
 *       url (line)} (older builds: {@code INFO:CONSOLE(line)}); a blocked load or inline script is such
 *       a line naming the Content-Security-Policy directive;</li>
 *   <li>network: {@code --log-net-log} writes every request of the network stack as JSON. Chromium
 *       makes requests of its own even with --disable-background-networking (component updater,
 *       account check); those have initiator "not an origin" and a network isolation key that is
 *       not the page's. A request is the page's when it has a real initiator (a file page's is
 *       "null") or its isolation / anonymization key or site-for-cookies is file://. file: and data:
 *       loads never reach the network stack, so any page request in the log is a failure. Host names
 *       resolve to nothing ({@code --host-resolver-rules}), so no request leaves the machine.</li>
 * </ul>
 */
public final class HeadlessChromium {
    /** Set to 1 (CI does) to make a missing Chromium a failure instead of a skip. */
    public static final String REQUIRE_ENV = "HESSIAN_ATLAS_REQUIRE_CHROMIUM";
    /** Names of the browser looked for on PATH, in order (Debian's package installs /usr/bin/chromium). */
    static final List<String> NAMES = List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable");
    /** Seen here: 0.6 s for a small page, about 1.5 s for a report; a minute means it hangs. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** A console message in Chromium's stderr log: "INFO:CONSOLE:12]" (Chromium 156) or "INFO:CONSOLE(12)]". */
    static final Pattern CONSOLE_LINE = Pattern.compile(":CONSOLE(?::\\d+|\\(\\d+\\))?\\]");
    /** The URL schemes a self-contained page may load. */
    static final Set<String> LOCAL_SCHEMES = Set.of("file", "data");

    /**
     * Plain --headless: the new headless mode (the full browser) in Chromium 132 and later, where the
     * old mode left the chromium binary; older builds take it as the old mode, which screenshots the
     * same way. The rest keep the browser from doing work of its own (update checks, sync, first-run
     * UI, extensions), keep the screenshot one CSS pixel per pixel, and resolve no host name.
     */
    static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--force-device-scale-factor=1", "--disable-features=NetworkTimeServiceQuerying",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0");

    private final Path binary;

    private HeadlessChromium(Path binary) {
        this.binary = binary;
    }

    public Path binary() {
        return binary;
    }

    /** The first of {@link #NAMES} on PATH, if any. */
    public static Optional<HeadlessChromium> find() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String name : NAMES) {
            for (String dir : path.split(File.pathSeparator)) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return Optional.of(new HeadlessChromium(p));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Chromium, or a skipped test that says why (printed, and as the skip reason); with
     * {@link #REQUIRE_ENV}=1 a failed one instead.
     */
    public static HeadlessChromium requireOrSkip() {
        Optional<HeadlessChromium> c = find();
        if (c.isPresent()) {
            return c.get();
        }
        String reason = "no Chromium binary on PATH (looked for " + String.join(", ", NAMES)
                + "; Debian: apt-get install chromium)";
        if ("1".equals(System.getenv(REQUIRE_ENV))) {
            Assertions.fail(reason + ", and " + REQUIRE_ENV + "=1 requires it");
        }
        System.out.println("SKIPPED: " + reason + "; set " + REQUIRE_ENV + "=1 to make this a failure");
        Assumptions.abort(reason);
        throw new IllegalStateException("unreachable");
    }

    /**
     * What one rendering showed.
     *
     * @param consoleMessages every console line of stderr (and any line naming a Content Security Policy)
     * @param pageRequests    distinct non-file, non-data URLs (or hosts) the page asked the network for
     * @param browserRequests distinct URLs Chromium fetched on its own account (informational)
     */
    public record Render(int exitCode, boolean timedOut, Duration elapsed, Path screenshot, Path netLog, String stderr,
                         List<String> consoleMessages, List<String> pageRequests, List<String> browserRequests) {
        public Render {
            consoleMessages = List.copyOf(consoleMessages);
            pageRequests = List.copyOf(pageRequests);
            browserRequests = List.copyOf(browserRequests);
        }

        /** Exit 0 in time, a screenshot, no console message, no request of the page. */
        public void assertClean(String what) {
            assertFalse(timedOut, what + ": Chromium did not finish within " + TIMEOUT + "\n" + stderr);
            assertEquals(0, exitCode, what + ": Chromium's exit code\n" + stderr);
            assertTrue(Files.isRegularFile(screenshot), what + ": no screenshot at " + screenshot + "\n" + stderr);
            assertTrue(consoleMessages.isEmpty(), what + ": console messages " + consoleMessages);
            assertTrue(pageRequests.isEmpty(), what + ": network requests of the page " + pageRequests
                    + " (netlog " + netLog + ")");
        }

        public String summary() {
            return String.format("exit %d in %.2f s, %d console messages, %d page requests, %d of the browser's own %s",
                    exitCode, elapsed.toMillis() / 1000.0, consoleMessages.size(), pageRequests.size(),
                    browserRequests.size(), browserRequests);
        }
    }

    /** Renders file at a window of width × height CSS pixels; the screenshot, netlog and logs go under work. */
    public Render render(Path file, Path work, int width, int height) throws IOException, InterruptedException {
        Files.createDirectories(work);
        Path profile = Files.createTempDirectory(work, "profile");
        Path screenshot = work.resolve("screenshot.png").toAbsolutePath();
        Path netLog = work.resolve("netlog.json").toAbsolutePath();
        Path stdout = work.resolve("chromium.stdout");
        Path stderr = work.resolve("chromium.stderr");
        Files.deleteIfExists(screenshot);
        Files.deleteIfExists(netLog);
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(FLAGS);
        cmd.add("--user-data-dir=" + profile.toAbsolutePath());
        cmd.add("--log-net-log=" + netLog);
        cmd.add("--window-size=" + width + "," + height);
        cmd.add("--screenshot=" + screenshot);
        cmd.add(file.toAbsolutePath().toUri().toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        long start = System.nanoTime();
        Process p = pb.start();
        boolean finished = p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        List<String> console = new ArrayList<>();
        for (String line : err.split("\n")) {
            if (CONSOLE_LINE.matcher(line).find() || line.contains("Content Security Policy")) {
                console.add(line);
            }
        }
        List<String> page = new ArrayList<>();
        List<String> own = new ArrayList<>();
        if (Files.isRegularFile(netLog)) {
            requests(readNetLog(netLog), page, own);
        } else if (finished) {
            page.add("(no netlog written at " + netLog + ")");
        }
        return new Render(finished ? p.exitValue() : -1, !finished, elapsed, screenshot, netLog, err, console, page, own);
    }

    /** The netlog; one cut short (a killed browser) is closed before parsing, as Chromium's own viewer does. */
    static JsonNode readNetLog(Path netLog) throws IOException {
        String text = Files.readString(netLog, StandardCharsets.UTF_8).strip();
        ObjectMapper json = new ObjectMapper();
        try {
            return json.readTree(text);
        } catch (IOException e) {
            String body = text.endsWith(",") ? text.substring(0, text.length() - 1) : text;
            return json.readTree(body + "]}");
        }
    }

    /**
     * Sorts the netlog's URL and host parameters into the page's and the browser's own (see the class
     * comment). Events are grouped by their netlog source (one request, one DNS job, ...): a source is
     * the page's when any of its events is; the browser's own list leaves out the page's URLs and hosts.
     */
    static void requests(JsonNode log, List<String> page, List<String> own) {
        Map<Long, Set<String>> targets = new java.util.LinkedHashMap<>();
        Set<Long> pageSources = new HashSet<>();
        for (JsonNode e : log.path("events")) {
            JsonNode params = e.path("params");
            long source = e.path("source").path("id").asLong(-1);
            String target = params.hasNonNull("url") ? params.path("url").asText()
                    : params.hasNonNull("host") ? params.path("host").asText() : null;
            if (target != null && !LOCAL_SCHEMES.contains(scheme(target))) {
                targets.computeIfAbsent(source, k -> new LinkedHashSet<>()).add(target);
            }
            if (isPage(params)) {
                pageSources.add(source);
            }
        }
        Set<String> pageTargets = new LinkedHashSet<>();
        Set<String> pageHosts = new HashSet<>();
        targets.forEach((source, t) -> {
            if (pageSources.contains(source)) {
                pageTargets.addAll(t);
                t.forEach(x -> pageHosts.add(host(x)));
            }
        });
        Set<String> ownTargets = new LinkedHashSet<>();
        targets.forEach((source, t) -> {
            if (!pageSources.contains(source)) {
                t.stream().filter(x -> !pageTargets.contains(x) && !pageHosts.contains(host(x))).forEach(ownTargets::add);
            }
        });
        page.addAll(pageTargets);
        own.addAll(ownTargets);
    }

    /** "example.invalid" of "http://example.invalid/x.png" and of "example.invalid". */
    private static String host(String target) {
        String rest = target.contains("://") ? target.substring(target.indexOf("://") + 3) : target;
        int end = 0;
        while (end < rest.length() && "/:?#".indexOf(rest.charAt(end)) < 0) {
            end++;
        }
        return rest.substring(0, end).toLowerCase(java.util.Locale.ROOT);
    }

    private static boolean isPage(JsonNode params) {
        String initiator = params.path("initiator").asText(null);
        if (initiator != null && !initiator.equals("not an origin")) {
            return true;
        }
        for (Map.Entry<String, JsonNode> f : params.properties()) {
            boolean key = f.getKey().equals("network_isolation_key") || f.getKey().equals("network_anonymization_key")
                    || f.getKey().equals("site_for_cookies");
            if (key && f.getValue().asText("").contains("file://")) {
                return true;
            }
        }
        return false;
    }

    /** "http" of "http://x/y"; "host" for a bare host name. */
    private static String scheme(String target) {
        int colon = target.indexOf(':');
        return colon > 0 && target.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")
                ? target.substring(0, colon).toLowerCase(java.util.Locale.ROOT) : "host";
    }

    /**
     * What a screenshot shows, for "is it blank?": pixels that differ from the top-left pixel (the
     * page background) and distinct colours.
     */
    public record ImageStats(int width, int height, long foreground, int colours) {
        public double foregroundFraction() {
            return (double) foreground / ((long) width * height);
        }
    }

    public static ImageStats imageStats(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        if (img == null) {
            throw new IOException(png + " is not an image ImageIO reads");
        }
        int background = img.getRGB(0, 0) & 0xffffff;
        long foreground = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                if (rgb != background) {
                    foreground++;
                }
                colours.add(rgb);
            }
        }
        return new ImageStats(img.getWidth(), img.getHeight(), foreground, colours.size());
    }
}
