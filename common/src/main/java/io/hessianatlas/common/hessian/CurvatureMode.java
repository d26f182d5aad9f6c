package io.hessianatlas.common.hessian;

import java.util.Locale;

/**
 * Which curvature Q^l the engine propagates (docs/design.md §2).
 * <ul>
 *   <li>{@link #GGN}: the generalised Gauss-Newton Q^l = D W^T Q^{l+1} W D (for the three losses
 *       equal to the Fisher), positive semi-definite, carried as a square-root factor C with Q = C C^T.</li>
 *   <li>{@link #HESSIAN}: the exact Hessian, Q^l = D W^T Q^{l+1} W D + diag(f'' ⊙ W^T delta^{l+1}).</li>
 * </ul>
 */
public enum CurvatureMode {
    GGN, HESSIAN;

    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
