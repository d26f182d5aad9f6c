package io.hessianatlas.common.testing;

import io.hessianatlas.common.nd4j.ThetaIndex;

/**
 * Dense per-sample layer blocks (docs/design.md §2), for tests and small layers only: with
 * ã = [a; 1] of length m+1 and Q {@code (n x n)}, the θ-block is
 * <pre>
 *   H_θ = (ã ãᵀ) ⊗ Q          ((m+1)n x (m+1)n),  H_θ[t(j, i), t(j', i')] = ã_j ã_j' Q[i][i']
 *   H_W  = (a aᵀ) ⊗ Q          (mn x mn)           the leading block
 *   H_Wb = a ⊗ Q               (mn x n)            the top-right block
 *   H_b  = Q                   (n x n)             the trailing block
 * </pre>
 * with t and the block offsets from {@link ThetaIndex}. All matrices are row-major double[].
 */
public final class ThetaBlocks {
    private ThetaBlocks() {
    }

    /** (ã ãᵀ) ⊗ Q, row-major ((m+1)n)², written entry by entry as the definition says. */
    public static double[] thetaBlock(double[] augmentedInput, double[] q, int n) {
        if (q.length != n * n) {
            throw new IllegalArgumentException("Q has " + q.length + " entries, expected (" + n + " x " + n + ")");
        }
        ThetaIndex theta = ThetaIndex.forLayer(n, augmentedInput.length - 1);
        int m1 = theta.augmentedFanIn();
        int d = theta.denseDimension();
        double[] h = new double[d * d];
        for (int j = 0; j < m1; j++) {
            for (int i = 0; i < n; i++) {
                int row = theta.index(j, i);
                for (int jp = 0; jp < m1; jp++) {
                    double aa = augmentedInput[j] * augmentedInput[jp];
                    for (int ip = 0; ip < n; ip++) {
                        h[row * d + theta.index(jp, ip)] = aa * q[i * n + ip];
                    }
                }
            }
        }
        return h;
    }

    /** H_W of a θ-block H {@code (d x d)}: rows and columns of vec W, {@code (mn x mn)}. */
    public static double[] weightBlock(double[] h, ThetaIndex theta) {
        return subBlock(h, theta.denseDimension(), theta.weightOffset(), theta.weightOffset(),
                theta.weightCount(), theta.weightCount());
    }

    /** H_Wb of a θ-block H: rows of vec W, columns of b, {@code (mn x n)}. */
    public static double[] weightBiasBlock(double[] h, ThetaIndex theta) {
        return subBlock(h, theta.denseDimension(), theta.weightOffset(), theta.biasOffset(),
                theta.weightCount(), theta.biasCount());
    }

    /** H_b of a θ-block H: rows and columns of b, {@code (n x n)}. */
    public static double[] biasBlock(double[] h, ThetaIndex theta) {
        return subBlock(h, theta.denseDimension(), theta.biasOffset(), theta.biasOffset(),
                theta.biasCount(), theta.biasCount());
    }

    /** The (rows x cols) sub-block of a row-major (d x d) matrix starting at (r0, c0). */
    public static double[] subBlock(double[] matrix, int d, int r0, int c0, int rows, int cols) {
        double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(matrix, (r0 + r) * d + c0, out, r * cols, cols);
        }
        return out;
    }
}
