package io.hessianatlas.jobs.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The option defaults of {@code atlas analyze}: conf/atlas-defaults.properties (bundled in the jar),
 * overridden key by key by the file given with {@code --defaults FILE} ({@code --conf FILE}, its
 * deprecated name), served to picocli by its own
 * {@link CommandLine.PropertiesDefaultProvider}. Keys are option names without dashes ({@code top-k}),
 * optionally qualified by the command ({@code atlas.analyze.top-k}). Unlike picocli's provider, a key
 * that names no option is an error naming the file and line, and so is a value picocli cannot convert
 * ({@link #explain}).
 */
final class DefaultsFile {
    static final String BUNDLED = "/atlas-defaults.properties";
    private static final String COMMAND_PREFIX = "atlas.analyze.";

    /** Where a key was set: the file and its 1-based line. */
    record Origin(String file, int line) {
    }

    private final Properties values = new Properties();
    private final Map<String, Origin> origins = new LinkedHashMap<>();
    /** The option that named the file: --defaults, or its deprecated name --conf. */
    static final String OPTION = "--defaults";
    static final String DEPRECATED_OPTION = "--conf";

    private final Argument argument;

    /** The defaults file as given: the option used and the file. */
    record Argument(String option, String file) {
        boolean deprecated() {
            return option.equals(DEPRECATED_OPTION);
        }
    }

    private DefaultsFile(Argument argument) {
        this.argument = argument;
    }

    /**
     * @param argument the --defaults (or --conf) file, or null
     * @throws IllegalArgumentException naming the option and the file when it cannot be read; a
     *                                  --conf value of the form spark.KEY=VALUE is taken for the
     *                                  spark-submit habit it is, and the message says --spark-conf
     */
    static DefaultsFile load(Argument argument) {
        DefaultsFile d = new DefaultsFile(argument);
        String confFile = argument == null ? null : argument.file();
        try (InputStream in = DefaultsFile.class.getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IllegalStateException("the bundled defaults " + BUNDLED + " are missing from the jar");
            }
            d.read(new String(in.readAllBytes(), StandardCharsets.UTF_8), "the bundled " + BUNDLED.substring(1));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the bundled defaults " + BUNDLED + ": " + e.getMessage(), e);
        }
        if (confFile != null) {
            Path path = Path.of(confFile);
            if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
                if (argument.deprecated() && confFile.matches("spark\\.[^=\\s]+=.*")) {
                    throw new IllegalArgumentException("--conf: '" + confFile + "' is a Spark setting, not a file: pass it as "
                            + "--spark-conf " + confFile + " (--conf FILE is the old name of --defaults FILE)");
                }
                throw new IllegalArgumentException(argument.option() + ": " + confFile + " is not a readable file");
            }
            try {
                d.read(Files.readString(path, StandardCharsets.UTF_8), confFile);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(argument.option() + ": cannot read " + confFile + " as a properties file: "
                        + e.getMessage());
            }
        }
        return d;
    }

    /** Loads one file's keys over the current ones, remembering the line of each key. */
    private void read(String text, String file) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        List<String> lines = text.lines().toList();
        for (String key : p.stringPropertyNames()) {
            values.setProperty(key, p.getProperty(key));
            origins.put(key, new Origin(file, lineOf(lines, key)));
        }
    }

    /** The line that sets a key (properties syntax: key, then '=', ':' or blanks); 0 if not found. */
    private static int lineOf(List<String> lines, String key) {
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).stripLeading();
            if (l.startsWith(key) && (l.length() == key.length() || "=: \t".indexOf(l.charAt(key.length())) >= 0)) {
                return i + 1;
            }
        }
        return 0;
    }

    /** picocli's own provider over the merged values. */
    CommandLine.IDefaultValueProvider provider() {
        return new CommandLine.PropertiesDefaultProvider(values);
    }

    /** The defaults file given, or null. */
    Argument argument() {
        return argument;
    }

    /**
     * Every key must name an option of the command.
     *
     * @throws IllegalArgumentException "--defaults FILE: line N: unknown key 'mdoe' (did you mean 'mode'?)"
     */
    void validateKeys(CommandSpec command) {
        TreeSet<String> known = new TreeSet<>();
        for (OptionSpec o : command.options()) {
            known.add(key(o));
        }
        for (Map.Entry<String, Origin> e : origins.entrySet()) {
            String key = e.getKey().startsWith(COMMAND_PREFIX) ? e.getKey().substring(COMMAND_PREFIX.length()) : e.getKey();
            if (!known.contains(key)) {
                throw new IllegalArgumentException(where(e.getValue()) + ": unknown key '" + e.getKey() + "'"
                        + suggestion(key, known) + " (keys are option names of atlas analyze without dashes)");
            }
        }
    }

    /**
     * A conversion error of a default value, restated with the file and line that set it; null when the
     * failing option's value did not come from a defaults file.
     */
    String explain(CommandLine.ParameterException ex) {
        if (!(ex.getArgSpec() instanceof OptionSpec o)) {
            return null;
        }
        String key = key(o);
        // picocli's provider looks up the command-qualified key first
        String setKey = origins.containsKey(COMMAND_PREFIX + key) ? COMMAND_PREFIX + key : key;
        Origin origin = origins.get(setKey);
        if (origin == null) {
            return null;
        }
        String value = values.getProperty(setKey);
        if (ex.getValue() != null && !ex.getValue().equals(value)) {
            return null;   // the bad value came from the command line
        }
        return where(origin) + ": " + key + "=" + value + ": " + ex.getMessage();
    }

    private String where(Origin o) {
        String file = o.file().startsWith("the bundled ") ? o.file()
                : (argument == null ? OPTION : argument.option()) + " " + o.file();
        return file + (o.line() > 0 ? ": line " + o.line() : "");
    }

    /** An option's key: its longest name without dashes. */
    static String key(OptionSpec o) {
        return o.longestName().replaceFirst("^-+", "");
    }

    private static String suggestion(String key, TreeSet<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = editDistance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    /** Levenshtein distance, for the did-you-mean hint. */
    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * The defaults file in raw arguments ("--defaults F", "--defaults=F", or the deprecated --conf
     * forms), or null; the file must be known before picocli parses, since it supplies the defaults.
     */
    static Argument findArgument(String[] args) {
        for (int i = 0; i < args.length; i++) {
            for (String option : new String[] {OPTION, DEPRECATED_OPTION}) {
                if (args[i].equals(option) && i + 1 < args.length) {
                    return new Argument(option, args[i + 1]);
                }
                if (args[i].startsWith(option + "=")) {
                    return new Argument(option, args[i].substring(option.length() + 1));
                }
            }
        }
        return null;
    }
}
