package io.hessianatlas.common.testing;

import java.util.Random;

import io.hessianatlas.common.nd4j.ThetaIndex;

/** Small dense helpers for the linalg tests (row-major double[] throughout; deliberately naive). */
public final class LinalgTestSupport {

    private LinalgTestSupport() {
    }

    /** Random symmetric (n x n) with N(0,1) entries on and below the diagonal. */
    public static double[] randomSymmetric(int n, Random rnd) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double v = rnd.nextGaussian();
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
        return a;
    }

    /** Random (rows x cols) with N(0,1) entries. */
    public static double[] randomMatrix(int rows, int cols, Random rnd) {
        double[] a = new double[rows * cols];
        for (int k = 0; k < a.length; k++) {
            a[k] = rnd.nextGaussian();
        }
        return a;
    }

    /** Random PSD (n x n) = C C^T / p with C (n x p). */
    public static double[] randomPsd(int n, int p, Random rnd) {
        double[] c = randomMatrix(n, p, rnd);
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < p; k++) {
                    s += c[i * p + k] * c[j * p + k];
                }
                out[i * n + j] = s / p;
            }
        }
        return out;
    }

    /** Random orthogonal (n x n) by modified Gram-Schmidt on a Gaussian matrix (columns orthonormal). */
    public static double[] randomOrthogonal(int n, Random rnd) {
        double[] q = randomMatrix(n, n, rnd);
        for (int c = 0; c < n; c++) {
            for (int p = 0; p < c; p++) {
                double dot = 0;
                for (int r = 0; r < n; r++) {
                    dot += q[r * n + c] * q[r * n + p];
                }
                for (int r = 0; r < n; r++) {
                    q[r * n + c] -= dot * q[r * n + p];
                }
            }
            double norm = 0;
            for (int r = 0; r < n; r++) {
                norm += q[r * n + c] * q[r * n + c];
            }
            norm = Math.sqrt(norm);
            for (int r = 0; r < n; r++) {
                q[r * n + c] /= norm;
            }
        }
        return q;
    }

    /** Q diag(d) Q^T. */
    public static double[] withSpectrum(double[] q, double[] d) {
        int n = d.length;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += q[i * n + k] * d[k] * q[j * n + k];
                }
                a[i * n + j] = s;
            }
        }
        return a;
    }

    /** Explicit kron(A, G), A (m x m), G (n x n): entry [t(j, i)][t(j', i')] = A[j][j'] G[i][i'] (θ order). */
    public static double[] kron(double[] a, int m, double[] g, int n) {
        ThetaIndex theta = ThetaIndex.ofFactors(m, n);
        int dim = theta.denseDimension();
        double[] k = new double[dim * dim];
        for (int j = 0; j < m; j++) {
            for (int j2 = 0; j2 < m; j2++) {
                for (int i = 0; i < n; i++) {
                    for (int i2 = 0; i2 < n; i2++) {
                        k[theta.index(j, i) * dim + theta.index(j2, i2)] = a[j * m + j2] * g[i * n + i2];
                    }
                }
            }
        }
        return k;
    }

    /** Explicit kron of two vectors: entry [t(j, i)] = x[j] y[i] (θ order). */
    public static double[] kronVector(double[] x, double[] y) {
        ThetaIndex theta = ThetaIndex.ofFactors(x.length, y.length);
        double[] out = new double[theta.denseDimension()];
        for (int j = 0; j < x.length; j++) {
            for (int i = 0; i < y.length; i++) {
                out[theta.index(j, i)] = x[j] * y[i];
            }
        }
        return out;
    }

    /** Column c of a row-major (rows x cols) array. */
    public static double[] column(double[] a, int rows, int cols, int c) {
        double[] v = new double[rows];
        for (int r = 0; r < rows; r++) {
            v[r] = a[r * cols + c];
        }
        return v;
    }

    /** ||A x - lambda x||_2 for a row-major (n x n) A. */
    public static double residual(double[] a, int n, double[] x, double lambda) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double ax = 0;
            for (int j = 0; j < n; j++) {
                ax += a[i * n + j] * x[j];
            }
            double r = ax - lambda * x[i];
            s += r * r;
        }
        return Math.sqrt(s);
    }

    public static double norm2(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    public static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    public static double[] scaled(double[] x, double s) {
        double[] y = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            y[k] = x[k] * s;
        }
        return y;
    }

    public static double[] reversed(double[] x) {
        double[] y = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            y[k] = x[x.length - 1 - k];
        }
        return y;
    }

    /** Naive sqrt(sum x^2) (fine for moderate magnitudes). */
    public static double frobeniusNaive(double[] x) {
        return norm2(x);
    }
}
