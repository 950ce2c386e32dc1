package org.qtale.adaptive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.tensor.VectorOps;

class AdaptiveTest {
    @Test
    void dLlmsInitialRouterExecutesWithProbabilityPoint87() {
        Router router = Router.initial(37, 16, 1e-5f);
        float[] x = new float[37];
        java.util.Arrays.fill(x, 0.3f);
        float gap = router.logitGap(x, 0, new float[16], VectorOps.laneScratch());
        assertEquals(1.9f, gap, 1e-6);
        assertEquals(0.8699, Router.probability(gap), 1e-4, "σ(2.0 − 0.1), papers.md §1.1");
    }

    @Test
    void routerMatchesAScalarReference() {
        int dim = 37;
        int width = 16;
        SplittableRandom random = new SplittableRandom(3);
        Router router = new Router(values(random, width * dim), values(random, width), values(random, width),
                values(random, 2 * width), values(random, 2), dim, 1e-5f);
        float[] x = values(random, 5 + dim);
        double[] h = new double[width];
        for (int i = 0; i < width; i++) {
            double s = router.b1()[i];
            for (int c = 0; c < dim; c++) {
                s += (double) router.w1()[i * dim + c] * x[5 + c];
            }
            h[i] = s;
        }
        double ss = 0;
        for (double v : h) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / width + 1e-5);
        double skip = router.b2()[0];
        double execute = router.b2()[1];
        for (int i = 0; i < width; i++) {
            double normed = h[i] * r * router.norm()[i];
            double silu = normed / (1 + Math.exp(-normed));
            skip += router.w2()[i] * silu;
            execute += router.w2()[width + i] * silu;
        }
        float gap = router.logitGap(x, 5, new float[width], VectorOps.laneScratch());
        assertEquals(execute - skip, gap, 1e-4);
    }

    @Test
    void thresholdsExecuteOnTiesAndRejectNonsense() {
        assertTrue(ExecutionPolicy.argmax().executes(2, 5, 0.5f), "D-LLM: p ≥ 0.5 executes");
        assertFalse(ExecutionPolicy.argmax().executes(2, 5, 0.4999f));
        assertTrue(ExecutionPolicy.threshold(0f).executes(2, 5, 0f));
        assertFalse(ExecutionPolicy.threshold(1f).executes(2, 5, 0.999f));
        assertTrue(ExecutionPolicy.dense().executes(2, 5, 0f));
        assertThrows(QtaleException.class, () -> ExecutionPolicy.threshold(1.5f));
        assertThrows(QtaleException.class, () -> ExecutionPolicy.threshold(Float.NaN));
    }

    @Test
    void aForcedRatioExecutesThatShareOfPairs() {
        ExecutionPolicy half = new ExecutionPolicy.Forced(0.5);
        int ran = 0;
        for (int position = 0; position < 200; position++) {
            for (int layer = 2; layer < 16; layer++) {
                ran += half.executes(layer, position, 0f) ? 1 : 0;
            }
        }
        assertEquals(0.5, ran / (200.0 * 14), 0.01);
        assertThrows(QtaleException.class, () -> new ExecutionPolicy.Forced(1.5));
    }

    @Test
    void routerPlacementDefaults() {
        assertEquals(512, RouterConfig.defaults(4096).width(), "D-LLM's 512 for d = 4096");
        assertEquals(16, RouterConfig.defaults(64).width(), "at least 16");
        RouterConfig c = RouterConfig.defaults(64);
        assertFalse(c.routed(1));
        assertTrue(c.routed(2));
    }

    @Test
    void traceRatiosOnAHandBuiltCase() {
        // 4 layers, routers from layer 2; token 0 runs all, token 1 skips layer 3, token 2 skips layers 2 and 3
        ExecutionTrace trace = new ExecutionTrace(4, 2);
        boolean[][] ran = {{true, true, true, true}, {true, true, true, false}, {true, true, false, false}};
        for (boolean[] token : ran) {
            int t = trace.addToken();
            for (int l = 0; l < 4; l++) {
                trace.record(t, l, token[l]);
            }
        }
        assertEquals(9.0 / 12, trace.executionRatio(false), 1e-12);
        assertEquals(3.0 / 6, trace.executionRatio(true), 1e-12);
        assertEquals(1.0, trace.layerRatio(0), 1e-12);
        assertEquals(2.0 / 3, trace.layerRatio(2), 1e-12);
        assertEquals(1.0 / 3, trace.layerRatio(3), 1e-12);
        assertEquals(0.5, trace.tokenRatio(2, false), 1e-12);
        assertEquals(0.0, trace.tokenRatio(2, true), 1e-12);
        assertEquals(3, trace.layersRun(1));
        assertEquals(3.0 / 12, trace.kvSavedRatio(), 1e-12);
    }

    private static float[] values(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextDouble() - 0.5);
        }
        return v;
    }
}
