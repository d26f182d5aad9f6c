package io.hessianatlas.jobs.cli;

import java.io.PrintWriter;
import java.util.Properties;

import io.hessianatlas.common.model.io.ModelFormatException;
import io.hessianatlas.common.nd4j.BlasSelfCheckException;
import io.hessianatlas.jobs.analyze.BuildVersions;
import io.hessianatlas.jobs.analyze.api.InputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code atlas}: the command-line entry point, for scripts/atlas locally and for spark-submit
 * ({@code --class io.hessianatlas.jobs.cli.AtlasCli}). Exit codes: 0 success, 2 bad usage or bad
 * input (one line on stderr naming the option, file, column or row), 3 a Lanczos spectrum did not
 * converge under --require-converged (tables written), 130 / 143 interrupted by SIGINT / SIGTERM
 * (one line, no output), 1 any other failure (a native
 * BLAS that fails its self-check among them: one line naming the routine, build, core type and
 * workaround).
 */
@Command(name = "atlas", mixinStandardHelpOptions = true, versionProvider = AtlasCli.Version.class,
        description = "Exact per-sample, per-layer curvature of feed-forward networks over whole datasets.",
        subcommands = {AnalyzeCommand.class})
public final class AtlasCli implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;
    /** --require-converged and a Lanczos spectrum did not converge (the tables are written). */
    public static final int EXIT_UNCONVERGED = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: analyze");
    }

    public static void main(String[] args) {
        BundledLogging.applyUnlessConfigured();
        Interruption.install(System.err);
        int code = execute(args);
        if (Interruption.requested()) {
            try {
                code = Interruption.awaitExitCode();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        System.exit(code);
    }

    /** Runs the CLI and returns its exit code (tests call this; main exits with it). */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli;
        DefaultsFile defaults;
        try {
            cli = new CommandLine(new AtlasCli());
            defaults = DefaultsFile.load(DefaultsFile.findArgument(args));
            if (defaults.argument() != null && defaults.argument().deprecated()) {
                err.println("warning: --conf FILE is deprecated, use --defaults FILE (Spark settings: --spark-conf KEY=VALUE)");
            }
            defaults.validateKeys(cli.getSubcommands().get("analyze").getCommandSpec());
            cli.setDefaultValueProvider(defaults.provider());
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return EXIT_USAGE;
        }
        cli.setOut(out);
        cli.setErr(err);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((ex, a) -> {
            String fromDefaults = defaults.explain(ex);
            err.println("error: " + (fromDefaults != null ? fromDefaults : ex.getMessage()));
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for the options.");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (Interruption.requested()) {
                return EXIT_FAILURE;          // the signal handler has said it and is ending the JVM
            }
            boolean verbose = parseResult.subcommand() != null && parseResult.subcommand().hasMatchedOption("--verbose");
            int code = isInputError(ex) ? EXIT_USAGE : EXIT_FAILURE;
            err.println("error: " + oneLine(ex));
            if (verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return code;
        });
        return cli.execute(args);
    }

    static boolean isInputError(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof InputException || t instanceof ModelFormatException || t instanceof IllegalArgumentException
                    && t.getClass() == IllegalArgumentException.class && t == ex) {
                return true;
            }
        }
        return false;
    }

    /**
     * The most specific message of the cause chain, on one line. A BLAS self-check failure on an
     * executor reaches the driver inside Spark's job-abort message (as the cause where Spark could
     * deserialize it, else as text): its own line is cut out of either.
     */
    static String oneLine(Throwable ex) {
        Throwable best = ex;
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof InputException || t instanceof ModelFormatException || t instanceof BlasSelfCheckException) {
                best = t;
                break;
            }
        }
        String msg = best.getMessage() == null ? best.getClass().getName() : best.getMessage();
        String marker = BlasSelfCheckException.class.getName() + ": ";
        int at = msg.indexOf(marker);
        if (at >= 0) {
            msg = msg.substring(at + marker.length());
        }
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }

    /** Version from the jar's build properties. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties p = BuildVersions.read();
            return new String[] {"atlas " + p.getProperty("version", "unknown"),
                "Spark " + p.getProperty("spark.version", "?") + ", ND4J " + p.getProperty("nd4j.version", "?")};
        }
    }
}
