package io.hessianatlas.jobs.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.hessianatlas.common.testing.OracleCase;
import org.apache.spark.sql.SparkSession;

/**
 * Golden outputs for refactors that must not change a bit ({@code scripts/golden.sh}): {@code record
 * DIR} runs `analyze` in process on every oracle case with four option sets (GGN and exact Hessian
 * with dense spectra, F, eigenvectors, densities and the whole network; matrix-free Lanczos;
 * float32 Kronecker) into DIR/&lt;case&gt;-&lt;variant&gt;; {@code compare A B} compares every table of
 * every run folder of A with B's bit for bit ({@link OutputTables#assertBitIdentical}) and exits 1
 * on any difference. run.json is not compared (it holds timings).
 */
public final class GoldenOutputs {
    static final String[][] VARIANTS = {
        {"ggn-dense", "--mode", "ggn", "--empirical-fisher", "--eigenvectors", "2", "--density", "--network",
            "--batch-size", "3", "--density-steps", "6", "--density-probes", "2"},
        {"hessian-dense", "--mode", "hessian", "--empirical-fisher", "--eigenvectors", "2", "--density", "--network",
            "--batch-size", "3", "--density-steps", "6", "--density-probes", "2"},
        {"ggn-lanczos", "--mode", "ggn", "--spectrum", "lanczos", "--top-k", "2", "--eigenvectors", "2",
            "--batch-size", "5"},
        {"hessian-float32", "--mode", "hessian", "--precision", "float32", "--spectrum", "kronecker"},
    };

    private GoldenOutputs() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 2 && args[0].equals("record")) {
            System.exit(record(Path.of(args[1])));
        } else if (args.length == 3 && args[0].equals("compare")) {
            System.exit(compare(Path.of(args[1]), Path.of(args[2])));
        }
        System.err.println("usage: GoldenOutputs record DIR | compare DIR_A DIR_B");
        System.exit(2);
    }

    static int record(Path dir) throws IOException {
        SparkSession spark = SparkTestSession.start(GoldenOutputs.class.getSimpleName());
        try {
            Path inputs = Files.createDirectories(dir.resolve("_inputs"));
            for (String c : OracleCase.CASES) {
                Path in = OracleInputs.materialize(c, inputs);
                for (String[] v : VARIANTS) {
                    List<String> cli = new ArrayList<>(List.of("analyze", "--model", in.resolve("model").toString(),
                            "--data", in.resolve("data.jsonl").toString(), "--format", "json",
                            "--out", dir.resolve(c + "-" + v[0]).toString(), "--overwrite"));
                    cli.addAll(List.of(v).subList(1, v.length));
                    CliRun run = CliRun.of(cli.toArray(new String[0]));
                    System.out.println(c + "-" + v[0] + ": exit " + run.exitCode);
                    if (run.exitCode != 0) {
                        System.err.println(run);
                        return 1;
                    }
                }
            }
            return 0;
        } finally {
            SparkTestSession.stop(spark);
        }
    }

    static int compare(Path a, Path b) throws IOException {
        SparkSession spark = SparkTestSession.start(GoldenOutputs.class.getSimpleName());
        int differences = 0;
        int tables = 0;
        try (Stream<Path> runs = Files.list(a)) {
            OutputTables reader = new OutputTables(spark);
            for (Path run : runs.filter(p -> Files.isRegularFile(p.resolve("_SUCCESS"))).sorted().toList()) {
                Path other = b.resolve(run.getFileName().toString());
                if (!Files.isRegularFile(other.resolve("_SUCCESS"))) {
                    differences++;
                    System.out.println("DIFF " + run.getFileName() + ": no finished run of that name in " + b);
                    continue;
                }
                for (String table : OutputTables.present(run)) {
                    tables++;
                    try {
                        reader.assertBitIdentical(table, run, other);
                    } catch (AssertionError | RuntimeException e) {
                        differences++;
                        System.out.println("DIFF " + run.getFileName() + "/" + table + ": " + e.getMessage());
                    }
                }
                if (!OutputTables.present(run).equals(OutputTables.present(other))) {
                    differences++;
                    System.out.println("DIFF " + run.getFileName() + ": tables " + OutputTables.present(run) + " vs "
                            + OutputTables.present(other));
                }
            }
        } finally {
            SparkTestSession.stop(spark);
        }
        System.out.println(tables + " tables compared, " + differences + " difference(s)");
        return differences == 0 ? 0 : 1;
    }
}
