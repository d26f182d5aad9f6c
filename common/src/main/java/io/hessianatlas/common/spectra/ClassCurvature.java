package io.hessianatlas.common.spectra;

import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.aggregate.LayerCurvatureSums;

/**
 * The curvature of one class's samples at one layer (or, layer 0, the whole network), from the
 * per-class sums of the pass ({@link CurvatureSums#ofClass}). With S_c the samples labelled c:
 * <pre>
 *   trace       (1/|S_c|) Σ_{s ∈ S_c} tr H_θ,s                    the mean per-sample θ-block trace
 *   lambdaMax   λ_max(H_c),  H_c = (1/|S_c|) Σ_{s ∈ S_c} H_θ,s      {@link Method#DENSE}: its dense block
 *               max_{i,j} λ_i(A_c) λ_j(G_c)                         {@link Method#KRONECKER}: of A_c ⊗ G_c
 *               max_l λ_max of layer l's row                        {@link Method#BLOCK_MAX} (layer 0)
 *   lambdaMaxA  λ_max(A_c),  A_c = mean ã ãᵀ over S_c   ((m+1) x (m+1))
 *   lambdaMaxG  λ_max(G_c),  G_c = mean Q over S_c      (n x n)
 * </pre>
 * For layer 0 the trace is the sum of the layers' traces (the network's exact trace) and λ_max the
 * largest block value: the λ_max of a principal block bounds the whole matrix's from below
 * (Cauchy interlacing), so with dense blocks it is a lower bound of the network's λ_max(H_c).
 *
 * @param classIndex the class (a class index, or 0/1 for binary cross-entropy)
 * @param layer      1-based layer, 0 = the whole network
 * @param samples    |S_c|
 * @param meanLoss   mean loss over S_c
 * @param accuracy   fraction of S_c predicted as c
 * @param lambdaMaxA null for layer 0
 * @param lambdaMaxG null for layer 0
 */
public record ClassCurvature(int classIndex, int layer, long samples, double meanLoss, double accuracy, double trace,
                             double lambdaMax, Method method, Double lambdaMaxA, Double lambdaMaxG) {

    /** How {@link #lambdaMax} was obtained. */
    public enum Method {
        /** the eigenvalues of the class's mean dense θ-block */
        DENSE,
        /** the largest eigenvalue of A_c ⊗ G_c (the block was over the per-class budget) */
        KRONECKER,
        /** layer 0: the largest of the layers' values */
        BLOCK_MAX;

        /** The name in the classes table. */
        public String columnValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One entry per class present in the sums and analysed layer, class-major, layers ascending,
     * and with {@code withNetwork} a layer-0 entry first for each class. Classes with no samples
     * have no entries.
     */
    public static List<ClassCurvature> of(CurvatureSums sums, boolean withNetwork) {
        List<ClassCurvature> out = new ArrayList<>();
        for (int c = 0; c < sums.classCount(); c++) {
            CurvatureSums cs = sums.ofClass(c);
            if (cs.count() == 0) {
                continue;
            }
            List<ClassCurvature> layers = new ArrayList<>();
            double networkTrace = 0;
            double networkLambda = Double.NEGATIVE_INFINITY;
            for (LayerCurvatureSums ls : cs.layers()) {
                ClassCurvature row = ofLayer(c, cs, ls);
                layers.add(row);
                networkTrace += row.trace();
                networkLambda = Math.max(networkLambda, row.lambdaMax());
            }
            if (withNetwork) {
                out.add(new ClassCurvature(c, 0, cs.count(), cs.meanLoss(), cs.accuracy(), networkTrace, networkLambda,
                        Method.BLOCK_MAX, null, null));
            }
            out.addAll(layers);
        }
        return out;
    }

    private static ClassCurvature ofLayer(int c, CurvatureSums cs, LayerCurvatureSums ls) {
        double[] a = DenseSymmetricSpectrum.eigenvalues(ls.meanA(), ls.theta().augmentedFanIn());
        double[] g = DenseSymmetricSpectrum.eigenvalues(ls.meanG(), ls.fanOut());
        double lambda;
        Method method;
        if (ls.hasDenseBlock()) {
            lambda = DenseSymmetricSpectrum.eigenvalues(ls.meanH(), ls.thetaDimension())[0];
            method = Method.DENSE;
        } else {
            lambda = largestKroneckerEigenvalue(a, g);
            method = Method.KRONECKER;
        }
        return new ClassCurvature(c, ls.layer(), cs.count(), cs.meanLoss(), cs.accuracy(), ls.meanTrace(), lambda, method,
                a[0], g[0]);
    }

    /**
     * max_{i,j} a_i g_j for eigenvalues sorted descending: an extreme pair, since a product is
     * largest at the ends of both ranges (G is indefinite in hessian mode).
     */
    static double largestKroneckerEigenvalue(double[] a, double[] g) {
        double aMax = a[0];
        double aMin = a[a.length - 1];
        double gMax = g[0];
        double gMin = g[g.length - 1];
        return Math.max(Math.max(aMax * gMax, aMin * gMax), Math.max(aMax * gMin, aMin * gMin));
    }
}
