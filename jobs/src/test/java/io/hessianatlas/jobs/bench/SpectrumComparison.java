package io.hessianatlas.jobs.bench;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Compares the eigenvalues of H (matrix 'H' of the spectrum table) of two outputs rank by rank, per
 * layer present in both (a main for scripts/bench-spectra.sh's dense check of the small layer):
 * prints per layer the ranks compared, λ_max and max |λ_a − λ_b| / |λ_max|.
 *
 * <pre>SpectrumComparison OUT_A OUT_B</pre>
 */
public final class SpectrumComparison {
    private SpectrumComparison() {
    }

    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().appName("spectrum comparison").master("local[1]")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            Dataset<Row> a = eigenvalues(spark, args[0], "a");
            Dataset<Row> b = eigenvalues(spark, args[1], "b");
            for (Row r : a.join(b, new String[] {"layer", "rank"}).groupBy("layer")
                    .agg(functions.count("rank"), functions.max(functions.abs(functions.col("a"))).as("lmax"),
                            functions.max(functions.abs(functions.col("a").minus(functions.col("b")))).as("diff"))
                    .orderBy("layer").collectAsList()) {
                System.out.printf(java.util.Locale.ROOT, "layer %d: %d eigenvalues compared, lambda_max %.6g, "
                        + "max |difference| / lambda_max %.2e%n", r.getInt(0), r.getLong(1), r.getDouble(2),
                        r.getDouble(3) / r.getDouble(2));
            }
        } finally {
            spark.stop();
        }
    }

    private static Dataset<Row> eigenvalues(SparkSession spark, String out, String name) {
        return spark.read().parquet(out + "/spectrum").filter("matrix = 'H'")
                .select(functions.col("layer"), functions.col("rank"), functions.col("eigenvalue").as(name));
    }
}
