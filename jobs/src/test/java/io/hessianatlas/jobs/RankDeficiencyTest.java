package io.hessianatlas.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Rank-deficient curvature through the CLI (issue 5), both modes, dense spectra, and those marked
 * [L] also matrix-free: eigenvalues that are zero in theory stay within 1e-10·max|λ| of zero
 * (#{|λ| &gt; 1e-10·max|λ|} ≤ the rank bound of each layer); the other checks are listed in
 * {@link CurvatureEdgeCaseHarness}:
 * <ul>
 *   <li>{@code all_zero_inputs}: every input is 0 (ã^0 = e_bias);</li>
 *   <li>{@code width_one}: a hidden layer of width 1 (and a layer of fan-in 1), 4 samples;</li>
 *   <li>{@code fewer_samples}: 3 samples for blocks of 36 and 21 parameters;</li>
 *   <li>{@code duplicated_features}: two identical feature columns (A is singular);</li>
 *   <li>[L] {@code duplicated_samples}: 8 copies of one sample (the mean block is one sample's).</li>
 * </ul>
 */
class RankDeficiencyTest extends CurvatureEdgeCaseHarness {
    static List<Arguments> casesInBothModes() {
        return inBothModes(cases());
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        Loss softmax = Loss.SOFTMAX_CROSS_ENTROPY;
        {
            // every input 0: ã^0 = e_bias for all samples, identical hidden activations
            Random rnd = new Random(15);
            DenseLayer l1 = layer("fc1", 5, 4, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 3, 5, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("all_zero_inputs", new Network(List.of(l1, l2), softmax), false);
            for (int s = 0; s < 6; s++) {
                c.sample(new double[4], s % 3);
            }
            // H^1 = e eᵀ ⊗ G^1: rank(G^1) ≤ p − 1 (ggn: the same Q for all), ≤ n_1 (hessian);
            // H^2 = ã ãᵀ ⊗ mean Q^L (one ã): rank ≤ p − 1
            out.add(c.rank(1, 2, 5).rank(2, 2, 2));
        }
        {
            // a hidden layer of width 1 and a layer of fan-in 1; 4 samples
            Random rnd = new Random(17);
            DenseLayer l1 = layer("fc1", 1, 6, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 4, 1, rnd, 1.0, null, Activation.TANH);
            DenseLayer l3 = layer("fc3", 3, 4, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("width_one", new Network(List.of(l1, l2, l3), softmax), false);
            for (int s = 0; s < 4; s++) {
                c.sample(gaussian(rnd, 6), s % 3);
            }
            // per sample: rank(ã ãᵀ ⊗ Q) = rank Q; Q^1 is 1 x 1, Q^3 (softmax) has rank ≤ 2
            out.add(c.rank(1, 4, 4).rank(3, 8, 8));
        }
        {
            // fewer samples than parameters: 3 samples, blocks of 36 and 21
            Random rnd = new Random(18);
            DenseLayer l1 = layer("fc1", 6, 5, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 3, 6, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("fewer_samples", new Network(List.of(l1, l2), softmax), false);
            for (int s = 0; s < 3; s++) {
                c.sample(gaussian(rnd, 5), s);
            }
            // Σ_s rank Q_s: ggn ≤ 3·(p−1), hessian ≤ 3·n_1 at layer 1; ≤ 3·(p−1) at the output layer
            out.add(c.rank(1, 6, 18).rank(2, 6, 6));
        }
        {
            // duplicated feature columns: x_0 = x_1, so A^1 is singular (rank ≤ 5 of 6)
            Random rnd = new Random(19);
            DenseLayer l1 = layer("fc1", 6, 5, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 3, 6, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("duplicated_features", new Network(List.of(l1, l2), softmax), false);
            for (int s = 0; s < 12; s++) {
                double[] x = gaussian(rnd, 5);
                x[1] = x[0];
                c.sample(x, s % 3);
            }
            // layer 1: rank(A)·n_1 = 30 (and ggn Σ rank Q_s ≤ 24); output layer: 7·(p−1) = 14
            out.add(c.rank(1, 24, 30).rank(2, 14, 14));
        }
        {
            // 8 copies of one sample: the mean block is one sample's block, rank ≤ rank Q
            Random rnd = new Random(20);
            DenseLayer l1 = layer("fc1", 6, 5, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 3, 6, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("duplicated_samples", new Network(List.of(l1, l2), softmax), true);
            double[] x = gaussian(rnd, 5);
            for (int s = 0; s < 8; s++) {
                c.sample(x.clone(), 2);
            }
            out.add(c.rank(1, 2, 6).rank(2, 2, 2));
        }
        return out;
    }
}
