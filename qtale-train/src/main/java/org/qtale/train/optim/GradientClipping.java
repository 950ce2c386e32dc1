package org.qtale.train.optim;

import java.util.List;
import org.qtale.train.nn.Param;

/** Rescales all gradients together so that their global L2 norm is at most a limit. */
public final class GradientClipping {
    private GradientClipping() {
    }

    /** The global L2 norm of the gradients. */
    public static double norm(List<Param> params) {
        double sum = 0;
        for (Param p : params) {
            for (float g : p.grad()) {
                sum += (double) g * g;
            }
        }
        return Math.sqrt(sum);
    }

    /** Clips to {@code maxNorm} (no-op when it is not positive) and returns the norm before clipping. */
    public static double clip(List<Param> params, double maxNorm) {
        double norm = norm(params);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            for (Param p : params) {
                float[] g = p.grad();
                for (int i = 0; i < g.length; i++) {
                    g[i] *= scale;
                }
            }
        }
        return norm;
    }
}
