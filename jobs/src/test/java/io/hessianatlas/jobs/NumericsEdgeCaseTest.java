package io.hessianatlas.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Numerical edge cases of saturation and vanishing curvature through the CLI (issue 5), both modes,
 * dense spectra, and those marked [L] also matrix-free; what is checked is listed in
 * {@link CurvatureEdgeCaseHarness}:
 * <ul>
 *   <li>{@code softmax_logits_1e3_confident}: one layer with weights 1000·I, logits ±1e3 with gaps of
 *       40 to 700 between the two largest (1 − a_max below the rounding of a_max);</li>
 *   <li>{@code bce_logits_1e3}: the same for multi-label sigmoid BCE, logits ±20 to ±1000;</li>
 *   <li>{@code softmax_logits_1e3}: a tanh network whose output weights are scaled so that the largest
 *       |logit| is 1000;</li>
 *   <li>[L] {@code softmax_saturated_exact}: logits (1000, −1000, 0) and correct labels: softmax is
 *       exactly one-hot, Q^L and δ^L vanish, and so do every H, gradient and factor G;</li>
 *   <li>{@code bce_saturated_wrong_labels}: BCE with logits ±1000, half the labels wrong: Q^L = 0
 *       (H^L = 0 in both modes, every H = 0 in ggn) but δ^L ≠ 0, so the exact Hessian of the tanh
 *       layer below is non-zero (its f'' residual) and indefinite;</li>
 *   <li>{@code sigmoid_hidden_saturated}: a hidden sigmoid layer with pre-activations of ±1e3;</li>
 *   <li>[L] {@code sigmoid_hidden_deeply_saturated}: pre-activations near −250: the layer's GGN
 *       block is ≈ 1e-218 (Lanczos vectors' squared entries underflow);</li>
 *   <li>[L] {@code dead_relu}: a ReLU layer with biases −100 (all activations 0): H = 0 exactly for
 *       it and the layer below; the network's spectrum is the output layer's.</li>
 * </ul>
 */
class NumericsEdgeCaseTest extends CurvatureEdgeCaseHarness {
    static List<Arguments> casesInBothModes() {
        return inBothModes(cases());
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        Loss softmax = Loss.SOFTMAX_CROSS_ENTROPY;
        {
            // logits of ±1e3 (weights 1000·I) and confident predictions: gaps of 40 to 700 between the
            // two largest logits, so that 1 − a_max is below the rounding of a_max (< 1e-16)
            DenseLayer l1 = new DenseLayer("fc1", 3, 3, new double[] {1000, 0, 0, 0, 1000, 0, 0, 0, 1000}, null,
                    Activation.IDENTITY);
            Case c = new Case("softmax_logits_1e3_confident", new Network(List.of(l1), softmax), false);
            double[] gaps = {40, 60, 100, 300, 700};
            for (int s = 0; s < gaps.length; s++) {
                double[] x = {1, 1 - gaps[s] / 1000, -1};
                double[] rotated = {x[s % 3], x[(s + 1) % 3], x[(s + 2) % 3]};
                c.sample(rotated, s % 2 == 0 ? (3 - s % 3) % 3 : (4 - s % 3) % 3);
            }
            // softmax shift invariance: ã ⊗ 1 is a null vector of every sample's block (4 of 12)
            out.add(c.rank(1, 8, 8));
        }
        {
            // sigmoid BCE with logits of ±20 to ±1000 (weights 1000·I), right and wrong labels
            DenseLayer l1 = new DenseLayer("fc1", 3, 3, new double[] {1000, 0, 0, 0, 1000, 0, 0, 0, 1000}, null,
                    Activation.IDENTITY);
            Case c = new Case("bce_logits_1e3", new Network(List.of(l1), Loss.SIGMOID_BINARY_CROSS_ENTROPY), false);
            c.sample(new double[] {0.02, -0.03, 0.036}, new double[] {1, 0, 1});
            c.sample(new double[] {0.03, 0.036, -0.02}, new double[] {1, 1, 1});
            c.sample(new double[] {-0.036, 0.02, 0.005}, new double[] {0, 1, 0});
            c.sample(new double[] {1, -1, 0.025}, new double[] {1, 0, 0});
            out.add(c);
        }
        {
            // logits of ±1e3: the output layer scaled so that the largest |logit| over the data is 1000
            Random rnd = new Random(11);
            DenseLayer l1 = layer("fc1", 5, 4, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 3, 5, rnd, 1.0, null, Activation.IDENTITY);
            List<double[]> xs = new ArrayList<>();
            for (int s = 0; s < 10; s++) {
                xs.add(gaussian(rnd, 4));
            }
            xs.add(new double[4]);
            double maxLogit = 0;
            Network probe = new Network(List.of(l1, l2), softmax);
            for (double[] x : xs) {
                for (double z : logits(probe, x)) {
                    maxLogit = Math.max(maxLogit, Math.abs(z));
                }
            }
            Case c = new Case("softmax_logits_1e3", new Network(List.of(l1, scaled(l2, 1000.0 / maxLogit)), softmax),
                    false);
            for (double[] x : xs) {
                c.sample(x, rnd.nextInt(3));
            }
            // softmax shift invariance: ã ⊗ 1 is in the null space of every sample's output-layer block
            out.add(c.rank(2, 6 * 2, 6 * 2));
        }
        {
            // exactly saturated softmax with correct labels: every curvature and gradient vanishes
            Random rnd = new Random(12);
            DenseLayer l1 = layer("fc1", 5, 4, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 3, 5, rnd, 0.01, new double[] {1000, -1000, 0}, Activation.IDENTITY);
            Case c = new Case("softmax_saturated_exact", new Network(List.of(l1, l2), softmax), true);
            for (int s = 0; s < 6; s++) {
                c.sample(gaussian(rnd, 4), 0);
            }
            c.sample(new double[4], 0);
            out.add(c.vanishing(Set.of(1, 2), Set.of(1, 2)));
        }
        {
            // sigmoid BCE, logits ±1000 (Q^L = 0), wrong labels (δ^L ≠ 0)
            Random rnd = new Random(13);
            DenseLayer l1 = layer("fc1", 5, 4, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 3, 5, rnd, 0.01, new double[] {1000, -1000, 1000}, Activation.IDENTITY);
            Case c = new Case("bce_saturated_wrong_labels",
                    new Network(List.of(l1, l2), Loss.SIGMOID_BINARY_CROSS_ENTROPY), false);
            for (int s = 0; s < 8; s++) {
                c.sample(gaussian(rnd, 4), s % 2 == 0 ? new double[] {1, 0, 1} : new double[] {0, 1, 0});
            }
            out.add(c.vanishing(Set.of(1, 2), Set.of(2)));
        }
        {
            // hidden sigmoid with pre-activations of ±1e3 (f' and f'' vanish or underflow)
            Random rnd = new Random(14);
            DenseLayer l1 = layer("fc1", 6, 4, rnd, 1000.0, null, Activation.SIGMOID);
            DenseLayer l2 = layer("fc2", 3, 6, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("sigmoid_hidden_saturated", new Network(List.of(l1, l2), softmax), false);
            for (int s = 0; s < 10; s++) {
                c.sample(gaussian(rnd, 4), rnd.nextInt(3));
            }
            c.sample(new double[4], 1);
            out.add(c.rank(2, 7 * 2, 7 * 2));
        }
        {
            // a hidden sigmoid layer saturated at pre-activations near −250: f' ≈ e^-250 ≈ 1e-109, so the
            // GGN block of that layer is ≈ 1e-218 (squares of its entries underflow), its exact Hessian ≈ 1e-109
            Random rnd = new Random(21);
            DenseLayer l1 = layer("fc1", 4, 3, rnd, 1.0, fill(4, -250), Activation.SIGMOID);
            DenseLayer l2 = layer("fc2", 3, 4, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("sigmoid_hidden_deeply_saturated", new Network(List.of(l1, l2), softmax), true);
            for (int s = 0; s < 6; s++) {
                c.sample(gaussian(rnd, 3), s % 3);
            }
            out.add(c.rank(2, 5 * 2, 5 * 2));
        }
        {
            // dead ReLU layer 2 (biases −100): H^1 = H^2 = 0 exactly, layer 3 sees ã = e_bias
            Random rnd = new Random(16);
            DenseLayer l1 = layer("fc1", 6, 4, rnd, 1.0, null, Activation.TANH);
            DenseLayer l2 = layer("fc2", 5, 6, rnd, 1.0, fill(5, -100), Activation.RELU);
            DenseLayer l3 = layer("fc3", 3, 5, rnd, 1.0, null, Activation.IDENTITY);
            Case c = new Case("dead_relu", new Network(List.of(l1, l2, l3), softmax), true);
            for (int s = 0; s < 8; s++) {
                c.sample(gaussian(rnd, 4), s % 3);
            }
            out.add(c.vanishing(Set.of(1, 2), Set.of(1, 2)).rank(3, 2, 2));
        }
        return out;
    }
}
