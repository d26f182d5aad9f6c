package io.hessianatlas.common.nd4j;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The index convention of one layer's parameters {@code θ = [vec W; b]} (docs/design.md §1), the
 * only place where it is spelled out. For a layer with W {@code (n x m)} (n = fan-out, m = fan-in)
 * and b {@code (n)}, vec is column-major and the bias comes after the weights:
 * <pre>
 *   θ[j·n + i] = W[i][j]      0 ≤ i &lt; n, 0 ≤ j &lt; m
 *   θ[m·n + i] = b[i]         0 ≤ i &lt; n                      dimension d = (m+1) n
 * </pre>
 * Equivalently θ is the column-major vec of the augmented matrix W̃ = [W | b] {@code (n x (m+1))}:
 * index {@link #index(int, int) t = j·n + i} pairs the <em>input side</em> j (entry j of
 * ã = [a; 1], j = m being the bias) with the <em>output side</em> i (entry i of z, δ and Q). That
 * is why the θ-block is a Kronecker product with the input factor first:
 * {@code ((ã ãᵀ) ⊗ Q)[j·n + i, j'·n + i'] = ã_j ã_j' Q[i][i']}, and the same holds for
 * {@code A ⊗ G} (A {@code ((m+1) x (m+1))} on the input side, G {@code (n x n)} on the output side).
 *
 * <p>Parts of a θ-block H {@code (d x d)}: H_W = rows and columns {@code [0, m n)}, H_Wb = rows
 * {@code [0, m n)} x columns {@code [m n, d)}, H_b = rows and columns {@code [m n, d)}
 * ({@link #weightOffset()}, {@link #biasOffset()}, {@link #weightCount()}, {@link #biasCount()}).
 *
 * <p>The ND4J helpers move data between θ vectors and [W b] matrices; they only copy, so any
 * arithmetic done before or after them is unchanged. Instances are immutable.
 */
public final class ThetaIndex {
    private final int fanOut;
    private final int fanIn;

    private ThetaIndex(int fanOut, int fanIn) {
        this.fanOut = fanOut;
        this.fanIn = fanIn;
    }

    /**
     * The θ of a layer with W {@code (fanOut x fanIn)}.
     *
     * @throws IllegalArgumentException when fanOut &lt; 1 or fanIn &lt; 0 (naming the shape)
     */
    public static ThetaIndex forLayer(int fanOut, int fanIn) {
        if (fanOut < 1 || fanIn < 0) {
            throw new IllegalArgumentException("a layer's weight shape (" + fanOut + " x " + fanIn
                    + ") needs fan-out >= 1 and fan-in >= 0");
        }
        return new ThetaIndex(fanOut, fanIn);
    }

    /**
     * The θ order of {@code A ⊗ G} for factors A {@code (sizeA x sizeA)} (input side, sizeA = m + 1)
     * and G {@code (sizeG x sizeG)} (output side, sizeG = n).
     *
     * @throws IllegalArgumentException when a size is below 1 (naming both shapes)
     */
    public static ThetaIndex ofFactors(int sizeA, int sizeG) {
        if (sizeA < 1 || sizeG < 1) {
            throw new IllegalArgumentException("A (" + sizeA + " x " + sizeA + ") and G (" + sizeG + " x " + sizeG
                    + ") must be non-empty");
        }
        return new ThetaIndex(sizeG, sizeA - 1);
    }

    /** n, the fan-out: rows of W, size of z, δ, Q and G (the output side). */
    public int fanOut() {
        return fanOut;
    }

    /** m, the fan-in: columns of W. */
    public int fanIn() {
        return fanIn;
    }

    /** m + 1, the size of ã = [a; 1] and of A (the input side); columns of [W b]. */
    public int augmentedFanIn() {
        return fanIn + 1;
    }

    /** d = (m + 1) n, the number of parameters. */
    public long dimension() {
        return (long) (fanIn + 1) * fanOut;
    }

    /**
     * d as an int, for θ vectors and dense θ-blocks held in Java arrays or ND4J arrays.
     *
     * @throws ArithmeticException when d does not fit an int
     */
    public int denseDimension() {
        return Math.toIntExact(dimension());
    }

    /** θ index {@code j·n + i} of input side j ({@code 0 ≤ j ≤ m}, m = bias) and output side i ({@code 0 ≤ i < n}). */
    public int index(int j, int i) {
        return j * fanOut + i;
    }

    /** θ index of W[i][j]: {@code j·n + i}. */
    public int weight(int i, int j) {
        return index(j, i);
    }

    /** θ index of b[i]: {@code m·n + i}. */
    public int bias(int i) {
        return index(fanIn, i);
    }

    /** The input side j of θ index t: {@code t / n} (m for a bias entry). */
    public int inputSideOf(int t) {
        return t / fanOut;
    }

    /** The output side i of θ index t: {@code t % n}. */
    public int outputSideOf(int t) {
        return t % fanOut;
    }

    /** First θ index of vec W: 0. */
    public int weightOffset() {
        return 0;
    }

    /** Length of vec W: m n. */
    public int weightCount() {
        return fanIn * fanOut;
    }

    /** First θ index of b: m n. */
    public int biasOffset() {
        return bias(0);
    }

    /** Length of b: n. */
    public int biasCount() {
        return fanOut;
    }

    // ------------------------------------------------------------------------------------------
    // θ vectors <-> [W b] matrices (data movement only)
    // ------------------------------------------------------------------------------------------

    /**
     * θ of a [W b]-shaped matrix M {@code (n x (m+1))}: its column-major vec, {@code θ[j·n + i] = M[i][j]}
     * (for M = Σ δ ãᵀ this is the summed θ-gradient), as a float64 Java array of length d.
     */
    public double[] vec(INDArray matrix) {
        requireShape("[W b] matrix", matrix, fanOut, fanIn + 1);
        // the transpose read row-major is the column-major read of the matrix
        return matrix.transpose().dup('c').data().asDouble();
    }

    /**
     * The per-sample θ-gradients {@code ã_s ⊗ δ_s = θ of δ_s ã_sᵀ} as columns: ã {@code ((m+1) x B)},
     * δ {@code (n x B)} → {@code (d x B)}, entry {@code [j·n + i, s] = ã[j, s] δ[i, s]}.
     */
    public INDArray outerProductColumns(INDArray augmentedInputs, INDArray deltas) {
        requireRows("ã", augmentedInputs, fanIn + 1);
        requireRows("δ", deltas, fanOut);
        return BatchLayout.columnKron(augmentedInputs, deltas, 1);
    }

    /**
     * b θ vectors as stacked [W b] matrices: rows {@code offset .. offset + d − 1} of V {@code (D x b)}
     * (θ of this layer inside a longer vector, e.g. the whole network's, at {@code offset}) →
     * {@code (b n x (m+1))}, rows {@code c n .. c n + n − 1} the matrix of column c.
     */
    public INDArray matrices(INDArray v, long offset) {
        int b = (int) v.columns();
        int n = fanOut;
        int m1 = fanIn + 1;
        INDArray seg = v.get(NDArrayIndex.interval(offset, offset + (long) n * m1), NDArrayIndex.all()).dup('f');
        return seg.reshape('f', n, m1, b).permute(2, 0, 1).dup('c').reshape('c', (long) b * n, m1);
    }

    /** The inverse of {@link #matrices}: stacked [W b] matrices {@code (b n x (m+1))} → θ columns {@code (d x b)}. */
    public INDArray thetaColumns(INDArray stacked) {
        int n = fanOut;
        int m1 = fanIn + 1;
        int b = (int) (stacked.rows() / n);
        return stacked.reshape('c', b, n, m1).permute(1, 2, 0).dup('f').reshape('f', (long) n * m1, b);
    }

    /**
     * A θ-block from its "pair layout" R {@code ((m+1)² x n²)}, whose entry
     * {@code R[j (m+1) + j', i n + i']} belongs to input sides (j, j') and output sides (i, i') (the
     * layout in which {@code Σ_s vec(ã_s ã_sᵀ) vec(Q_s)ᵀ} is one GEMM), → H {@code (d x d)} row-major,
     * {@code H[j·n + i, j'·n + i'] = R[j (m+1) + j', i n + i']}.
     */
    public double[] fromPairLayout(INDArray pairs) {
        long m1 = fanIn + 1L;
        long n = fanOut;
        requireShape("pair-layout block", pairs, m1 * m1, n * n);
        return pairs.reshape('c', m1, m1, n, n).permute(0, 2, 1, 3).dup('c').data().asDouble();
    }

    private static void requireShape(String what, INDArray x, long rows, long cols) {
        if (x.rank() != 2 || x.rows() != rows || x.columns() != cols) {
            throw new IllegalArgumentException(what + " has shape " + java.util.Arrays.toString(x.shape())
                    + ", expected (" + rows + " x " + cols + ")");
        }
    }

    private static void requireRows(String what, INDArray x, long rows) {
        if (x.rank() != 2 || x.rows() != rows) {
            throw new IllegalArgumentException(what + " has shape " + java.util.Arrays.toString(x.shape())
                    + ", expected (" + rows + " x B)");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ThetaIndex && ((ThetaIndex) o).fanOut == fanOut && ((ThetaIndex) o).fanIn == fanIn;
    }

    @Override
    public int hashCode() {
        return 31 * fanOut + fanIn;
    }

    @Override
    public String toString() {
        return "θ = [vec W; b], W (" + fanOut + " x " + fanIn + "), d = " + dimension();
    }
}
