package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;

class LInfinityProxTest {
    private static double[] randomVector(SplittableRandom random, int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = scale * SyntheticLayer.normal(random);
        }
        return v;
    }

    private static double l1(double[] v) {
        double s = 0;
        for (double x : v) {
            s += Math.abs(x);
        }
        return s;
    }

    private static double linf(double[] v) {
        double s = 0;
        for (double x : v) {
            s = Math.max(s, Math.abs(x));
        }
        return s;
    }

    private static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    /** The root τ ≥ 0 of {@code Σ (|v_i| − τ)₊ = target} by bisection (a decreasing function of τ). */
    private static double bisectShrinkage(double[] v, double target) {
        double lo = 0;
        double hi = linf(v);
        for (int i = 0; i < 200; i++) {
            double mid = (lo + hi) / 2;
            double s = 0;
            for (double x : v) {
                s += Math.max(Math.abs(x) - mid, 0);
            }
            if (s > target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    @Test
    void projectsHandComputedVectors() {
        // |v| sorted 3, 1, 0.5 with sums 3, 4, 4.5: only i = 1 has μ_i > (Σ − 1)/i, so θ = 2
        double[] v = {3, -1, 0.5};
        LInfinityProx.projectOntoL1Ball(v, 0, 3, 1);
        assertArrayEquals(new double[] {1, 0, 0}, v, 1e-15);
        // 0.8, 0.6, 0.2 with sums 0.8, 1.4, 1.6: ρ = 2, θ = 0.2
        double[] w = {0.8, 0.6, -0.2};
        LInfinityProx.projectOntoL1Ball(w, 0, 3, 1);
        assertArrayEquals(new double[] {0.6, 0.4, 0}, w, 1e-15);
        double[] inside = {0.25, -0.5, 0.125};
        LInfinityProx.projectOntoL1Ball(inside, 0, 3, 1);
        assertArrayEquals(new double[] {0.25, -0.5, 0.125}, inside);
    }

    @Test
    void projectionMatchesSoftThresholdingAtTheBisectedThreshold() {
        SplittableRandom random = new SplittableRandom(1);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(40);
            double radius = 0.1 + 3 * random.nextDouble();
            double[] v = randomVector(random, n, Math.exp(3 * random.nextDouble() - 1));
            double[] projected = v.clone();
            LInfinityProx.projectOntoL1Ball(projected, 0, n, radius);
            if (l1(v) <= radius) {
                assertArrayEquals(v, projected);
                continue;
            }
            double theta = bisectShrinkage(v, radius);
            for (int i = 0; i < n; i++) {
                double expected = Math.signum(v[i]) * Math.max(Math.abs(v[i]) - theta, 0);
                assertEquals(expected, projected[i], 1e-9 * (1 + linf(v)));
            }
            assertEquals(radius, l1(projected), 1e-9 * radius);
        }
    }

    @Test
    void projectionIsTheNearestPointOfTheBall() {
        SplittableRandom random = new SplittableRandom(2);
        for (int trial = 0; trial < 50; trial++) {
            double[] v = randomVector(random, 12, 2);
            double[] p = v.clone();
            LInfinityProx.projectOntoL1Ball(p, 0, v.length, 1);
            double best = distance(v, p);
            for (int k = 0; k < 200; k++) {
                double[] u = randomVector(random, 12, 1);
                double norm = l1(u);
                double radius = random.nextDouble();
                for (int i = 0; i < u.length; i++) {
                    u[i] = p[i] + 0.3 * (u[i] * radius / norm - p[i]);   // a feasible point near p
                }
                assertTrue(l1(u) <= 1 + 1e-12);
                assertTrue(distance(v, u) >= best - 1e-12);
            }
        }
    }

    @Test
    void proxClipsAtTheThresholdThatRemovesMassT() {
        SplittableRandom random = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(40);
            double[] v = randomVector(random, n, 1);
            double t = l1(v) * 1.2 * random.nextDouble();
            double[] prox = v.clone();
            LInfinityProx.prox(prox, 0, n, t);
            if (l1(v) <= t) {
                assertEquals(0, linf(prox), 1e-12);
                continue;
            }
            double tau = bisectShrinkage(v, t);
            for (int i = 0; i < n; i++) {
                assertEquals(Math.signum(v[i]) * Math.min(Math.abs(v[i]), tau), prox[i], 1e-9);
            }
        }
    }

    @Test
    void proxMinimizesTheRegularizedDistance() {
        SplittableRandom random = new SplittableRandom(4);
        double t = 0.7;
        for (int trial = 0; trial < 50; trial++) {
            double[] v = randomVector(random, 10, 1);
            double[] prox = v.clone();
            LInfinityProx.prox(prox, 0, v.length, t);
            double best = t * linf(prox) + 0.5 * Math.pow(distance(prox, v), 2);
            for (int k = 0; k < 200; k++) {
                double[] u = prox.clone();
                for (int i = 0; i < u.length; i++) {
                    u[i] += 0.05 * SyntheticLayer.normal(random);
                }
                assertTrue(t * linf(u) + 0.5 * Math.pow(distance(u, v), 2) >= best - 1e-12);
            }
        }
    }

    @Test
    void worksOnASliceOnly() {
        double[] v = {9, 3, -1, 0.5, 9};
        LInfinityProx.projectOntoL1Ball(v, 1, 4, 1);
        assertArrayEquals(new double[] {9, 1, 0, 0, 9}, v, 1e-15);
        assertThrows(QtaleException.class, () -> LInfinityProx.prox(v, 0, 5, 0));
    }
}
