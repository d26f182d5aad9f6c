package io.hessianatlas.jobs.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import picocli.CommandLine;

/**
 * picocli default values from conf/atlas-defaults.properties (bundled in the jar), overridden by
 * the file given with {@code --conf FILE}. Keys are option names without the leading dashes.
 */
final class ConfDefaults implements CommandLine.IDefaultValueProvider {
    static final String BUNDLED = "/atlas-defaults.properties";

    private final Properties values;

    private ConfDefaults(Properties values) {
        this.values = values;
    }

    /**
     * @param confFile the --conf file, or null
     * @throws CommandLine.ParameterException-like IllegalArgumentException when the file cannot be read
     */
    static ConfDefaults load(String confFile) {
        Properties p = new Properties();
        try (InputStream in = ConfDefaults.class.getResourceAsStream(BUNDLED)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the bundled defaults " + BUNDLED + ": " + e.getMessage(), e);
        }
        if (confFile != null) {
            Path path = Path.of(confFile);
            if (!Files.isRegularFile(path)) {
                throw new IllegalArgumentException("--conf: " + confFile + " is not a readable file");
            }
            try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                Properties user = new Properties();
                user.load(r);
                p.putAll(user);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("--conf: cannot read " + confFile + " as a properties file: "
                        + e.getMessage());
            }
        }
        return new ConfDefaults(p);
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec argSpec) {
        if (!argSpec.isOption()) {
            return null;
        }
        String name = ((CommandLine.Model.OptionSpec) argSpec).longestName().replaceFirst("^--", "");
        return values.getProperty(name);
    }

    /** The value of --conf in raw arguments (both "--conf F" and "--conf=F"), or null. */
    static String findConfArgument(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--conf") && i + 1 < args.length) {
                return args[i + 1];
            }
            if (args[i].startsWith("--conf=")) {
                return args[i].substring("--conf=".length());
            }
        }
        return null;
    }
}
