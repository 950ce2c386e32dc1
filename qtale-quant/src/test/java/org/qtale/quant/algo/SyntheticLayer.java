package org.qtale.quant.algo;

import java.util.SplittableRandom;

/** Synthetic linear layers with known structure, and the output error the algorithms minimize. */
final class SyntheticLayer {
    private SyntheticLayer() {
    }

    /** Independent N(0, std²) entries. */
    static float[][] gaussian(int rows, int cols, double std, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] m = new float[rows][cols];
        for (float[] row : m) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) (std * normal(random));
            }
        }
        return m;
    }

    /** N(0, std²) weights where {@code outliersPerRow} random entries of every row are multiplied by {@code factor}. */
    static float[][] weightsWithOutliers(int rows, int cols, double std, int outliersPerRow, double factor,
            long seed) {
        float[][] w = gaussian(rows, cols, std, seed);
        SplittableRandom random = new SplittableRandom(seed + 1);
        for (float[] row : w) {
            for (int k = 0; k < outliersPerRow; k++) {
                row[random.nextInt(cols)] *= (float) factor;
            }
        }
        return w;
    }

    /**
     * Correlated calibration inputs {@code X = Z A + noise·N}: tokens drawn from a {@code rank}-dimensional subspace of
     * the {@code cols} inputs (Z, A, N standard normal), plus isotropic noise.
     */
    static float[][] lowRankInputs(int tokens, int cols, int rank, double noise, long seed) {
        float[][] z = gaussian(tokens, rank, 1, seed);
        float[][] a = gaussian(rank, cols, 1 / Math.sqrt(rank), seed + 1);
        float[][] n = gaussian(tokens, cols, noise, seed + 2);
        float[][] x = new float[tokens][cols];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                double s = n[t][c];
                for (int k = 0; k < rank; k++) {
                    s += z[t][k] * a[k][c];
                }
                x[t][c] = (float) s;
            }
        }
        return x;
    }

    /**
     * An LLM-like layer input: {@link #lowRankInputs} whose channels are scaled by log-normal factors
     * {@code exp(N(0, channelSigma²))}, so a few inputs dominate the Hessian diagonal.
     */
    static float[][] unevenLowRankInputs(int tokens, int cols, int rank, double noise, double channelSigma, long seed) {
        float[][] x = lowRankInputs(tokens, cols, rank, noise, seed);
        SplittableRandom random = new SplittableRandom(seed + 3);
        for (int c = 0; c < cols; c++) {
            scaleChannel(x, c, Math.exp(channelSigma * normal(random)));
        }
        return x;
    }

    /** Multiplies input channel {@code c} of every token by {@code factor}. */
    static void scaleChannel(float[][] x, int c, double factor) {
        for (float[] token : x) {
            token[c] *= (float) factor;
        }
    }

    /** The Hessian of {@code x} split into samples of {@code tokensPerSample} tokens. */
    static Hessian hessian(float[][] x, int tokensPerSample) {
        Hessian h = new Hessian(x[0].length);
        for (int from = 0; from < x.length; from += tokensPerSample) {
            int to = Math.min(x.length, from + tokensPerSample);
            float[][] sample = new float[to - from][];
            System.arraycopy(x, from, sample, 0, to - from);
            h.add(sample);
        }
        return h;
    }

    /** {@code ‖X Wᵀ − X Ŵᵀ‖_F / ‖X Wᵀ‖_F}. */
    static double relativeOutputError(float[][] x, float[][] w, float[][] approx) {
        double error = 0;
        double reference = 0;
        for (float[] token : x) {
            for (int r = 0; r < w.length; r++) {
                double y = 0;
                double yHat = 0;
                for (int c = 0; c < token.length; c++) {
                    y += (double) token[c] * w[r][c];
                    yHat += (double) token[c] * approx[r][c];
                }
                error += (y - yHat) * (y - yHat);
                reference += y * y;
            }
        }
        return Math.sqrt(error / reference);
    }

    static double maxAbs(float[] v, int from, int to) {
        double m = 0;
        for (int i = from; i < to; i++) {
            m = Math.max(m, Math.abs(v[i]));
        }
        return m;
    }

    static double normal(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
