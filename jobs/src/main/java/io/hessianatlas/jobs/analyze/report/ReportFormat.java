package io.hessianatlas.jobs.analyze.report;

import java.util.List;
import java.util.Locale;

/**
 * How report.html prints values: numbers with {@link #SIGNIFICANT_DIGITS} significant digits
 * (scientific notation outside [1e-3, 1e6), trailing zeros dropped, so 12.5 prints as "12.5"; an
 * ASCII minus, so that a value copied from the page parses),
 * null as an em dash, and text escaped for HTML (element content and attribute values alike).
 */
final class ReportFormat {
    /** Enough to tell eigenvalues apart in a table; the Parquet tables keep full precision. */
    static final int SIGNIFICANT_DIGITS = 6;
    /** What an absent value (SQL null: "not computed" or "does not apply") prints as. */
    static final String ABSENT = "—";
    /** Fixed notation inside [SMALL, LARGE), scientific outside: what a reader compares at a glance. */
    private static final double SMALL = 1e-3;
    private static final double LARGE = 1e6;
    /** Array labels longer than this are cut with an ellipsis in the top-samples table. */
    private static final int MAX_ARRAY_ITEMS = 6;

    private ReportFormat() {
    }

    /** A number as the page prints it; null is {@link #ABSENT}. */
    static String number(Double v) {
        if (v == null) {
            return ABSENT;
        }
        double x = v;
        if (Double.isNaN(x)) {
            return "NaN";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "Infinity" : "-Infinity";
        }
        if (x == 0) {
            return "0";
        }
        double a = Math.abs(x);
        String s;
        if (a >= SMALL && a < LARGE) {
            s = new java.math.BigDecimal(x).round(new java.math.MathContext(SIGNIFICANT_DIGITS))
                    .stripTrailingZeros().toPlainString();
        } else {
            s = String.format(Locale.ROOT, "%." + (SIGNIFICANT_DIGITS - 1) + "e", x);
            int e = s.indexOf('e');
            String mantissa = s.substring(0, e);
            if (mantissa.contains(".")) {
                mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
            }
            int exponent = Integer.parseInt(s.substring(e + 1));
            s = mantissa + "e" + exponent;
        }
        return s;
    }

    /** An integer-valued column; null is {@link #ABSENT}. */
    static String integer(Number v) {
        return v == null ? ABSENT : String.valueOf(v.longValue());
    }

    /** Any cell value: numbers through {@link #number}, arrays shortened, the rest as text. */
    static String value(Object v) {
        if (v == null) {
            return ABSENT;
        }
        if (v instanceof Double d) {
            return number(d);
        }
        if (v instanceof Float f) {
            return number(f.doubleValue());
        }
        if (v instanceof List<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < Math.min(list.size(), MAX_ARRAY_ITEMS); i++) {
                sb.append(i > 0 ? ", " : "").append(value(list.get(i)));
            }
            if (list.size() > MAX_ARRAY_ITEMS) {
                sb.append(", … (").append(list.size()).append(")");
            }
            return sb.append(']').toString();
        }
        return String.valueOf(v);
    }

    /** Seconds as "12.3 s" or "4 min 05 s". */
    static String duration(Double seconds) {
        if (seconds == null) {
            return ABSENT;
        }
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.1f s", seconds);
        }
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60)
                : String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
    }

    /** Text made safe for HTML element content and quoted attribute values. */
    static String escape(String s) {
        if (s == null) {
            return ABSENT;
        }
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** {@link #escape} of {@link #value}: a table cell. */
    static String cell(Object v) {
        return escape(value(v));
    }
}
