package io.hessianatlas.jobs.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * The harness's checks can fail: a page with a console error, a remote image and an inline
 * script is caught by the console check (with a CSP: both blocked loads are console lines) and by
 * the network check (without a CSP: the image request is in the netlog), while a plain page passes
 * and its screenshot is not blank. The remote host is under .invalid and host names resolve to
 * nothing, so no request leaves the machine.
 */
class HeadlessChromiumTest {
    private static final String CSP = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            + "style-src 'unsafe-inline'; img-src data:\">";
    private static final String REMOTE_IMAGE = "http://example.invalid/x.png";

    private HeadlessChromium chromium;

    @TempDir
    Path tmp;

    /** Per test, not per class: a missing Chromium then shows as skipped tests, with the reason. */
    @BeforeEach
    void findChromium() {
        chromium = HeadlessChromium.requireOrSkip();
    }

    private HeadlessChromium.Render render(String name, String html) throws IOException, InterruptedException {
        Path page = tmp.resolve(name + ".html");
        Files.writeString(page, html);
        HeadlessChromium.Render r = chromium.render(page, tmp.resolve(name), 800, 600);
        System.out.println(name + ": " + r.summary());
        return r;
    }

    @Test
    void plainPagePassesAndIsNotBlank() throws Exception {
        HeadlessChromium.Render r = render("plain", "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" + CSP
                + "</head><body style=\"background:#fff\"><h1 style=\"color:#1f77b4\">Hessian Atlas</h1>"
                + "<div style=\"width:300px;height:200px;background:linear-gradient(90deg,#d62728,#2ca02c)\"></div>"
                + "<svg width=\"200\" height=\"100\"><circle cx=\"50\" cy=\"50\" r=\"40\" fill=\"#9467bd\"/></svg>"
                + "</body></html>");
        r.assertClean("plain page");
        HeadlessChromium.ImageStats s = HeadlessChromium.imageStats(r.screenshot());
        assertTrue(s.foreground() > 10_000 && s.colours() > 8, "plain page screenshot looks blank: " + s);
    }

    @Test
    void consoleErrorsAndBlockedLoadsAreCaught() throws Exception {
        HeadlessChromium.Render r = render("csp-violations", "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" + CSP
                + "</head><body><p>broken</p><img src=\"" + REMOTE_IMAGE + "\">"
                + "<script>console.error('x')</script></body></html>");
        assertTrue(r.consoleMessages().stream().anyMatch(m -> m.contains(REMOTE_IMAGE)),
                "the CSP violation of the image is a console line: " + r.consoleMessages() + "\n" + r.stderr());
        assertTrue(r.consoleMessages().stream().anyMatch(m -> m.contains("inline script")),
                "the blocked inline script is a console line: " + r.consoleMessages());
        assertTrue(r.pageRequests().isEmpty(), "the CSP kept the image off the network: " + r.pageRequests());
        assertThrows(AssertionFailedError.class, () -> r.assertClean("csp-violations"));
    }

    @Test
    void consoleErrorAndRemoteRequestWithoutCspAreCaught() throws Exception {
        HeadlessChromium.Render r = render("no-csp", "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
                + "<p>broken</p><img src=\"" + REMOTE_IMAGE + "\"><script>console.error('boom-error')</script>"
                + "</body></html>");
        assertTrue(r.consoleMessages().stream().anyMatch(m -> m.contains("boom-error")),
                "console.error is a console line: " + r.consoleMessages() + "\n" + r.stderr());
        assertTrue(r.pageRequests().contains(REMOTE_IMAGE), "the image request is in the netlog: " + r.pageRequests());
        assertFalse(r.browserRequests().contains(REMOTE_IMAGE), "and counted as the page's, not the browser's");
        assertThrows(AssertionFailedError.class, () -> r.assertClean("no-csp"));
    }
}
