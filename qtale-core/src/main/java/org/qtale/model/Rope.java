package org.qtale.model;

/** Rotary position embedding: the rotation angle of each pair of a head at a given position. */
public final class Rope {
    private final double[] frequencies;

    public Rope(LlamaConfig config) {
        this.frequencies = frequencies(config.headDim(), config.ropeTheta(), config.ropeScaling());
    }

    /** {@code θ_i = base^(-2i/d)}, rescaled per band when Llama 3 scaling is configured. */
    static double[] frequencies(int headDim, double base, LlamaConfig.RopeScaling scaling) {
        double[] f = new double[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(base, 2.0 * i / headDim);
            if (scaling != null) {
                f[i] = llama3Scaled(f[i], scaling);
            }
        }
        return f;
    }

    /**
     * Llama 3.x: long wavelengths are divided by {@code factor}, short ones kept, and the band between interpolated
     * smoothly.
     */
    static double llama3Scaled(double frequency, LlamaConfig.RopeScaling s) {
        double lowFreqWavelength = s.originalContextLength() / s.lowFreqFactor();
        double highFreqWavelength = s.originalContextLength() / s.highFreqFactor();
        double wavelength = 2 * Math.PI / frequency;
        if (wavelength < highFreqWavelength) {
            return frequency;
        }
        if (wavelength > lowFreqWavelength) {
            return frequency / s.factor();
        }
        double smooth = (s.originalContextLength() / wavelength - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * frequency / s.factor() + smooth * frequency;
    }

    /**
     * Fills the per-element tables {@link org.qtale.tensor.VectorOps#rope} reads, for {@code count} positions from
     * {@code start}, each {@code 2 · pairs} long.
     */
    public void tables(int start, int count, float[] cos, float[] sin) {
        int headDim = 2 * frequencies.length;
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < frequencies.length; i++) {
                double angle = (double) (start + t) * frequencies[i];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                int o = t * headDim + 2 * i;
                cos[o] = c;
                cos[o + 1] = c;
                sin[o] = -s;
                sin[o + 1] = s;
            }
        }
    }
}
